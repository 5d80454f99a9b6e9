// Package backendtest is the conformance suite every compute backend runs:
// each operation of backend.Backend on random inputs (ragged lengths, odd
// dims, several heads, every chunk geometry), checked against the CPU code
// of package retnet, which implements torchscale's semantics and is itself
// checked against PyTorch reference vectors.
//
// A backend's test calls RunAll:
//
//	func TestConformance(t *testing.T) {
//		b, err := backend.Open("mybackend")
//		if err != nil {
//			t.Skip(err)
//		}
//		backendtest.RunAll(t, b)
//	}
//
// A backend whose device runs more kernels than backend.Backend offers (the
// cuda backend's recurrent step, rotation and group norm, used by its own
// model) passes a value that also implements Kernels, and the suite checks
// those too.
//
// Operations a backend does not implement (ErrNotImplemented) are skipped,
// so the cpu backend, which implements only Sgemm, runs the same suite.
// Results must agree with the oracle to a normwise relative error
// max|got - want| / max|want| <= Tol (1e-4, the float32 parity bound of
// the GPU backends).
package backendtest
