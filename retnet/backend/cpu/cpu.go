package cpu

import "github.com/retlab/retlab/retnet/backend"

// Backend is the CPU backend; the zero value is ready to use. It implements
// Sgemm; the optional operations report backend.ErrNotImplemented, so
// package retnet runs its own CPU code for them (the conformance oracle).
type Backend struct{ backend.NotImplemented }

func init() {
	backend.Register("cpu", func() (backend.Backend, error) { return Backend{}, nil })
}

// Name returns "cpu".
func (Backend) Name() string { return "cpu" }

// Sgemm implements backend.Backend with the package-level Sgemm.
func (Backend) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
