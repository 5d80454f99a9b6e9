package retnet

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/retlab/retlab/internal/numtest"
)

// Gradient checks run the layer kernels in float64 (the same generic code
// the float32 models use) and compare each backward pass with central finite
// differences of a random linear functional of the output:
// loss = sum_i w_i out_i, so dout = w.

// gradCheck compares analytic dL/dx with (L(x+h e_i) - L(x-h e_i)) / 2h on up
// to maxProbe coordinates of x, failing when |a-n| > 1e-6 (|a|+|n|) + 1e-9:
// relative 1e-6, with an absolute floor at the finite differences' own
// rounding noise (~eps*|L|/h for an O(1) loss).
func gradCheck(t *testing.T, name string, x, analytic []float64, loss func() float64) {
	t.Helper()
	const h, maxProbe, tol = 1e-5, 40, 1e-6
	rng := rand.New(rand.NewPCG(uint64(len(x)), 7))
	idx := rng.Perm(len(x))
	if len(idx) > maxProbe {
		idx = idx[:maxProbe]
	}
	worst := 0.0
	for _, i := range idx {
		old := x[i]
		x[i] = old + h
		lp := loss()
		x[i] = old - h
		lm := loss()
		x[i] = old
		num := (lp - lm) / (2 * h)
		diff := math.Abs(analytic[i] - num)
		rel := diff / math.Max(math.Abs(analytic[i])+math.Abs(num), 1e-300)
		if rel > worst && diff > 1e-9 {
			worst = rel
		}
		if diff > tol*(math.Abs(analytic[i])+math.Abs(num))+1e-9 {
			t.Errorf("%s: d/dx[%d] analytic %.10g numeric %.10g (rel %.2g)", name, i, analytic[i], num, rel)
			return
		}
	}
	t.Logf("%s: %d coordinates, worst relative error %.2g", name, len(idx), worst)
}

func dotF(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func TestGradLinear(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	N, IC, OC := 5, 7, 3
	x, w, ow := numtest.Randn[float64](rng, N*IC, 1), numtest.Randn[float64](rng, OC*IC, 1), numtest.Randn[float64](rng, N*OC, 1)
	out := make([]float64, N*OC)
	loss := func() float64 { LinearForward(out, x, w, N, IC, OC); return dotF(out, ow) }
	dx, dw := make([]float64, N*IC), make([]float64, OC*IC)
	LinearBackward(dx, dw, ow, x, w, N, IC, OC)
	gradCheck(t, "linear dx", x, dx, loss)
	gradCheck(t, "linear dw", w, dw, loss)
}

func TestGradRMSNorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	N, C := 4, 6
	x, w, ow := numtest.Randn[float64](rng, N*C, 1), numtest.Randn[float64](rng, C, 1), numtest.Randn[float64](rng, N*C, 1)
	out, rstd := make([]float64, N*C), make([]float64, N)
	for _, weight := range [][]float64{w, nil} {
		loss := func() float64 { RMSNormForward(out, rstd, x, weight, N, C, 1e-6); return dotF(out, ow) }
		loss()
		dx, dw := make([]float64, N*C), make([]float64, C)
		RMSNormBackward(dx, dw, ow, x, weight, rstd, N, C)
		gradCheck(t, "rmsnorm dx", x, dx, loss)
		if weight != nil {
			gradCheck(t, "rmsnorm dw", w, dw, loss)
		}
	}
}

func TestGradGroupNormGate(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 3))
	N, H, dv := 3, 2, 4
	o, g, ow := numtest.Randn[float64](rng, N*H*dv, 1), numtest.Randn[float64](rng, N*H*dv, 1), numtest.Randn[float64](rng, N*H*dv, 1)
	gated, y, rstd := make([]float64, N*H*dv), make([]float64, N*H*dv), make([]float64, N*H)
	loss := func() float64 { GroupNormGateForward(gated, y, rstd, o, g, N, H, dv, 1e-6); return dotF(gated, ow) }
	loss()
	do, dg, dy := make([]float64, N*H*dv), make([]float64, N*H*dv), make([]float64, N*H*dv)
	GroupNormGateBackward(do, dg, dy, ow, o, g, y, rstd, N, H, dv)
	gradCheck(t, "groupnorm+gate do", o, do, loss)
	gradCheck(t, "groupnorm+gate dg", g, dg, loss)
}

