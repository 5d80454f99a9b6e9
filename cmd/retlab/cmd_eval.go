package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/retnet/train"
)

func init() {
	register("eval", command{"validation loss and perplexity of a checkpoint (JSON with --json)", runEval})
}

// evalRecord is a retnet.PerplexityPoint plus how it was measured.
type evalRecord struct {
	retnet.PerplexityPoint
	EvalTokens  int64   `json:"eval_tokens"`
	SeqLen      int     `json:"seq_len"`
	BitsPerByte float64 `json:"bits_per_byte"`
	Data        string  `json:"data"`
	Checkpoint  string  `json:"checkpoint"`
}

func runEval(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", stderr)
	ckpt := fs.String("checkpoint", "", "checkpoint (this or --model): retlab train's DIR/checkpoint.safetensors, or any RetNet/Transformer checkpoint; several, comma-separated, give a JSON array")
	models := fs.String("model", "", "pretrained models, comma-separated: hub names in the Hugging Face cache (e.g. fla-hub/retnet-1.3B-100B) or model directories; --data is tokenized with each model's tokenizer.json")
	dataPath := fs.String("data", "", "text file or directory (default: the data the checkpoint was trained on, else the Go standard library)")
	valPct := intFlag(fs, "val-percent", 5, 1, 50, "validation share, as in training")
	seqLen := intFlag(fs, "seq-len", 0, 1, 1<<16, "tokens per window (default: the training seq_len, else 256)")
	batch := intFlag(fs, "batch", 8, 1, 4096, "windows per forward pass")
	maxTokens := int64Flag(fs, "max-tokens", 131072, 0, 1<<40, "validation tokens to score (0: the whole split)")
	asJSON := fs.Bool("json", false, "print a JSON record (retnet.PerplexityPoint plus eval fields)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := requireModel(*ckpt, *models); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *models != "" || isHFModel(strings.Split(*ckpt, ",")[0]) {
		names := *models
		if names == "" {
			names = *ckpt
		}
		T := *seqLen
		if T == 0 {
			T = 512
		}
		return evalPretrained(strings.Split(names, ","), *dataPath, T, *batch, *maxTokens, *asJSON, stdout, stderr)
	}
	var recs []evalRecord
	for _, path := range strings.Split(*ckpt, ",") {
		rec, err := evalOne(strings.TrimSpace(path), *dataPath, set, *valPct, *seqLen, *batch, *maxTokens)
		if err != nil {
			return err
		}
		if !*asJSON {
			fmt.Fprintf(stdout, "%s %s: validation loss %.4f nats/token, perplexity %.3f, %.3f bits/byte (%d tokens, T=%d, %s)\n",
				rec.Model, rec.Size, rec.ValLoss, rec.Perplexity, rec.BitsPerByte, rec.EvalTokens, rec.SeqLen, rec.Data)
		}
		recs = append(recs, rec)
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

// evalOne scores one checkpoint; data and seq_len default to its training run's.
func evalOne(ckpt, dataPath string, set map[string]bool, valPct, seqLen, batch int, maxTokens int64) (evalRecord, error) {
	model, f, err := retnet.LoadLanguageModel(ckpt)
	if err != nil {
		return evalRecord{}, err
	}
	st, err := train.StateOf(f)
	if err != nil {
		return evalRecord{}, err
	}
	path, T := dataPath, 256
	rec := evalRecord{PerplexityPoint: retnet.PerplexityPoint{Model: model.Kind(), NonEmbeddingParams: model.Counts().NonEmbedding, Source: "measured"}, Checkpoint: ckpt}
	if st != nil {
		if !set["data"] {
			path = st.DataPath
		}
		T = st.Config.SeqLen
		rec.Size, rec.TokensTrained = st.Config.Size, st.Tokens
		train.SetForm(model, st.Config.RetNetForm)
	}
	if set["seq-len"] {
		T = seqLen
	}
	if T < 1 || batch < 1 {
		return evalRecord{}, fmt.Errorf("--seq-len %d and --batch %d must be >= 1", T, batch)
	}
	if err := checkTokensPerStep(batch, T); err != nil {
		return evalRecord{}, err
	}
	data, err := train.LoadDataset(train.DataOptions{Path: path, ValPercent: valPct})
	if err != nil {
		return evalRecord{}, err
	}
	res, err := train.Evaluate(model, data, batch, T, maxTokens)
	if err != nil {
		return evalRecord{}, fmt.Errorf("%s: %w", ckpt, err)
	}
	rec.ValLoss, rec.Perplexity, rec.EvalTokens, rec.SeqLen, rec.BitsPerByte, rec.Data = res.Loss, res.Perplexity, res.Tokens, res.SeqLen, res.BitsPerTok, data.Source
	return rec, nil
}
