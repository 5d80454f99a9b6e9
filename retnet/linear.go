package retnet

import "github.com/retlab/retlab/retnet/backend"

// sgemm is the one matrix product every layer goes through: the current
// backend's Sgemm (row-major C = alpha*op(A)*op(B) + beta*C).
func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	backend.Current().Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// LinearForward computes out = inp W^T (torch nn.Linear without bias).
// It panics if a slice is too short.
func LinearForward(out []float32 /* (N,OC) */, inp []float32 /* (N,IC) */, w []float32 /* (OC,IC) */, N, IC, OC int) {
	sgemm(false, true, N, OC, IC, 1, inp, IC, w, IC, 0, out, OC)
}

// LinearBackward adds the gradients of out = inp W^T: dinp += dout W and
// dw += dout^T inp. Either of dinp, dw may be nil to skip it.
func LinearBackward(dinp []float32 /* (N,IC) */, dw []float32 /* (OC,IC) */, dout []float32 /* (N,OC) */, inp []float32 /* (N,IC) */, w []float32 /* (OC,IC) */, N, IC, OC int) {
	if dinp != nil {
		sgemm(false, false, N, IC, OC, 1, dout, OC, w, IC, 1, dinp, IC)
	}
	if dw != nil {
		sgemm(true, false, OC, IC, N, 1, dout, OC, inp, IC, 1, dw, IC)
	}
}