func TestGradGLU(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 4))
	N, C, F := 3, 5, 7
	for _, act := range []string{"swish", "gelu"} {
		z, fc1, gate, fc2, ow := numtest.Randn[float64](rng, N*C, 1), numtest.Randn[float64](rng, F*C, 0.5), numtest.Randn[float64](rng, F*C, 0.5), numtest.Randn[float64](rng, C*F, 0.5), numtest.Randn[float64](rng, N*C, 1)
		a := newGLUActs[float64](N, F)
		out := make([]float64, N*C)
		loss := func() float64 { GLUForward(out, z, fc1, gate, fc2, &a, N, C, F, act); return dotF(out, ow) }
		loss()
		dz, d1, dg, d2 := make([]float64, N*C), make([]float64, F*C), make([]float64, F*C), make([]float64, C*F)
		GLUBackward(dz, d1, dg, d2, ow, z, fc1, gate, fc2, &a, make([]float64, 2*N*F), N, C, F, act)
		gradCheck(t, act+" glu dz", z, dz, loss)
		gradCheck(t, act+" glu dfc1", fc1, d1, loss)
		gradCheck(t, act+" glu dgate", gate, dg, loss)
		gradCheck(t, act+" glu dfc2", fc2, d2, loss)
	}
}

func TestGradRotation(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 5))
	B, T, H, dk := 2, 5, 2, 6
	rt := NewRotationTable(convert[float64](Angles(dk)), 3, T)
	x, ow := numtest.Randn[float64](rng, B*T*H*dk, 1), numtest.Randn[float64](rng, B*T*H*dk, 1)
	y := make([]float64, len(x))
	loss := func() float64 { copy(y, x); RotateForward(y, rt, B*T, H); return dotF(y, ow) }
	dx := append([]float64(nil), ow...)
	RotateBackward(dx, rt, B*T, H)
	gradCheck(t, "rotation dx", x, dx, loss)
}

func TestGradEmbeddingAndCrossEntropy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 6))
	N, V, C := 6, 5, 3
	E := numtest.Randn[float64](rng, V*C, 1)
	tokens := []int32{0, 3, 3, 1, 4, 2}
	targets := []int32{1, 2, -1, 0, 4, 4}
	W := numtest.Randn[float64](rng, V*C, 1) // logits = emb W^T
	emb, logits, probs, losses := make([]float64, N*C), make([]float64, N*V), make([]float64, N*V), make([]float64, N)
	loss := func() float64 {
		EmbeddingForward(emb, tokens, E, C, 1.5)
		LinearForward(logits, emb, W, N, C, V)
		return CrossEntropyForward(probs, losses, logits, targets, V)
	}
	loss()
	dlogits, demb, dE, dW := make([]float64, N*V), make([]float64, N*C), make([]float64, V*C), make([]float64, V*C)
	CrossEntropyBackward(dlogits, probs, targets, V)
	LinearBackward(demb, dW, dlogits, emb, W, N, C, V)
	EmbeddingBackward(dE, demb, tokens, C, 1.5)
	gradCheck(t, "cross-entropy dW", W, dW, loss)
	gradCheck(t, "embedding dE", E, dE, loss)
}

