package retnet

// GLUActs are the activations of the gated feed-forward block kept for the
// backward pass.
type GLUActs[T Float] struct {
	FC1     []T // (N,F) z Fc1^T, before the activation
	GateOut []T // (N,F) z Gate^T
	Act     []T // (N,F) act(FC1) (.) GateOut, the input of Fc2

	joint []T // (N,2F) the fused fc1, gate product of a decode step (linearJoint)
}

func newGLUActs[T Float](N, F int) GLUActs[T] {
	return GLUActs[T]{FC1: make([]T, N*F), GateOut: make([]T, N*F), Act: make([]T, N*F)}
}

// GLUForward is torchscale's GLU feed-forward block:
//
//	out = (act(z Fc1^T) (.) (z Gate^T)) Fc2^T
//
// with act silu ("swish") or gelu, no biases.
func GLUForward[T Float](out []T /* (N,C) */, z []T /* (N,C) */, fc1, gate []T /* (F,C) */, fc2 []T /* (C,F) */, a *GLUActs[T], N, C, F int, actName string) {
	linearJoint(&a.joint, z, N, C, [][]T{a.FC1[:N*F], a.GateOut[:N*F]}, [][]T{fc1, gate})
	forElems(N*F, func(lo, hi int) {
		if actName == "gelu" {
			for i, v := range a.FC1[lo:hi] {
				a.Act[lo+i] = gelu(v) * a.GateOut[lo+i]
			}
		} else {
			siluMul(a.Act[lo:hi], a.FC1[lo:hi], a.GateOut[lo:hi])
		}
	})
	LinearForward(out, a.Act, fc2, N, F, C)
}

// GLUBackward adds the gradients of GLUForward into dz and the weight
// gradients. scratch holds 2*N*F values.
func GLUBackward[T Float](dz []T /* (N,C) */, dfc1, dgate []T /* (F,C) */, dfc2 []T /* (C,F) */, dout []T /* (N,C) */, z []T /* (N,C) */, fc1, gate []T /* (F,C) */, fc2 []T /* (C,F) */, a *GLUActs[T], scratch []T /* (2,N,F) */, N, C, F int, actName string) {
	dAct, dFC1 := scratch[:N*F], scratch[N*F:2*N*F]
	clear(dAct)
	LinearBackward(dAct, dfc2, dout, a.Act, fc2, N, F, C)
	forElems(N*F, func(lo, hi int) {
		if actName == "gelu" {
			for i := lo; i < hi; i++ {
				g := dAct[i]
				v, dv := geluGrad(a.FC1[i])
				dFC1[i] = g * a.GateOut[i] * dv
				dAct[i] = g * v // now d GateOut
			}
		} else {
			sigmoid(dFC1[lo:hi], a.FC1[lo:hi])
			for i := lo; i < hi; i++ {
				g, x, s := dAct[i], a.FC1[i], dFC1[i]
				dFC1[i] = g * a.GateOut[i] * (s * (1 + x*(1-s)))
				dAct[i] = g * x * s // now d GateOut
			}
		}
	})
	LinearBackward(dz, dfc1, dFC1, z, fc1, N, C, F)
	LinearBackward(dz, dgate, dAct, z, gate, N, C, F)
}
