package retnet

// LinearForward computes out = inp W^T (torch nn.Linear without bias).
// It panics if a slice is too short.
func LinearForward[T Float](out []T /* (N,OC) */, inp []T /* (N,IC) */, w []T /* (OC,IC) */, N, IC, OC int) {
	matmul(true, false, true, N, OC, IC, 1, inp, IC, w, IC, 0, out, OC)
}

// LinearBackward adds the gradients of out = inp W^T: dinp += dout W and
// dw += dout^T inp. Either of dinp, dw may be nil to skip it.
func LinearBackward[T Float](dinp []T /* (N,IC) */, dw []T /* (OC,IC) */, dout []T /* (N,OC) */, inp []T /* (N,IC) */, w []T /* (OC,IC) */, N, IC, OC int) {
	if dinp != nil {
		matmul(true, false, false, N, IC, OC, 1, dout, OC, w, IC, 1, dinp, IC)
	}
	if dw != nil {
		matmul(true, true, false, OC, IC, N, 1, dout, OC, inp, IC, 1, dw, IC)
	}
}
