package hf

import (
	"os"
	"testing"

	"github.com/retlab/retlab/retnet"
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
