package retnet

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/retlab/retlab/internal/numtest"
)

// tinyConfig is a small model whose weights are scaled up so activations are
// far above the group-norm eps.
func tinyModel(t testing.TB, eps float64) *Model {
	t.Helper()
	c := Config{Vocab: 37, Dim: 16, ValueDim: 24, FFNDim: 20, Layers: 2, Heads: 2}.WithDefaults()
	c.GroupNormEps = eps
	m, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	m.InitWeights(1)
	return m
}

func randTokens(rng *rand.Rand, B, T, V int) [][]int {
	out := make([][]int, B)
	for b := range out {
		out[b] = make([]int, T)
		for t := range out[b] {
			out[b][t] = rng.IntN(V)
		}
	}
	return out
}

// With group-norm eps 0 the three forms differ only by a positive scalar per
// (token, head), which the group norm removes: logits agree to float32
// rounding, for chunk sizes that do and do not divide T.
func TestFormsAgreeWithEpsZero(t *testing.T) {
	m := tinyModel(t, 0)
	tok := randTokens(rand.New(rand.NewPCG(1, 2)), 2, 29, m.Config.Vocab)
	par, err := m.Logits(tok, Parallel, 0)
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := m.Logits(tok, Recurrent, 0)
	if d := numtest.MaxAbsDiff(par, rec); d > 1e-5 {
		t.Errorf("parallel vs recurrent logits differ by %g", d)
	}
	for _, chunk := range []int{1, 4, 7, 29, 64} {
		ch, _ := m.Logits(tok, Chunkwise, chunk)
		if d := numtest.MaxAbsDiff(par, ch); d > 1e-5 {
			t.Errorf("parallel vs chunkwise(chunk %d) logits differ by %g", chunk, d)
		}
	}
}

// A chunkwise prefill leaves the same state as feeding the tokens one by
// one, and decoding continues identically from either. Group-norm eps 0: with
// eps > 0 the forms' layer outputs differ slightly (see the spec), so deeper
// layers see slightly different inputs.
func TestPrefillStateEqualsSteps(t *testing.T) {
	m := tinyModel(t, 0)
	rng := rand.New(rand.NewPCG(3, 4))
	const B, T = 2, 23
	tok := randTokens(rng, B, T, m.Config.Vocab)
	pre := m.NewState(B)
	if _, err := m.Prefill(pre, tok, 5); err != nil {
		t.Fatal(err)
	}
	steps := m.NewState(B)
	col := make([]int, B)
	for i := 0; i < T; i++ {
		for b := range col {
			col[b] = tok[b][i]
		}
		if _, err := m.Step(steps, col); err != nil {
			t.Fatal(err)
		}
	}
	for l := range pre.Layers {
		if pre.Layers[l].Pos != T || steps.Layers[l].Pos != T {
			t.Fatalf("layer %d pos %d/%d, want %d", l, pre.Layers[l].Pos, steps.Layers[l].Pos, T)
		}
		if d := numtest.RelDiff(pre.Layers[l].S, steps.Layers[l].S); d > 1e-5 {
			t.Errorf("layer %d state S differs by %g (relative to max)", l, d)
		}
		if d := numtest.MaxAbsDiff(pre.Layers[l].Scale, steps.Layers[l].Scale); d != 0 {
			t.Errorf("layer %d scale differs by %g", l, d)
		}
	}
	for b := range col {
		col[b] = rng.IntN(m.Config.Vocab)
	}
	a, _ := m.Step(pre, col)
	a = append([]float32(nil), a...)
	c, _ := m.Step(steps, col)
	if d := numtest.MaxAbsDiff(a, c); d > 1e-4 {
		t.Errorf("next-token logits after prefill vs steps differ by %g", d)
	}
}

