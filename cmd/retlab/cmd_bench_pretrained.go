package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"

	"github.com/retlab/retlab/internal/atomicfile"
	"github.com/retlab/retlab/retnet/bench"
	"github.com/retlab/retlab/retnet/hf"
)

func init() {
	benchKinds["pretrained"] = benchPretrained
}

// benchPretrained measures Hugging Face models (bench.PretrainedBench):
// real ones by name or directory, or random-weight ones shaped like the
// public 1.3B models (--random, written once into --random-dir).
func benchPretrained(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench pretrained", stderr)
	models := fs.String("model", "", "models, comma-separated: hub names in the Hugging Face cache or model directories")
	shapes := make([]string, 0, len(hf.RandomShapes))
	for k := range hf.RandomShapes {
		shapes = append(shapes, k)
	}
	sort.Strings(shapes)
	random := fs.String("random", "", "random-weight BF16 models shaped like public ones, comma-separated: "+strings.Join(shapes, ", "))
	randomDir := fs.String("random-dir", filepath.Join(os.TempDir(), "retlab-random-models"), "where --random models are written (once; about 2.7 GB each)")
	seqLen := fs.Int("seq-len", 512, "perplexity window")
	windows := fs.Int("windows", 1, "windows scored for the throughput")
	contextLen := fs.Int("context", 64, "decode: prompt tokens prefilled before the timed steps")
	steps := fs.Int("steps", 16, "decode steps timed (median reported)")
	out := fs.String("out", "", "also write the JSON records to this file (atomically)")
	python := fs.String("python", "", "python with torch and transformers (deps/requirements-hfref.txt): LLaMA models are also run by scripts/bench_pretrained_torch.py, side by side")
	script := fs.String("reference-script", "scripts/bench_pretrained_torch.py", "path of bench_pretrained_torch.py")
	note := fs.String("note", "", "free text stored in each record (e.g. 'machine shared with other jobs')")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var names []string
	if *models != "" {
		names = strings.Split(*models, ",")
	}
	for _, s := range strings.Split(*random, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		cfg, ok := hf.RandomShapes[s]
		if !ok {
			return fmt.Errorf("--random %q: want one of %s", s, strings.Join(shapes, ", "))
		}
		dir := filepath.Join(*randomDir, s)
		if _, err := os.Stat(filepath.Join(dir, hf.WeightsFile)); err != nil {
			fmt.Fprintf(stderr, "writing random-weight %s to %s\n", s, dir)
			if err := hf.WriteRandom(dir, cfg, 1); err != nil {
				return err
			}
		}
		names = append(names, dir)
	}
	if len(names) == 0 {
		return fmt.Errorf("--model or --random is required")
	}
	if *seqLen < 1 || *windows < 1 || *contextLen < 1 || *steps < 1 {
		return fmt.Errorf("--seq-len, --windows, --context and --steps must be >= 1")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var recs []bench.PretrainedBench
	for _, n := range names {
		r, err := bench.Pretrained(ctx, bench.PretrainedConfig{Model: strings.TrimSpace(n), SeqLen: *seqLen, Windows: *windows,
			Context: *contextLen, Steps: *steps, Seed: 1, Note: *note,
			Log: func(f string, a ...any) { fmt.Fprintf(stderr, f+"\n", a...) }})
		if err != nil {
			return err
		}
		if *python != "" && r.ModelType == hf.TypeLlama {
			fmt.Fprintf(stderr, "PyTorch reference: %s %s --model %s\n", *python, *script, n)
			cmd := exec.CommandContext(ctx, *python, *script, "--model", strings.TrimSpace(n), "--seq-len", fmt.Sprint(*seqLen),
				"--context", fmt.Sprint(*contextLen), "--steps", fmt.Sprint(*steps), "--threads", fmt.Sprint(r.Threads))
			cmd.Stderr = stderr
			outb, err := cmd.Output()
			if err != nil {
				return fmt.Errorf("PyTorch reference %s: %w", *script, err)
			}
			var t bench.TorchReference
			if err := json.Unmarshal(outb, &t); err != nil {
				return fmt.Errorf("PyTorch reference output: %w", err)
			}
			r.Torch = &t
		}
		recs = append(recs, r)
	}
	b, err := json.MarshalIndent(recs, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if *out != "" {
		if err := atomicfile.Write(*out, func(f *os.File) error { _, err := f.Write(b); return err }); err != nil {
			return err
		}
	}
	_, err = stdout.Write(b)
	return err
}
