package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/retlab/retlab/display"
	"github.com/retlab/retlab/internal/human"
	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/retnet/bench"
	"github.com/retlab/retlab/retnet/load"
	"github.com/retlab/retlab/retnet/train"
)

// `retlab eval` scores any checkpoint one way: load.Open opens it (a RetLab
// or torchscale safetensors file, a Hugging Face model directory or hub
// name), its text is turned into the model's tokens (evalTokens), and
// retnet.Perplexity scores them, the scorer the trainer validates with.

func init() {
	register("eval", command{"loss and perplexity of checkpoints of any kind (JSON with --json)", runEval})
}

// evalRecord is `retlab eval`'s record of one checkpoint, whatever wrote
// it: a retnet.PerplexityPoint (what viz.PerplexityVsSize draws) plus how,
// on what and where it was measured.
type evalRecord struct {
	retnet.PerplexityPoint
	EvalTokens  int64   `json:"eval_tokens"`
	SeqLen      int     `json:"seq_len"`
	BitsPerByte float64 `json:"bits_per_byte"` // the tokens' total loss in bits over the bytes of the text they spell
	Data        string  `json:"data"`
	Checkpoint  string  `json:"checkpoint"` // as given: a file, a model directory or a hub name
	// Added with the Hugging Face models; filled for every checkpoint.
	ModelType    string  `json:"model_type"`         // config.json's model_type (retnet, transformer, llama), else the kind
	Revision     string  `json:"revision,omitempty"` // a Hugging Face model's snapshot directory (the commit)
	Params       int64   `json:"params"`
	DType        string  `json:"dtype"`
	DataBytes    int     `json:"data_bytes"` // bytes of the text the tokens were taken from
	TokensPerSec float64 `json:"tokens_per_s"`
	Machine      string  `json:"machine"`
	Date         string  `json:"date"`
	label        string  // the text line's: model type, and ladder size when trained here
}

// evalOptions are eval's flags, as given.
type evalOptions struct {
	data          string
	set           map[string]bool // the flags given
	valPct        int
	seqLen, batch int
	maxTokens     int64
	stderr        io.Writer // where opening is reported
}

