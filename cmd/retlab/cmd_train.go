package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/retlab/retlab/display"
	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/retnet/train"
)

func init() {
	register("train", command{"train a RetNet or Transformer LM (--model, --size, --steps, --out; --resume)", runTrain})
}

// runTrain wires Ctrl-C (and SIGTERM) to the trainer: it finishes the
// current step, saves a checkpoint and the process exits with 130. A second
// Ctrl-C while it saves kills the process at once (the checkpoint write is
// atomic, so the previous checkpoint survives).
func runTrain(args []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			select {
			case <-done:
				return // the deferred stop() on return, not a signal
			default:
			}
			stop() // restore the default action for a second signal
			fmt.Fprintln(stderr, "interrupt: finishing this step and saving a checkpoint (again to quit at once)")
		case <-done:
		}
	}()
	return trainMain(ctx, args, stdout, stderr)
}

func trainMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	_, rc, _ := retnet.LadderModel(retnet.KindRetNet, "s") // every rung's recipe has the same cadence, for the help text
	fs := newFlags("train", stderr)
	kind := fs.String("model", "retnet", "architecture: retnet or transformer")
	size := fs.String("size", "s", "ladder rung (retlab sizes): "+fmt.Sprint(retnet.LadderNames()))
	out := fs.String("out", "", "output directory: checkpoint.safetensors, log.jsonl (required)")
	resume := fs.Bool("resume", false, "continue the run in --out from its checkpoint (same losses as an uninterrupted run)")
	dataPath := fs.String("data", "", "text file or directory (default: the Go standard library sources)")
	valPct := intFlag(fs, "val-percent", 5, 1, 50, "share of the data held out for validation")
	steps := intFlag(fs, "steps", 0, 1, 1e8, fmt.Sprintf("optimizer steps (default: the rung's recipe, %d; with --resume: extend the run to N)", rc.Steps))
	batch := intFlag(fs, "batch", 0, 1, 4096, "sequences per step (default: recipe)")
	seqLen := intFlag(fs, "seq-len", 0, 1, 1<<16, "tokens per sequence (default: recipe)")
	lr := floatFlag(fs, "lr", 0, 1e-12, 10, "peak learning rate (default: recipe)")
	minLR := floatFlag(fs, "min-lr", 0, 0, 10, "final learning rate of the cosine (default lr/10)")
	warmup := intFlag(fs, "warmup", 0, 1, 1e8, fmt.Sprintf("warm-up steps (default: the recipe's %d; with --steps N: min(100, N/10))", rc.Warmup))
	wd := floatFlag(fs, "weight-decay", train.DefaultAdamW.WeightDecay, 0, 10, "AdamW decoupled weight decay")
	clip := floatFlag(fs, "grad-clip", 1, -1, 1e9, "gradient norm clip (<= 0: off)")
	seed := fs.Uint64("seed", 1, "seed of the weights and the batches")
	evalEvery := intFlag(fs, "eval-every", 0, 1, 1e8, fmt.Sprintf("validate every N steps and at the end (default: the recipe's %d; with --steps N: N/10)", rc.EvalEvery))
	evalTokens := int64Flag(fs, "eval-tokens", 0, 1, 1<<40, "validation tokens per evaluation (default: recipe)")
	ckptEvery := intFlag(fs, "checkpoint-every", 0, 1, 1e8, fmt.Sprintf("checkpoint every N steps and at the end (default: the recipe's %d; with --steps N: N/5)", rc.CheckpointEvery))
	form := fs.String("retnet-form", "parallel", "RetNet training form: parallel or chunkwise")
	every := fs.Duration("progress-every", 2*time.Second, "progress line interval")
	asJSON := fs.Bool("json", false, "print the result as JSON on stdout")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("--out DIR is required")
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	ckptPath := filepath.Join(*out, train.CheckpointFile)
	progress := &train.TextProgress{W: stderr, Every: *every}

	var tr *train.Trainer
	if *resume {
		f, err := retnet.ReadSafetensors(ckptPath)
		if err != nil {
			return fmt.Errorf("--resume: %w", err)
		}
		st, err := train.StateOf(f)
		if err != nil {
			return err
		}
		if st == nil {
			return fmt.Errorf("--resume: %s was not written by retlab train (no training state)", ckptPath)
		}
		path := st.DataPath
		if set["data"] {
			path = *dataPath
		}
		data, err := train.LoadDataset(train.DataOptions{Path: path, ValPercent: *valPct})
		if err != nil {
			return err
		}
		if tr, err = train.Resume(ckptPath, data, *out, *steps); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "resuming %s %s at step %d of %d\n", tr.Model.Kind(), tr.Config.Size, tr.Step, tr.Config.Steps)
	} else {
		if _, err := os.Stat(ckptPath); err == nil {
			return fmt.Errorf("%s already holds a checkpoint: pass --resume to continue it, or choose another --out", *out)
		}
		mc, recipe, err := retnet.LadderModel(*kind, *size)
		if err != nil {
			return err
		}
		cfg := train.FromRecipe(recipe)
		override := func(name string, dst *int, v int) {
			if set[name] {
				*dst = v
			}
		}
		if set["steps"] {
			// The recipe's warm-up and cadence are for its own step count;
			// with another one they are derived from it (Config.WithDefaults).
			cfg.Warmup, cfg.EvalEvery, cfg.CheckpointEvery = 0, 0, 0
		}
		override("steps", &cfg.Steps, *steps)
		override("batch", &cfg.Batch, *batch)
		override("seq-len", &cfg.SeqLen, *seqLen)
		override("warmup", &cfg.Warmup, *warmup)
		override("eval-every", &cfg.EvalEvery, *evalEvery)
		override("checkpoint-every", &cfg.CheckpointEvery, *ckptEvery)
		if err := checkTokensPerStep(cfg.Batch, cfg.SeqLen); err != nil {
			return err
		}
		if set["lr"] {
			cfg.LR = *lr
		}
		cfg.MinLR, cfg.Seed, cfg.GradClip = *minLR, *seed, *clip
		if cfg.GradClip <= 0 {
			cfg.GradClip = -1
		}
		if set["eval-tokens"] {
			cfg.EvalTokens = *evalTokens
		}
		cfg.AdamW = train.DefaultAdamW
		cfg.AdamW.WeightDecay = *wd
		if *kind == retnet.KindRetNet {
			cfg.RetNetForm = *form
		}
		data, err := train.LoadDataset(train.DataOptions{Path: *dataPath, ValPercent: *valPct})
		if err != nil {
			return err
		}
		model, err := retnet.NewLanguageModel(mc, cfg.Seed)
		if err != nil {
			return err
		}
		if tr, err = train.New(model, data, cfg, *out); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "%v\n", mc)
		fmt.Fprintf(stderr, "data: %s\n", data)
		c := tr.Config
		fmt.Fprintf(stderr, "training %d steps of %dx%d tokens, lr %.3g -> %.3g (warm-up %d), AdamW wd %g, clip %g, seed %d -> %s\n",
			c.Steps, c.Batch, c.SeqLen, c.LR, c.MinLR, c.Warmup, c.AdamW.WeightDecay, c.GradClip, c.Seed, *out)
	}
	tr.Progress = progress
	res, err := tr.Run(ctx)
	if err != nil && !errors.Is(err, display.ErrInterrupted) {
		return err
	}
	if *asJSON && res != nil {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if e := enc.Encode(res); e != nil {
			return e
		}
	}
	return err
}
