package retnet

import "unsafe"

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

// jointRows is the most rows (tokens) linearJoint runs as one product: a
// decode step. Larger products keep the weights apart (no copy; each is
// already big enough to spread over the cores).
const jointRows = 16

// linearJoint computes outs[j] = inp ws[j]^T for weights that share one
// input, such as the q, k, v and g projections (each ws[j] is (OC_j, IC),
// each outs[j] (N, OC_j)). When the weights lie back to back in memory (the
// model's flat parameters do) and N <= jointRows, it runs them as one
// product into scratch and copies each block of columns out: one pass over
// the input and one parallel dispatch instead of len(ws). For ladder rung
// m's four projections at one token that is 8.6 us instead of 14.8.
func linearJoint[T Float](scratch *[]T, inp []T /* (N,IC) */, N, IC int, outs, ws [][]T) {
	w := joined(ws)
	if w == nil || N > jointRows {
		for j := range ws {
			LinearForward(outs[j], inp, ws[j], N, IC, len(ws[j])/IC)
		}
		return
	}
	OC := len(w) / IC
	if cap(*scratch) < N*OC {
		*scratch = make([]T, N*OC)
	}
	buf := (*scratch)[:N*OC]
	LinearForward(buf, inp, w, N, IC, OC)
	for n := 0; n < N; n++ {
		row := buf[n*OC : (n+1)*OC]
		for j, wj := range ws {
			oc := len(wj) / IC
			copy(outs[j][n*oc:(n+1)*oc], row[:oc])
			row = row[oc:]
		}
	}
}

// joined returns ws as one slice when each starts where the previous one
// ends in memory (views of one flat parameter slice), else nil.
func joined[T Float](ws [][]T) []T {
	total := 0
	for i, w := range ws {
		if len(w) == 0 {
			return nil
		}
		if i > 0 {
			prev := ws[i-1]
			end := unsafe.Add(unsafe.Pointer(unsafe.SliceData(prev)), uintptr(len(prev))*unsafe.Sizeof(prev[0]))
			if unsafe.Pointer(unsafe.SliceData(w)) != end {
				return nil
			}
		}
		total += len(w)
	}
	return unsafe.Slice(unsafe.SliceData(ws[0]), total)
}
