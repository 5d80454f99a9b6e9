package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/retlab/retlab/retnet"
)

func init() {
	register("logits", command{"run a checkpoint on tokens; print logits and next-token NLL as JSON", runLogits})
}

// runLogits: targets are tokens[1:], logits are those of inputs tokens[:-1].
func runLogits(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("logits", stderr)
	ckpt := fs.String("checkpoint", "", "safetensors checkpoint (torchscale names)")
	tokens := fs.String("tokens", "", "comma-separated token ids, at least 2")
	formName := fs.String("form", "parallel", "retention form: parallel, recurrent or chunkwise")
	chunk := fs.Int("chunk", retnet.DefaultChunk, "chunk size of the chunkwise form (capped at the sequence length)")
	act := fs.String("activation", "swish", "FFN activation: swish or gelu (default: the checkpoint's config, else swish)")
	noScale := fs.Bool("no-embed-scale", false, "do not scale embeddings by sqrt(D) (default: the checkpoint's config, else scaled)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *ckpt == "" {
		return fmt.Errorf("--checkpoint is required")
	}
	form, err := retnet.ParseForm(*formName)
	if err != nil {
		return err
	}
	if *chunk < 1 {
		return fmt.Errorf("--chunk %d: must be >= 1", *chunk)
	}
	ids, err := parseTokens(*tokens)
	if err != nil {
		return err
	}
	if len(ids) < 2 {
		return fmt.Errorf("--tokens needs at least 2 ids (inputs tokens[:-1], targets tokens[1:]), got %d", len(ids))
	}
	var opt retnet.LoadOptions
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "activation":
			opt.Activation = *act
		case "no-embed-scale":
			opt.NoEmbedScale = noScale
		}
	})
	if opt.Activation != "" && opt.Activation != "swish" && opt.Activation != "gelu" {
		return fmt.Errorf("--activation %q: want swish or gelu", opt.Activation)
	}
	m, err := retnet.Load(*ckpt, opt)
	if err != nil {
		return err
	}
	for _, w := range m.Config.Warnings() {
		fmt.Fprintf(stderr, "retlab logits: warning: %s\n", w)
	}
	all := make([]int32, len(ids))
	for i, v := range ids {
		all[i] = int32(min(v, 1<<30))
	}
	if err := m.Config.CheckTokens(all); err != nil {
		return err
	}
	in := ids[:len(ids)-1]
	logits, err := m.Logits([][]int{in}, form, *chunk)
	if err != nil {
		return err
	}
	V := m.Config.Vocab
	targets := make([]int32, len(in))
	for i := range targets {
		targets[i] = int32(ids[i+1])
	}
	nll := retnet.NLL(logits, targets, V)
	var sum float64
	for _, v := range nll {
		sum += v
	}
	out := struct {
		Logits  [][]float32 `json:"logits"`
		NLL     []float64   `json:"nll"`
		MeanNLL float64     `json:"mean_nll"`
		PPL     float64     `json:"ppl"`
	}{NLL: nll, MeanNLL: sum / float64(len(nll))}
	out.PPL = math.Exp(out.MeanNLL)
	for i := range in {
		out.Logits = append(out.Logits, logits[i*V:(i+1)*V])
	}
	return json.NewEncoder(stdout).Encode(out)
}

// parseTokens parses "3,1,4,1" into ids, naming the bad entry on error.
func parseTokens(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("--tokens is required (e.g. --tokens 3,1,4,1)")
	}
	parts := strings.Split(s, ",")
	ids := make([]int, len(parts))
	for i, p := range parts {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || v < 0 {
			return nil, fmt.Errorf("--tokens entry %d (%q) is not a non-negative integer", i, p)
		}
		ids[i] = v
	}
	return ids, nil
}
