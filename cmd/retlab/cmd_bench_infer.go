package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/retnet/bench"
)

func init() {
	benchKinds["inference"] = benchInference
}

func parseModels(s string) ([]string, error) {
	var out []string
	for _, m := range strings.Split(s, ",") {
		m = strings.TrimSpace(m)
		if m != retnet.KindRetNet && m != retnet.KindTransformer {
			return nil, fmt.Errorf("--models entry %q: want %s or %s", m, retnet.KindRetNet, retnet.KindTransformer)
		}
		out = append(out, m)
	}
	return out, nil
}

func benchInference(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench inference", stderr)
	asJSON := fs.Bool("json", false, "print a JSON array of records (retnet.InferenceBench)")
	models := fs.String("models", "retnet,transformer", "architectures")
	size := fs.String("size", "m", "ladder rung of both models")
	contexts := fs.String("contexts", "256,512,1024,2048,4096,8192", "context lengths (tokens already decoded)")
	batches := fs.String("batches", "1,2,4,8", "batch sizes")
	steps := intFlag(fs, "steps", 64, 1, 1<<16, "timed decode rounds per point (median; contexts interleaved)")
	passes := intFlag(fs, "passes", 3, 1, 100, "latency passes over all points, a sweep apart (best median reported)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ms, err := parseModels(*models)
	if err != nil {
		return err
	}
	cs, err := parseInts("contexts", *contexts)
	if err != nil {
		return err
	}
	bs, err := parseInts("batches", *batches)
	if err != nil {
		return err
	}
	recs, err := bench.Inference(bench.InferenceConfig{Models: ms, Size: *size, Contexts: cs, Batches: bs, Steps: *steps, Passes: *passes})
	if err != nil {
		return err
	}
	for _, m := range ms {
		for _, b := range bs {
			fmt.Fprintf(stderr, "%s batch %d: latency max/min over contexts %v = %.2f\n", m, b, cs, bench.FlatnessRatio(recs, m, b))
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(recs)
	}
	fmt.Fprintf(stdout, "%-12s %7s %5s %12s %12s %14s %14s\n", "model", "context", "batch", "latency_ms", "tokens/s", "state_bytes", "peak_rss")
	for _, r := range recs {
		fmt.Fprintf(stdout, "%-12s %7d %5d %12.3f %12.1f %14d %14d\n", r.Model, r.Context, r.Batch, r.LatencyMs, r.TokensPerS, r.StateBytes, r.PeakRSSBytes)
	}
	return nil
}