// Retention scores: row n of each head's matrix, times the values, is that
// head's parallel-form output at n, and rows are causal.
func TestRetentionScoresReproduceOutputs(t *testing.T) {
	m := tinyModel(t, 1e-6)
	tok := randTokens(rand.New(rand.NewPCG(5, 6)), 1, 17, m.Config.Vocab)[0]
	scores, err := m.RetentionScores(tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := m.Config
	if len(scores) != c.Layers*c.Heads {
		t.Fatalf("%d matrices, want %d", len(scores), c.Layers*c.Heads)
	}
	acts, _ := m.activationsFor([][]int{tok})
	m.Forward(acts, Parallel, 0)
	dv := c.ValueHeadDim()
	for _, s := range scores {
		a := &acts.Layers[s.Layer].MSR
		for n := range s.Scores {
			for mm := n + 1; mm < len(tok); mm++ {
				if s.Scores[n][mm] != 0 {
					t.Fatalf("layer %d head %d: score [%d][%d] above the diagonal", s.Layer, s.Head, n, mm)
				}
			}
			for x := 0; x < dv; x++ {
				var o float64
				for mm := 0; mm <= n; mm++ {
					o += float64(s.Scores[n][mm]) * float64(a.V[mm*c.ValueDim+s.Head*dv+x])
				}
				if got := float64(a.O[n*c.ValueDim+s.Head*dv+x]); math.Abs(got-o) > 1e-5 {
					t.Fatalf("layer %d head %d row %d: scores x V = %g, output %g", s.Layer, s.Head, n, o, got)
				}
			}
		}
	}
}

func TestFormAgreementReportsEpsEffect(t *testing.T) {
	tok := randTokens(rand.New(rand.NewPCG(7, 8)), 1, 19, 37)[0]
	for _, eps := range []float64{0, 1e-6} {
		m := tinyModel(t, eps)
		fa, err := m.FormAgreement(tok, 5)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fa {
			worst := math.Max(f.ParallelVsChunkwise, math.Max(f.ParallelVsRecurrent, f.RecurrentVsChunkwise))
			if eps == 0 && worst > 1e-5 {
				t.Errorf("eps 0 layer %d: forms differ by %g", f.Layer, worst)
			}
			t.Logf("eps %g layer %d: %+v", eps, f.Layer, f)
		}
	}
}

// Training in float32 through the LanguageModel interface: plain SGD on a
// repeating sequence drives the loss down, in both training forms.
func TestSGDLossFalls(t *testing.T) {
	for _, form := range []Form{Parallel, Chunkwise} {
		m := tinyModel(t, 1e-6)
		m.TrainForm, m.TrainChunk = form, 4
		const B, T = 2, 12
		in, tg := make([]int32, B*T), make([]int32, B*T)
		for i := range in {
			in[i] = int32((i * 7) % 11)
			tg[i] = int32(((i + 1) * 7) % 11)
		}
		var lm LanguageModel = m
		first, last := 0.0, 0.0
		for step := 0; step < 60; step++ {
			lm.ZeroGrad()
			loss := lm.ForwardBackward(in, tg, B, T)
			if step == 0 {
				first = loss
			}
			last = loss
			w, g := lm.Weights(), lm.Gradients()
			for i := range w {
				w[i] -= 0.5 * g[i]
			}
		}
		if !(last < first*0.5) {
			t.Errorf("%s: loss %g -> %g, want it at least halved", form, first, last)
		}
		t.Logf("%s: loss %.3f -> %.3f", form, first, last)
	}
}

func TestActivationBytesCountsThePlan(t *testing.T) {
	m := tinyModel(t, 1e-6)
	if m.ActivationBytes() != 0 {
		t.Fatal("activation bytes before planning")
	}
	const B, T = 2, 8
	in := make([]int32, B*T)
	m.ZeroGrad()
	m.ForwardBackward(in, in, B, T)
	c := m.Config
	// At least the per-layer stored activations: X, XN, H, HN (4D), Q, K (2D),
	// V, G, O, Y, Gated (5 DV) and the FFN's 3F per token, in float32.
	lower := int64(B*T*c.Layers*(6*c.Dim+5*c.ValueDim+3*c.FFNDim)) * 4
	if got := m.ActivationBytes(); got < lower || got > 20*lower {
		t.Errorf("ActivationBytes = %d, expected a little above %d", got, lower)
	}
}