// Retention forms: the normalisers are detached (constants), as in torchscale,
// so the check freezes them at the unperturbed values: the forward under
// test recomputes them, which changes the function only where a clamp is
// active. The inputs are scaled so some rows clamp and some do not; the
// finite differences use the saved normalisers via a wrapper.
func TestGradParallelRetention(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 1))
	T, dk, dv := 9, 4, 3
	for _, qscale := range []float64{0.05, 1.5} { // unclamped / clamped rows
		q, k, v := numtest.Randn[float64](rng, T*dk, qscale), numtest.Randn[float64](rng, T*dk, 1), numtest.Randn[float64](rng, T*dv, 1)
		ow := numtest.Randn[float64](rng, T*dv, 1)
		o := make([]float64, T*dv)
		head := func() Head[float64] {
			return Head[float64]{Q: q, K: k, V: v, O: o, LdQK: dk, LdV: dv, LdO: dv, T: T, Dk: dk, Dv: dv, LogGamma: math.Log(0.8)}
		}
		denom := make([]float64, T)
		ParallelRetention(head(), denom, make([]float64, ParallelWorkSize(T)))
		frozen := append([]float64(nil), denom...)
		loss := func() float64 {
			ParallelRetention(head(), denom, make([]float64, ParallelWorkSize(T)))
			// Undo the recomputed normaliser, apply the frozen one.
			for n := 0; n < T; n++ {
				for x := 0; x < dv; x++ {
					o[n*dv+x] *= denom[n] / frozen[n]
				}
			}
			return dotF(o, ow)
		}
		g := HeadGrad[float64]{DQ: make([]float64, T*dk), DK: make([]float64, T*dk), DV: make([]float64, T*dv), DO: ow}
		ParallelRetentionBackward(head(), g, frozen, make([]float64, ParallelBackwardWorkSize(T)))
		clamped := 0
		for _, d := range frozen {
			if d > 1 {
				clamped++
			}
		}
		t.Logf("q scale %g: %d of %d rows clamped", qscale, clamped, T)
		gradCheck(t, "parallel dq", q, g.DQ, loss)
		gradCheck(t, "parallel dk", k, g.DK, loss)
		gradCheck(t, "parallel dv", v, g.DV, loss)
	}
}

func TestGradChunkwiseRetention(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	T, dk, dv := 11, 4, 3
	for _, c := range []struct {
		chunk  int
		qscale float64
	}{{4, 0.05}, {4, 2}, {3, 1}, {11, 1}, {1, 1}} {
		t.Run(fmt.Sprintf("C=%d,q_x%g", c.chunk, c.qscale), func(t *testing.T) {
			q, k, v := numtest.Randn[float64](rng, T*dk, c.qscale), numtest.Randn[float64](rng, T*dk, 1), numtest.Randn[float64](rng, T*dv, 1)
			ow := numtest.Randn[float64](rng, T*dv, 1)
			o := make([]float64, T*dv)
			head := Head[float64]{Q: q, K: k, V: v, O: o, LdQK: dk, LdV: dv, LdO: dv, T: T, Dk: dk, Dv: dv, LogGamma: math.Log(0.7)}
			nc := (T + c.chunk - 1) / c.chunk
			newSaved := func() *ChunkSaved[float64] {
				return &ChunkSaved[float64]{R: make([]float64, nc*dk*dv), RNorm: make([]float64, nc), A: make([]float64, T)}
			}
			saved := newSaved()
			ChunkwiseRetention(head, c.chunk, saved, make([]float64, ChunkwiseWorkSize(c.chunk, dv)))
			cur := newSaved()
			loss := func() float64 {
				ChunkwiseRetention(head, c.chunk, cur, make([]float64, ChunkwiseWorkSize(c.chunk, dv)))
				for i := 0; i < T; i++ { // swap the recomputed normaliser for the frozen one
					f := max(cur.A[i], cur.RNorm[i/c.chunk]) / max(saved.A[i], saved.RNorm[i/c.chunk])
					for x := 0; x < dv; x++ {
						o[i*dv+x] *= f
					}
				}
				return dotF(o, ow)
			}
			g := HeadGrad[float64]{DQ: make([]float64, T*dk), DK: make([]float64, T*dk), DV: make([]float64, T*dv), DO: ow}
			ChunkwiseRetentionBackward(head, g, c.chunk, saved, make([]float64, ChunkwiseBackwardWorkSize(c.chunk, dk, dv)))
			gradCheck(t, "dq", q, g.DQ, loss)
			gradCheck(t, "dk", k, g.DK, loss)
			gradCheck(t, "dv", v, g.DV, loss)
		})
	}
}

// toFloat64 copies a float32 model into the float64 path.
func toFloat64(m *Model) *ModelOf[float64] {
	m64, err := newModel[float64](m.Config)
	if err != nil {
		panic(err)
	}
	for i, v := range m.Params.Flat {
		m64.Params.Flat[i] = float64(v)
	}
	m64.LogGamma, m64.Angle = convert[float64](m.LogGamma), convert[float64](m.Angle)
	return m64
}

