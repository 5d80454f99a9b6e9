package hf

import (
	"fmt"
	"os"
	"testing"

	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/retnet/backend/cpu"
)

// BenchmarkDecodeStep times one decode step of the model in
// $RETLAB_HF_BENCH_MODEL (a directory or hub name, e.g. a random-weight
// 1.3B model written by `retlab bench pretrained --random`).
func BenchmarkDecodeStep(b *testing.B) {
	name := os.Getenv("RETLAB_HF_BENCH_MODEL")
	if name == "" {
		b.Skip("RETLAB_HF_BENCH_MODEL not set")
	}
	m, err := Load(name)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	st := m.NewState(1)
	if _, err := m.Forward([]int32{1, 2, 3, 4}, 1, 4, retnet.Chunkwise, 0, st); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Forward([]int32{5}, 1, 1, retnet.Recurrent, 0, st); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScore times a chunkwise forward of 128 tokens (perplexity
// scoring) of the model in $RETLAB_HF_BENCH_MODEL.
func BenchmarkScore(b *testing.B) {
	name := os.Getenv("RETLAB_HF_BENCH_MODEL")
	if name == "" {
		b.Skip("RETLAB_HF_BENCH_MODEL not set")
	}
	m, err := Load(name)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	ids := make([]int32, 128)
	for i := range ids {
		ids[i] = int32(3 + i*7%1000)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Forward(ids, 1, len(ids), retnet.Chunkwise, 0, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLinear times one BF16 weight product of scoring, x (N,2048)
// times W^T (5632,2048) (the MLP's gate of the 1.3B shapes), for N = 128
// and 512 tokens: cpu.SgemmBF16W (widened while packed, what linear runs)
// against widening blocks of rows first (linearWidened, the F16 path) and
// against float32 weights (cpu.Sgemm, no widening: the bound).
func BenchmarkLinear(b *testing.B) {
	const rows, cols = 5632, 2048
	w := weight{name: "gate", rows: rows, cols: cols, dtype: "BF16", u16: make([]uint16, rows*cols)}
	for i := range w.u16 {
		w.u16[i] = uint16(cpu.BF16From(float32(i%97-48) / 64))
	}
	wf := make([]float32, rows*cols) // the bound: the same product with float32 weights, no widening
	w.rowsTo(wf, 0, rows)
	for _, N := range []int{128, 512} {
		x := make([]float32, N*cols)
		for i := range x {
			x[i] = float32(i%13-6) / 8
		}
		out := make([]float32, N*rows)
		for _, c := range []struct {
			name string
			f    func()
		}{{"sgemm-bf16w", func() { w.linear(out, x, N) }}, {"widened-blocks", func() { w.linearWidened(out, x, N) }},
			{"float32-weights", func() { cpu.Sgemm(false, true, N, rows, cols, 1, x, cols, wf, cols, 0, out, rows) }}} {
			b.Run(fmt.Sprintf("N=%d/%s", N, c.name), func(b *testing.B) {
				b.SetBytes(int64(rows * cols * 2))
				for i := 0; i < b.N; i++ {
					c.f()
				}
				b.ReportMetric(2*float64(N)*rows*cols*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