func runEval(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", stderr)
	ckpt := fs.String("checkpoint", "", "checkpoints, comma-separated (several give a JSON array): retlab train's DIR/checkpoint.safetensors, a torchscale RetNet, a Hugging Face model directory or hub name (e.g. fla-hub/retnet-1.3B-100B)")
	models := fs.String("model", "", "more checkpoints, comma-separated, read as --checkpoint's (the name the other commands give pretrained models)")
	dataPath := fs.String("data", "", "text file or directory: byte-level models score its validation split, models with their own tokenizer.json all of it (default: the data the checkpoint was trained on, else the Go standard library; required for a model with a tokenizer)")
	valPct := intFlag(fs, "val-percent", 5, 1, 50, "validation share, as in training (byte-level models)")
	seqLen := intFlag(fs, "seq-len", 0, 1, 1<<16, "tokens per window (default: the training seq_len, else 512 for a model with a tokenizer, else 256)")
	batch := intFlag(fs, "batch", 8, 1, 4096, "windows per forward pass")
	maxTokens := int64Flag(fs, "max-tokens", 131072, 0, 1<<40, "tokens to score (0: all)")
	asJSON := fs.Bool("json", false, "print a JSON record (retnet.PerplexityPoint plus eval fields)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := requireModel(*ckpt, *models); err != nil {
		return err
	}
	opt := evalOptions{data: *dataPath, set: map[string]bool{}, valPct: *valPct, seqLen: *seqLen, batch: *batch, maxTokens: *maxTokens, stderr: stderr}
	fs.Visit(func(f *flag.Flag) { opt.set[f.Name] = true })
	var names []string
	for _, list := range []string{*ckpt, *models} {
		for _, name := range strings.Split(list, ",") {
			if name = strings.TrimSpace(name); name != "" {
				names = append(names, name)
			}
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var recs []evalRecord
	for _, name := range names {
		rec, err := evalOne(ctx, name, opt)
		if err != nil && rec.EvalTokens == 0 {
			return err
		}
		recs = append(recs, rec)
		if !*asJSON {
			fmt.Fprintf(stdout, "%s (%s, %s params): loss %.4f nats/token, perplexity %.3f, %.3f bits/byte (%d tokens, T=%d, %s; %.1f tokens/s)\n",
				name, rec.label, human.Count(rec.Params), rec.ValLoss, rec.Perplexity, rec.BitsPerByte, rec.EvalTokens, rec.SeqLen, rec.Data, rec.TokensPerSec)
		}
		if err != nil {
			fmt.Fprintf(stderr, "retlab eval: interrupted after %d tokens of %s\n", rec.EvalTokens, name)
			break
		}
	}
	if !*asJSON {
		return nil
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if len(recs) == 1 {
		return enc.Encode(recs[0])
	}
	return enc.Encode(recs)
}

// evalOne scores one checkpoint. A RetLab checkpoint's training state
// supplies the defaults of --data and --seq-len and its record's size and
// tokens trained. When ctx is cancelled mid-way it returns the windows
// scored so far with ctx's error.
func evalOne(ctx context.Context, name string, opt evalOptions) (evalRecord, error) {
	t0 := time.Now()
	m, f, err := load.Open(name)
	if err != nil {
		return evalRecord{}, err
	}
	defer m.Close()
	info := load.Describe(m)
	fmt.Fprintf(opt.stderr, "retlab: %s opened in %v (%s, %s params, %s weights)\n", name, time.Since(t0).Round(time.Millisecond), info.ModelType, human.Count(info.Params.Total), info.DType)
	var st *train.State
	if f != nil {
		if st, err = train.StateOf(f); err != nil {
			return evalRecord{}, err
		}
	}
	rec := evalRecord{PerplexityPoint: retnet.PerplexityPoint{Model: m.Kind(), Size: info.Size, NonEmbeddingParams: info.Params.NonEmbedding, Source: "measured"},
		Checkpoint: name, ModelType: info.ModelType, Revision: info.Revision, Params: info.Params.Total, DType: info.DType, Machine: bench.Machine(), label: info.ModelType}
	path, T := opt.data, 256
	if info.Tokenizer {
		T = 512
	}
	if st != nil {
		if !opt.set["data"] {
			path = st.DataPath
		}
		T = st.Config.SeqLen
		rec.Size, rec.TokensTrained = st.Config.Size, st.Tokens
		rec.label += " " + st.Config.Size
		if lm, ok := m.(retnet.LanguageModel); ok {
			train.SetForm(lm, st.Config.RetNetForm)
		}
	}
	if opt.set["seq-len"] {
		T = opt.seqLen
	}
	if T < 1 {
		return evalRecord{}, fmt.Errorf("--seq-len %d must be >= 1", T)
	}
	if err := checkTokensPerStep(opt.batch, T); err != nil {
		return evalRecord{}, err
	}
	ids, data, err := evalTokens(m, info, path, T, opt)
	if err != nil {
		return evalRecord{}, err
	}
	bar := display.NewProgress(len(ids)-1, "eval "+name)
	bar.SetUnit("tok")
	res, err := retnet.Perplexity(ctx, m, ids, T, opt.batch, func(done, _ int64) { bar.Set(int(done)) })
	bar.Close()
	if err != nil && res.Tokens == 0 {
		return evalRecord{}, fmt.Errorf("%s: %w", name, err)
	}
	if math.IsNaN(res.Loss) {
		return evalRecord{}, fmt.Errorf("%s: the loss is NaN", name)
	}
	text, derr := load.Decode(m, ids[1:res.Tokens+1]) // the predicted tokens
	if derr != nil {
		return evalRecord{}, derr
	}
	rec.ValLoss, rec.Perplexity, rec.EvalTokens, rec.SeqLen, rec.TokensPerSec = res.Loss, res.Perplexity, res.Tokens, T, res.TokensPerSec
	rec.BitsPerByte = res.Loss / math.Ln2 * float64(res.Tokens) / float64(max(1, len(text))) // bits per token for byte tokens
	rec.Data, rec.DataBytes, rec.Date = data.source, data.bytes, time.Now().UTC().Format(time.RFC3339)
	return rec, err
}

// evalText is what a checkpoint was scored on.
type evalText struct {
	source string // what was read (train.Dataset.Source)
	bytes  int    // of the text the tokens come from
}

// evalTokens returns the tokens to score m on and where they come from. A
// byte-level model (RetLab's, torchscale's) is scored as its trainer
// validates: the validation split of the corpus at path (its training data
// by default, else the Go standard library) in whole windows of T+1 bytes
// (train.Dataset.ValTokens). A model with its own tokenizer was not trained
// on such a split: it is scored on all of the text at path, encoded by its
// tokenizer (load.Encode), the first maxTokens+1 tokens.
func evalTokens(m retnet.Inference, info load.Info, path string, T int, opt evalOptions) ([]int, evalText, error) {
	if info.Tokenizer && path == "" {
		return nil, evalText{}, fmt.Errorf("--data is required for a model with its own tokenizer: a text file or directory to score (the notebook's default is notebooks/data/eval.txt)")
	}
	data, err := train.LoadDataset(train.DataOptions{Path: path, ValPercent: opt.valPct})
	if err != nil {
		return nil, evalText{}, err
	}
	if !info.Tokenizer {
		ids, err := data.ValTokens(T, opt.maxTokens)
		return ids, evalText{data.Source, len(data.Val)}, err
	}
	text := append(data.Train[:len(data.Train):len(data.Train)], data.Val...) // all of it: a file's bytes in order, a directory's files
	ids, _, err := load.Encode(m, string(text))
	if err != nil {
		return nil, evalText{}, err
	}
	if opt.maxTokens > 0 && int64(len(ids)) > opt.maxTokens+1 {
		ids = ids[:opt.maxTokens+1]
	}
	if len(ids) < 2 {
		return nil, evalText{}, fmt.Errorf("%s encodes to %d tokens: too little text to score", data.Source, len(ids))
	}
	return ids, evalText{data.Source, len(text)}, nil
}