// The whole RetNet LM, both training forms, swish and gelu, deepnorm: the
// gradient of the mean cross-entropy w.r.t. every parameter tensor.
func TestGradRetNetModel(t *testing.T) {
	for _, c := range []struct {
		name  string
		form  Form
		chunk int
		mod   func(*Config)
	}{
		{"parallel", Parallel, 0, func(*Config) {}},
		{"chunkwise", Chunkwise, 3, func(*Config) {}},
		{"gelu, no scale, deepnorm", Parallel, 0, func(c *Config) { c.Activation, c.NoEmbedScale, c.DeepNorm = "gelu", true, true }},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := Config{Vocab: 13, Dim: 8, ValueDim: 12, FFNDim: 10, Layers: 2, Heads: 2}.WithDefaults()
			c.mod(&cfg)
			m32, _ := New(cfg)
			m32.InitWeights(5)
			m := toFloat64(m32)
			m.TrainForm, m.TrainChunk = c.form, c.chunk
			const B, T = 2, 7
			rng := rand.New(rand.NewPCG(9, 9))
			in, tg := make([]int32, B*T), make([]int32, B*T)
			for i := range in {
				in[i], tg[i] = int32(rng.IntN(cfg.Vocab)), int32(rng.IntN(cfg.Vocab))
			}
			tg[3] = -1 // an ignored position
			m.ZeroGrad()
			loss := m.ForwardBackward(in, tg, B, T)
			if l2 := m.Loss(in, tg, B, T); math.Abs(l2-loss) > 1e-12 {
				t.Fatalf("Loss %v != ForwardBackward loss %v", l2, loss)
			}
			// The detached normalisers are all 1 at this init, so the function
			// the finite differences see is the one the backward differentiates.
			for l := range m.train.acts.Layers {
				a := &m.train.acts.Layers[l].MSR
				for _, d := range a.Denom {
					if d != 1 && c.form == Parallel {
						t.Fatalf("a clamp is active (denominator %g)", d)
					}
				}
			}
			grads := m.Gradients()
			for _, pt := range m.Params.Tensors(cfg) {
				off := offsetIn(m.Params.Flat, pt.Data)
				gradCheck(t, pt.Name, pt.Data, grads[off:off+len(pt.Data)], func() float64 { return m.Loss(in, tg, B, T) })
			}
		})
	}
}

// offsetIn returns where sub starts inside flat (sub is a view of flat).
func offsetIn(flat, sub []float64) int {
	for i := range flat {
		if &flat[i] == &sub[0] {
			return i
		}
	}
	panic("not a view")
}

// The float32 backward (vectorised exponentials in the swish of the FFN and
// of the gate) gives the float64 path's gradients to float32 precision:
// the finite-difference checks above run on float64 only.
func TestFloat32GradientsMatchFloat64(t *testing.T) {
	for _, form := range []Form{Parallel, Chunkwise} {
		cfg := Config{Vocab: 37, Dim: 16, ValueDim: 32, FFNDim: 40, Layers: 2, Heads: 2}.WithDefaults()
		m32, _ := New(cfg)
		m32.InitWeights(3)
		randomize(m32.Params.Flat, 4, 0.05)
		m64 := toFloat64(m32)
		m32.TrainForm, m32.TrainChunk = form, 5
		m64.TrainForm, m64.TrainChunk = form, 5
		const B, T = 2, 13
		rng := rand.New(rand.NewPCG(7, 8))
		in, tg := make([]int32, B*T), make([]int32, B*T)
		for i := range in {
			in[i], tg[i] = int32(rng.IntN(cfg.Vocab)), int32(rng.IntN(cfg.Vocab))
		}
		m32.ZeroGrad()
		m64.ZeroGrad()
		l32, l64 := m32.ForwardBackward(in, tg, B, T), m64.ForwardBackward(in, tg, B, T)
		if math.Abs(l32-l64) > 1e-5 {
			t.Fatalf("%s: loss float32 %v, float64 %v", form, l32, l64)
		}
		g32, g64 := m32.Gradients(), m64.Gradients()
		scale := 0.0
		for _, g := range g64 {
			scale = math.Max(scale, math.Abs(g))
		}
		for i := range g64 {
			if d := math.Abs(float64(g32[i]) - g64[i]); d > 1e-4*scale {
				t.Fatalf("%s: gradient %d: float32 %g, float64 %g (largest gradient %g)", form, i, g32[i], g64[i], scale)
			}
		}
	}
}
