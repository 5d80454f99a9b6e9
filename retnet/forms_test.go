package retnet

import (
	"math"
	"math/rand/v2"
	"testing"
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

func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
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
	if d := maxAbsDiff(par, rec); d > 1e-5 {
		t.Errorf("parallel vs recurrent logits differ by %g", d)
	}
	for _, chunk := range []int{1, 4, 7, 29, 64} {
		ch, _ := m.Logits(tok, Chunkwise, chunk)
		if d := maxAbsDiff(par, ch); d > 1e-5 {
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
		if d := relDiff(pre.Layers[l].S, steps.Layers[l].S); d > 1e-5 {
			t.Errorf("layer %d state S differs by %g (relative to max)", l, d)
		}
		if d := maxAbsDiff(pre.Layers[l].Scale, steps.Layers[l].Scale); d != 0 {
			t.Errorf("layer %d scale differs by %g", l, d)
		}
	}
	for b := range col {
		col[b] = rng.IntN(m.Config.Vocab)
	}
	a, _ := m.Step(pre, col)
	a = append([]float32(nil), a...)
	c, _ := m.Step(steps, col)
	if d := maxAbsDiff(a, c); d > 1e-4 {
		t.Errorf("next-token logits after prefill vs steps differ by %g", d)
	}
}

func relDiff(a, b []float32) float64 {
	var mx float64
	for _, v := range b {
		mx = math.Max(mx, math.Abs(float64(v)))
	}
	return maxAbsDiff(a, b) / math.Max(mx, 1e-30)
}
