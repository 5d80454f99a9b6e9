package retnet

import (
	"math"
	"testing"
)

// maxAbsDiff is the largest |a[i]-b[i]|; it fails t on a length mismatch.
func maxAbsDiff(t *testing.T, a, b []float32) float64 {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("lengths %d and %d", len(a), len(b))
	}
	var d float64
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

func promptOf(B, n int, seed uint64) [][]int {
	p := make([][]int, B)
	for b := range p {
		for _, tok := range randomTokens(n, seed+uint64(b)) {
			p[b] = append(p[b], int(tok))
		}
	}
	return p
}

// FillContext puts a RetNet decoder where a prefill of n tokens does in all
// but the state's content: the same position and scale c_n, and, given the
// prefilled S, the same next step (logits) as the prefilled decoder.
func TestRetNetFillContextIsAPrefillPosition(t *testing.T) {
	c := Config{Vocab: ByteVocab, Dim: 32, ValueDim: 64, FFNDim: 64, Layers: 2, Heads: 2}.WithDefaults()
	m, _ := New(c)
	m.InitWeights(5)
	const B, n = 2, 37
	pre := m.NewDecoder(B)
	if _, err := pre.Prefill(promptOf(B, n, 1)); err != nil {
		t.Fatal(err)
	}
	fill := m.NewDecoder(B)
	if err := fill.(*retnetDecoder[float32]).FillContext(n, 9); err != nil {
		t.Fatal(err)
	}
	if fill.Pos() != n || fill.StateBytes() != pre.StateBytes() {
		t.Fatalf("filled decoder at pos %d holding %d bytes, prefilled at %d holding %d", fill.Pos(), fill.StateBytes(), pre.Pos(), pre.StateBytes())
	}
	ps, fs := pre.(*retnetDecoder[float32]).st, fill.(*retnetDecoder[float32]).st
	for l := range ps.Layers {
		if d := maxAbsDiff(t, ps.Layers[l].Scale, fs.Layers[l].Scale); d != 0 {
			t.Errorf("layer %d: scale c_n differs by %g (filled %v, prefilled %v)", l, d, fs.Layers[l].Scale, ps.Layers[l].Scale)
		}
		if maxAbsDiff(t, ps.Layers[l].S, fs.Layers[l].S) == 0 {
			t.Errorf("layer %d: the filled S equals the prefilled one; want random", l)
		}
		copy(fs.Layers[l].S, ps.Layers[l].S)
	}
	next := []int{3, 200}
	want, err := pre.Step(next)
	if err != nil {
		t.Fatal(err)
	}
	want = append([]float32(nil), want...)
	got, err := fill.Step(next)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(t, got, want); d > 1e-5 {
		t.Errorf("step after FillContext (prefilled S copied in) differs from the prefilled decoder's by %g", d)
	}
}

// The same for the Transformer's KV cache: FillContext's position, given
// the prefilled keys and values, steps like the prefilled cache.
func TestKVCacheFillContextIsAPrefillPosition(t *testing.T) {
	c := TransformerConfig{Vocab: ByteVocab, Dim: 32, FFNDim: 48, Layers: 2, Heads: 2}.WithDefaults()
	m, err := NewTransformer(c)
	if err != nil {
		t.Fatal(err)
	}
	m.InitWeights(5)
	const B, n = 2, 37
	pre := NewKVCache(m, B)
	if _, err := pre.Prefill(promptOf(B, n, 1)); err != nil {
		t.Fatal(err)
	}
	fill := NewKVCache(m, B)
	if err := fill.FillContext(n, 9); err != nil {
		t.Fatal(err)
	}
	if fill.Pos() != n || fill.StateBytes() != pre.StateBytes() {
		t.Fatalf("filled cache at pos %d holding %d bytes, prefilled at %d holding %d", fill.Pos(), fill.StateBytes(), pre.Pos(), pre.StateBytes())
	}
	dk := c.HeadDim()
	for l := range pre.K {
		for bh := 0; bh < B*c.Heads; bh++ {
			copy(fill.K[l][bh*fill.size*dk:bh*fill.size*dk+n*dk], pre.K[l][bh*pre.size*dk:])
			copy(fill.V[l][bh*fill.size*dk:bh*fill.size*dk+n*dk], pre.V[l][bh*pre.size*dk:])
		}
	}
	next := []int{3, 200}
	want, _ := pre.Step(next)
	want = append([]float32(nil), want...)
	got, _ := fill.Step(next)
	if d := maxAbsDiff(t, got, want); d > 1e-5 {
		t.Errorf("step after FillContext (prefilled cache copied in) differs from the prefilled cache's by %g", d)
	}
}
