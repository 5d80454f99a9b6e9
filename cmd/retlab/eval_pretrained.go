package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/retlab/retlab/display"
	"github.com/retlab/retlab/retnet/bench"
	"github.com/retlab/retlab/retnet/hf"
)

// PretrainedEval is `retlab eval --model`'s record: one model's perplexity
// on one text, with what it was measured on.
type PretrainedEval struct {
	hf.PerplexityResult
	Model     string `json:"model"`      // as given (hub name or directory)
	Revision  string `json:"revision"`   // snapshot directory name (the commit) or the directory
	ModelType string `json:"model_type"` // retnet, transformer, llama
	Params    int64  `json:"params"`
	DType     string `json:"dtype"`
	Data      string `json:"data"`
	DataBytes int    `json:"data_bytes"`
	Machine   string `json:"machine"`
	Date      string `json:"date"`
}

// evalPretrained scores each model on the text of dataPath, tokenized by
// its own tokenizer. Ctrl-C stops at once and reports the windows done.
func evalPretrained(models []string, dataPath string, seqLen, batch int, maxTokens int64, asJSON bool, stdout, stderr io.Writer) error {
	if dataPath == "" {
		return fmt.Errorf("--data is required with --model: a text file to score (the notebook's default is notebooks/data/eval.txt)")
	}
	text, err := os.ReadFile(dataPath)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var recs []PretrainedEval
	for _, name := range models {
		name = strings.TrimSpace(name)
		m, err := loadPretrained(name, stderr)
		if err != nil {
			return err
		}
		ids, err := m.Encode(string(text))
		if err != nil {
			m.Close()
			return err
		}
		if maxTokens > 0 && int64(len(ids)) > maxTokens+1 {
			ids = ids[:maxTokens+1]
		}
		bar := display.NewProgress(len(ids)-1, "eval "+name)
		bar.SetUnit("tok")
		res, err := m.Perplexity(ctx, ids, seqLen, batch, func(done, _ int64) { bar.Set(int(done)) })
		bar.Close()
		if err != nil && res.Tokens == 0 {
			m.Close()
			return err
		}
		rec := PretrainedEval{PerplexityResult: res, Model: name, Revision: filepath.Base(m.Dir), ModelType: m.Config.ModelType,
			Params: m.Config.Params(), DType: m.DType(), Data: dataPath, DataBytes: len(text), Machine: bench.Machine(), Date: time.Now().UTC().Format(time.RFC3339)}
		m.Close()
		recs = append(recs, rec)
		if !asJSON {
			fmt.Fprintf(stdout, "%s (%s, %.2fB params): loss %.4f nats/token, perplexity %.3f (%d tokens, T=%d, %.1f tokens/s)\n",
				name, rec.ModelType, float64(rec.Params)/1e9, res.Loss, res.Perplexity, res.Tokens, seqLen, res.TokensPerSec)
		}
		if err != nil {
			fmt.Fprintf(stderr, "retlab eval: interrupted after %d tokens\n", res.Tokens)
			break
		}
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if len(recs) == 1 {
			return enc.Encode(recs[0])
		}
		return enc.Encode(recs)
	}
	return nil
}
