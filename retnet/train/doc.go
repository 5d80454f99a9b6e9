// Package train trains and evaluates the language models of package retnet
// (RetNet and the Transformer baseline, through retnet.LanguageModel) on
// byte-level text.
//
// Where each concept lives:
//
//	data.go      Dataset: a text corpus (default: the Go standard library's
//	             sources) split into training and validation files; seeded
//	             random training windows, fixed validation windows (ValTokens)
//	optim.go     AdamW over the flat parameter slice, the warm-up + cosine
//	             Schedule, ClipGradNorm
//	eval.go      Evaluate: mean next-token loss, perplexity, bits per byte of
//	             the validation windows, scored by retnet.Perplexity
//	train.go     Config (FromRecipe for a ladder rung), Trainer (New, Resume,
//	             Run), State stored in checkpoints, the JSON-lines log
//	progress.go  the Sinks a Trainer reports to: TextProgress (lines),
//	             DisplayProgress (a notebook or terminal progress bar),
//	             NoProgress
//
// A run is a function of its Config, seed, initial weights and data: a run
// resumed from its checkpoint reproduces the losses of an uninterrupted one
// bit for bit.
//
//	data, _ := train.LoadDataset(train.DataOptions{Path: "corpus/"})
//	model, _ := retnet.NewLanguageModel(cfg, 1)
//	tr, _ := train.New(model, data, train.Config{Steps: 1000}, "runs/a")
//	res, err := tr.Run(ctx) // checkpoint + log.jsonl in runs/a
//
// Run stops at once when ctx is cancelled or display.Interrupted (the
// notebook's stop button), saving a checkpoint, and returns an error
// wrapping display.ErrInterrupted.
//
// Imports: retnet (the models), display (progress, interrupt), internal
// helpers. Nothing in retnet imports this package.
package train
