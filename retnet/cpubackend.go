package retnet

import (
	"github.com/retlab/retlab/retnet/backend"
	"github.com/retlab/retlab/retnet/backend/cpu"
)

// cpuBackend is the backend named "cpu", the default: its products are
// cpu.Sgemm, and its retention operations report
// backend.ErrNotImplemented because for it they *are* this package's CPU
// functions (the oracle package backendtest checks every other backend
// against). It is registered here, by the package whose CPU code it is,
// so package cpu stays only the maths (sgemm, vector and exp kernels with
// their run-time ISA dispatch) that this package, hf and the backends call.
type cpuBackend struct{ backend.NotImplemented }

func init() {
	backend.Register("cpu", func() (backend.Backend, error) { return cpuBackend{}, nil })
}

// Name returns "cpu".
func (cpuBackend) Name() string { return "cpu" }

// Sgemm implements backend.Backend with cpu.Sgemm (every core).
func (cpuBackend) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	cpu.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
