package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/retlab/retlab/retnet/backend"
	"github.com/retlab/retlab/retnet/backend/cuda"
)

func init() {
	benchKinds["gpu"] = benchGPU
}

// benchGPU times the CUDA kernels on device-resident inputs
// (cuda.Bench): chunkwise and parallel retention, the batched recurrent
// step, sgemm and a device copy (the practical bandwidth).
func benchGPU(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench gpu", stderr)
	asJSON := fs.Bool("json", false, "print a JSON array of records (cuda.KernelBench)")
	ops := fs.String("ops", "copy,chunkwise,parallel,recurrent_step,sgemm", "operations to time")
	B := intFlag(fs, "B", 1, 1, 4096, "sequences of the chunkwise and parallel forms")
	T := fs.String("T", "8192", "sequence lengths of the chunkwise form")
	parT := fs.String("parallel-T", "2048,8192", "sequence lengths of the parallel form")
	H := intFlag(fs, "H", 8, 1, 1024, "heads")
	dk := intFlag(fs, "dk", 256, 1, 1<<14, "key head dim")
	dv := intFlag(fs, "dv", 512, 1, 1<<14, "value head dim")
	chunks := fs.String("chunks", "64,128,256,512", "chunk sizes of the chunkwise form")
	batches := fs.String("batches", "1,8,64,256", "batch sizes of the recurrent step")
	gemm := fs.String("gemm", "4096x4096x4096,8192x2048x2048", "sgemm sizes MxNxK")
	repeats := intFlag(fs, "repeats", 10, 1, 1000, "timed calls per point (fastest and median reported)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg := cuda.BenchConfig{Repeats: *repeats, Decode: backend.Shape{H: *H, Dk: *dk, Dv: *dv}, Skip: map[string]bool{}}
	want := map[string]bool{}
	for _, op := range strings.Split(*ops, ",") {
		want[strings.TrimSpace(op)] = true
	}
	for _, op := range []string{"copy", "chunkwise", "parallel", "recurrent_step", "sgemm"} {
		cfg.Skip[op] = !want[op]
		delete(want, op)
	}
	for op := range want {
		return fmt.Errorf("--ops: unknown operation %q", op)
	}
	Ts, err := parseInts("T", *T)
	if err != nil {
		return err
	}
	for _, t := range Ts {
		cfg.Chunkwise = append(cfg.Chunkwise, backend.Shape{B: *B, T: t, H: *H, Dk: *dk, Dv: *dv})
	}
	pTs, err := parseInts("parallel-T", *parT)
	if err != nil {
		return err
	}
	for _, t := range pTs {
		cfg.Parallel = append(cfg.Parallel, backend.Shape{B: *B, T: t, H: *H, Dk: *dk, Dv: *dv})
	}
	if cfg.Chunks, err = parseInts("chunks", *chunks); err != nil {
		return err
	}
	if cfg.Batches, err = parseInts("batches", *batches); err != nil {
		return err
	}
	for _, g := range strings.Split(*gemm, ",") {
		var mnk [3]int
		parts := strings.Split(strings.TrimSpace(g), "x")
		if len(parts) != 3 {
			return fmt.Errorf("--gemm entry %q is not MxNxK", g)
		}
		for i, p := range parts {
			if mnk[i], err = strconv.Atoi(p); err != nil || mnk[i] < 1 {
				return fmt.Errorf("--gemm entry %q is not MxNxK", g)
			}
		}
		cfg.Gemm = append(cfg.Gemm, mnk)
	}
	b, err := cuda.Open()
	if err != nil {
		return err
	}
	defer b.Close()
	recs, err := cuda.Bench(b, cfg)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(recs)
	}
	fmt.Fprintf(stdout, "%-15s %6s %5s %3s %4s %4s %5s %10s %10s %10s %6s\n", "op", "B", "T", "H", "dk", "dv", "chunk", "ms", "GFLOP/s", "GB/s", "of BW")
	for _, r := range recs {
		frac := ""
		if r.BWFrac > 0 {
			frac = fmt.Sprintf("%.0f%%", 100*r.BWFrac)
		}
		fmt.Fprintf(stdout, "%-15s %6d %5d %3d %4d %4d %5d %10.4f %10.1f %10.1f %6s\n", r.Op, r.B, r.T, r.H, r.Dk, r.Dv, r.Chunk, r.Ms, r.GFlopPerS, r.GBPerS, frac)
	}
	return nil
}
