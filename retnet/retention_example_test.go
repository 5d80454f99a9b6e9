package retnet_test

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/retlab/retlab/retnet"
)

// A one-head, one-dimensional sequence small enough to check by hand: with
// q.k = 1 and gamma = 1/2, every form's output at n is
// sum_{m<=n} gamma^(n-m) v_m = 1, 2.5, 4.25 for v = 1, 2, 3, divided by a
// positive per-token scalar that the form chooses (and the group norm after
// it removes).
func tinyHead() retnet.Head[float32] {
	return retnet.Head[float32]{
		Q: []float32{1, 1, 1}, K: []float32{1, 1, 1}, V: []float32{1, 2, 3}, O: make([]float32, 3),
		LdQK: 1, LdV: 1, LdO: 1, T: 3, Dk: 1, Dv: 1, LogGamma: float32(math.Log(0.5)),
	}
}

// The parallel form divides by the decay-mask row sum, clamped below at 1:
// here sqrt(1), sqrt(1.5), sqrt(1.75) on top of the mask's own 1/sqrt(row
// sum), so it returns the decay-weighted mean of v: 1, 2.5/1.5, 4.25/1.75.
func ExampleParallelRetention() {
	h := tinyHead()
	retnet.ParallelRetention(h, nil, make([]float32, retnet.ParallelWorkSize(h.T)))
	fmt.Printf("%.4f\n", h.O)
	// Output:
	// [1.0000 1.6667 2.4286]
}

// The recurrent form keeps a (dv,dk) state and divides by sqrt(c_n),
// c_n = 1, 1.5, 1.75: 1, 2.5/sqrt(1.5), 4.25/sqrt(1.75). O(1) per token.
func ExampleRecurrentRetention() {
	h := tinyHead()
	S, c := make([]float32, h.Dk*h.Dv), float32(0) // the empty state
	retnet.RecurrentRetention(h, S, &c)
	fmt.Printf("%.4f, state c = %.2f\n", h.O, c)
	// Output:
	// [1.0000 2.0412 3.2127], state c = 1.75
}

// The chunkwise form with chunks of 2: inside the first chunk it is the
// parallel form (1, 2.5/1.5); the third token also sees the carried state
// R = (0.5*1 + 2)/1.5 and divides by max(a, r) = 5/3: 4.25 * 3/5 = 2.55.
func ExampleChunkwiseRetention() {
	h := tinyHead()
	retnet.ChunkwiseRetention(h, 2, nil, make([]float32, retnet.ChunkwiseWorkSize(2, h.Dv)))
	fmt.Printf("%.4f\n", h.O)
	// Output:
	// [1.0000 1.6667 2.5500]
}

// A multi-scale retention layer (projections, rotation, retention per head,
// group norm, swish gate, output projection) gives the same output in all
// three forms once the group norm has removed each token's scalar (exactly
// so with eps = 0): parallel for training, chunkwise for long prompts,
// recurrent token by token with a state for decoding.
func ExampleMSR_Forward() {
	const B, T, D, DV, H = 1, 6, 8, 8, 2
	rng := rand.New(rand.NewPCG(1, 2))
	randn := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 0.3)
		}
		return x
	}
	r := &retnet.MSR[float32]{D: D, DV: DV, H: H, Wq: randn(D * D), Wk: randn(D * D), Wv: randn(DV * D), Wg: randn(DV * D),
		Wo: randn(D * DV), LogGamma: retnet.LogGammas(retnet.ScheduleTorchscale, H), Angle: retnet.Angles(D / H)}
	x := randn(B * T * D) // (B,T,D)

	parallel := make([]float32, B*T*D)
	r.Forward(parallel, x, B, T, retnet.Parallel, 0, &retnet.MSRActs[float32]{}, nil)
	chunkwise := make([]float32, B*T*D)
	r.Forward(chunkwise, x, B, T, retnet.Chunkwise, 4, &retnet.MSRActs[float32]{}, nil)
	recurrent := make([]float32, B*T*D)
	st := &retnet.LayerState[float32]{S: make([]float32, B*H*(D/H)*(DV/H)), Scale: make([]float32, H)}
	acts := &retnet.MSRActs[float32]{}
	for t := 0; t < T; t++ { // one token at a time, the state carrying the past
		r.Forward(recurrent[t*D:(t+1)*D], x[t*D:(t+1)*D], B, 1, retnet.Recurrent, 0, acts, st)
	}
	maxDiff := func(a, b []float32) (d float64) {
		for i := range a {
			d = math.Max(d, math.Abs(float64(a[i]-b[i])))
		}
		return d
	}
	fmt.Println("chunkwise = parallel:", maxDiff(chunkwise, parallel) < 1e-5)
	fmt.Println("recurrent = parallel:", maxDiff(recurrent, parallel) < 1e-5)
	fmt.Println("tokens in the state:", st.Pos)
	// Output:
	// chunkwise = parallel: true
	// recurrent = parallel: true
	// tokens in the state: 6
}
