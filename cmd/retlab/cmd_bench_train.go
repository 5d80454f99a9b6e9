package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/retnet/bench"
)

func init() {
	benchKinds["train"] = benchTrain
}

func benchTrain(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench train", stderr)
	asJSON := fs.Bool("json", false, "print a JSON array of records (retnet.TrainBench)")
	models := fs.String("models", "retnet,transformer", "architectures")
	size := fs.String("size", "s", "ladder rung of both models")
	Ts := fs.String("T", "256,512,1024,2048", "sequence lengths")
	tokens := intFlag(fs, "tokens-per-step", 4096, 1, maxTokensPerStep, "tokens per step: batch = max(1, tokens/T)")
	steps := intFlag(fs, "steps", 3, 1, 1000, "timed steps per point (median) after one warm-up step")
	reference := fs.Bool("reference", true, "also time one PyTorch CPU training step of the same models (scripts/train_step_torch.py) in the same run")
	python := fs.String("python", "/usr/bin/python3", "python with torch for the reference")
	script := fs.String("reference-script", "", "path of train_step_torch.py (default: found from the working directory or the binary)")
	threads := intFlag(fs, "threads", 2, 1, 1024, "PyTorch threads (match GOMAXPROCS for a fair ratio)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ms, err := parseModels(*models)
	if err != nil {
		return err
	}
	ts, err := parseInts("T", *Ts)
	if err != nil {
		return err
	}
	recs, err := bench.Train(bench.TrainConfig{Models: ms, Size: *size, SeqLens: ts, TokensPerStep: *tokens, Steps: *steps})
	if err != nil {
		return err
	}
	out := recs
	for _, kind := range ms {
		if !*reference {
			continue
		}
		ref, err := torchTrainReference(*python, *script, kind, *size, *Ts, *tokens, *steps, *threads, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "retlab bench train: no PyTorch reference for %s: %v\n", kind, err)
			continue
		}
		for i := range out {
			for _, r := range ref {
				if out[i].Model == kind && r.SeqLen == out[i].SeqLen && r.TokensPerS > 0 {
					out[i].Speedup = out[i].TokensPerS / r.TokensPerS
				}
			}
		}
		for _, r := range ref {
			r.Note = fmt.Sprintf("PyTorch CPU, %d threads", *threads)
			out = append(out, r)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintf(stdout, "%-8s %-12s %6s %6s %10s %12s %12s %14s %8s\n", "impl", "model", "T", "batch", "step_ms", "tokens/s", "peak_rss_MB", "activation_MB", "speedup")
	for _, r := range out {
		sp := ""
		if r.Speedup > 0 {
			sp = fmt.Sprintf("%.2fx", r.Speedup)
		}
		fmt.Fprintf(stdout, "%-8s %-12s %6d %6d %10.1f %12.1f %12.1f %14.1f %8s\n", r.Impl, r.Model, r.SeqLen, r.Batch, r.StepMs, r.TokensPerS,
			float64(r.PeakRSSBytes)/(1<<20), float64(r.ActBytes)/(1<<20), sp)
	}
	return nil
}

// torchTrainReference runs scripts/train_step_torch.py on the config of
// model kind (retnet or transformer) at the rung and returns its records.
func torchTrainReference(python, script, kind, size, Ts string, tokens, steps, threads int, stderr io.Writer) ([]retnet.TrainBench, error) {
	path, err := findScript("train_step_torch.py", script)
	if err != nil {
		return nil, err
	}
	mc, _, err := retnet.LadderModel(kind, size)
	if err != nil {
		return nil, err
	}
	it := strconv.Itoa
	args := []string{"--model", kind, "--size", size}
	switch c := mc.(type) {
	case retnet.Config:
		args = append(args, "--V", it(c.Vocab), "--D", it(c.Dim), "--DV", it(c.ValueDim), "--F", it(c.FFNDim),
			"--L", it(c.Layers), "--H", it(c.Heads), "--chunk", it(retnet.DefaultChunk))
	case retnet.TransformerConfig:
		args = append(args, "--V", it(c.Vocab), "--D", it(c.Dim), "--F", it(c.FFNDim), "--L", it(c.Layers), "--H", it(c.Heads))
	default:
		return nil, fmt.Errorf("no PyTorch reference for a %T", mc)
	}
	args = append(args, "--T", Ts, "--tokens-per-step", it(tokens), "--steps", it(steps), "--threads", it(threads))
	var recs []retnet.TrainBench
	err = runJSONScript(python, path, args,
		[]string{"OMP_NUM_THREADS=" + it(threads), "OPENBLAS_NUM_THREADS=" + it(threads), "MKL_NUM_THREADS=" + it(threads)}, stderr, &recs)
	return recs, err
}
