package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/retlab/retlab/internal/numtest"
)

// benchSgemm times one Sgemm shape and reports GFLOP/s (2*m*n*k per call).
func benchSgemm(b *testing.B, transA, transB bool, m, n, k int) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := numtest.Randn[float32](rng, m*k, 1)
	y := numtest.Randn[float32](rng, k*n, 1)
	c := make([]float32, m*n)
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	Sgemm(transA, transB, m, n, k, 1, x, lda, y, ldb, 0, c, n) // warm pools
	b.ResetTimer()
	for b.Loop() {
		Sgemm(transA, transB, m, n, k, 1, x, lda, y, ldb, 0, c, n)
	}
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkSgemm is the square product at the sizes scripts/bench_sgemm.py
// times numpy (OpenBLAS) at; `make bench-sgemm` runs both.
func BenchmarkSgemm(b *testing.B) {
	for _, n := range []int{256, 512, 1024, 2048} {
		b.Run(fmt.Sprint(n), func(b *testing.B) { benchSgemm(b, false, false, n, n, n) })
	}
}

// BenchmarkSgemmRetention times the products the retention forms make.
func BenchmarkSgemmRetention(b *testing.B) {
	for _, s := range []struct {
		name           string
		transA, transB bool
		m, n, k        int
	}{
		{"qkT/T=512", false, true, 512, 512, 128},
		{"qkT/T=2048", false, true, 2048, 2048, 128},
		{"Sv/T=512", false, false, 512, 256, 512},
		{"Sv/T=2048", false, false, 2048, 256, 2048},
		{"xWT/BT=64", false, true, 64, 512, 512},
		{"xWT/BT=2048", false, true, 2048, 512, 512},
		{"xWT/BT=8192", false, true, 8192, 512, 512},
		{"dW=dyTx/BT=2048", true, false, 512, 512, 2048},
		{"kTv/chunk=512", true, false, 128, 256, 512},
	} {
		b.Run(s.name, func(b *testing.B) { benchSgemm(b, s.transA, s.transB, s.m, s.n, s.k) })
	}
}
