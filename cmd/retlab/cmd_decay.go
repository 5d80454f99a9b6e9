package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/retlab/retlab/retnet"
)

func init() {
	register("decay", command{"print per-head decays and decay masks as JSON", runDecay})
}

func runDecay(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("decay", stderr)
	heads := intFlag(fs, "heads", 4, 1, 4096, "number of heads H")
	n := intFlag(fs, "len", 8, 1, 1<<16, "sequence length N of the masks")
	raw := fs.Bool("raw", false, "raw gamma^(n-m) masks instead of the parallel form's row-normalised ones")
	schedule := fs.String("schedule", retnet.ScheduleTorchscale, "decay schedule: torchscale (1-2^(-5-h)) or paper (1-exp(linspace(log 1/32, log 1/512, H)))")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *schedule != retnet.ScheduleTorchscale && *schedule != retnet.SchedulePaper {
		return fmt.Errorf("--schedule %q: want torchscale or paper", *schedule)
	}
	if int64(*heads)*int64(*n)*int64(*n) > 64<<20 { // no overflow: the flags are bounded
		return fmt.Errorf("--heads %d x --len %d^2 is too many mask entries to print", *heads, *n)
	}
	masks := retnet.DecayMasks(*schedule, *heads, *n, !*raw)
	out := struct {
		Gamma []float64     `json:"gamma"`
		Mask  [][][]float32 `json:"mask"` // [H][N][N]
	}{Gamma: retnet.Gammas(*schedule, *heads)}
	for _, m := range masks {
		rows := make([][]float32, *n)
		for i := range rows {
			rows[i] = m[i**n : (i+1)**n]
		}
		out.Mask = append(out.Mask, rows)
	}
	return json.NewEncoder(stdout).Encode(out)
}
