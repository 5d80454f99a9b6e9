package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/retnet/load"
)

func init() {
	register("logits", command{"run a checkpoint on tokens; print logits and next-token NLL as JSON", runLogits})
}

// runLogits: targets are tokens[1:], logits are those of inputs tokens[:-1].
func runLogits(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("logits", stderr)
	ckpt := fs.String("checkpoint", "", "safetensors checkpoint: RetNet (torchscale names) or Transformer, e.g. retlab train's DIR/checkpoint.safetensors; or a Hugging Face model directory")
	modelName := fs.String("model", "", "pretrained model: hub name in the Hugging Face cache or model directory (fla RetNet, Transformer++, LLaMA)")
	tokens := fs.String("tokens", "", "comma-separated token ids, at least 2")
	formName := fs.String("form", "parallel", "retention form: parallel, recurrent or chunkwise")
	chunk := intFlag(fs, "chunk", retnet.DefaultChunk, 1, 1<<16, "chunk size of the chunkwise form (capped at the sequence length)")
	act := fs.String("activation", "swish", "FFN activation: swish or gelu (default: the checkpoint's config, else swish)")
	noScale := fs.Bool("no-embed-scale", false, "do not scale embeddings by sqrt(D) (default: the checkpoint's config, else scaled)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := requireModel(*ckpt, *modelName); err != nil {
		return err
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
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) {
		set[f.Name] = true
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
	in := ids[:len(ids)-1]
	if name := pickModel(*modelName, *ckpt); name != "" {
		return pretrainedLogits(name, in, ids[1:], form, *chunk, stdout, stderr)
	}
	f, err := retnet.ReadSafetensors(*ckpt)
	if err != nil {
		return err
	}
	var logits []float32
	var V int
	if kind := retnet.KindOf(f); kind != retnet.KindRetNet {
		for _, name := range []string{"form", "chunk", "activation", "no-embed-scale"} {
			if set[name] {
				return fmt.Errorf("--%s applies to RetNet checkpoints; %s is a %s checkpoint", name, *ckpt, kind)
			}
		}
		lm, err := retnet.LanguageModelFrom(f)
		if err != nil {
			return err
		}
		if V = lm.VocabSize(); slices.Max(ids) >= V {
			return fmt.Errorf("--tokens: id %d is outside the vocabulary of %d of %s", slices.Max(ids), V, *ckpt)
		}
		if logits, err = decodeLogits(lm, in); err != nil {
			return err
		}
	} else {
		m, err := retnet.LoadFrom(f, opt)
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
		if logits, err = m.Logits([][]int{in}, form, *chunk); err != nil {
			return err
		}
		V = m.Config.Vocab
	}
	return printLogits(stdout, logits, ids[1:], V)
}

// pretrainedLogits runs a Hugging Face model (directory or hub name) on
// inputs, opened by load.Model like every other checkpoint.
func pretrainedLogits(name string, in, next []int, form retnet.Form, chunk int, stdout, stderr io.Writer) error {
	m, err := load.Model(name)
	if err != nil {
		return err
	}
	defer m.Close()
	if v := max(slices.Max(in), slices.Max(next)); v >= m.VocabSize() {
		return fmt.Errorf("--tokens: id %d is outside the vocabulary [0,%d)", v, m.VocabSize())
	}
	logits, err := m.Logits([][]int{in}, form, chunk)
	if err != nil {
		return err
	}
	return printLogits(stdout, logits, next, m.VocabSize())
}

// printLogits prints the logits (N,V) of the inputs and the NLL of the next tokens as JSON.
func printLogits(stdout io.Writer, logits []float32, next []int, V int) error {
	targets := make([]int32, len(next))
	for i, v := range next {
		targets[i] = int32(v)
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
	for i := range targets {
		out.Logits = append(out.Logits, logits[i*V:(i+1)*V])
	}
	return json.NewEncoder(stdout).Encode(out)
}

// decodeLogits returns the next-token logits (T,V) of every position of
// tokens, decoding one token at a time (the Transformer with its KV cache).
func decodeLogits(lm retnet.LanguageModel, tokens []int) ([]float32, error) {
	V := lm.VocabSize()
	dec := lm.NewDecoder(1)
	out := make([]float32, 0, len(tokens)*V)
	l, err := dec.Prefill([][]int{tokens[:1]})
	for i := 1; err == nil; i++ {
		out = append(out, l...)
		if i == len(tokens) {
			return out, nil
		}
		l, err = dec.Step(tokens[i : i+1])
	}
	return nil, err
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
