package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/retlab/retlab/retnet"
)

func init() {
	register("sizes", command{"the model-size ladder of both architectures (JSON with --json)", runSizes})
}

func runSizes(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sizes", stderr)
	asJSON := fs.Bool("json", false, "print a JSON array of retnet.SizeInfo records (plus the training budget)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	sizes := retnet.Sizes()
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sizes)
	}
	fmt.Fprintf(stdout, "%-12s %-5s %10s %14s %5s %3s %3s %5s %5s %7s %10s\n", "model", "size", "params", "non-embedding", "D", "L", "H", "F", "DV", "steps", "tokens")
	for _, s := range sizes {
		dv := "-"
		if s.ValueDim > 0 {
			dv = fmt.Sprint(s.ValueDim)
		}
		fmt.Fprintf(stdout, "%-12s %-5s %10d %14d %5d %3d %3d %5d %5s %7d %10d\n", s.Model, s.Size, s.Params, s.NonEmbeddingParams, s.Dim, s.Layers, s.Heads, s.FFNDim, dv, s.TrainSteps, s.TrainTokens)
	}
	return nil
}
