package retnet

import "testing"

// The public Layout and the allocated views come from one table: same
// names, shapes and offsets, and the sizes sum to the parameter count.
func TestLayoutMatchesParams(t *testing.T) {
	rc := Config{Vocab: 11, Dim: 8, ValueDim: 16, FFNDim: 12, Layers: 2, Heads: 2}.WithDefaults()
	tc := TransformerConfig{Vocab: 11, Dim: 8, FFNDim: 12, Layers: 2, Heads: 2}.WithDefaults()
	rp, tp := NewParams(rc), NewTransformerParams(tc)
	cases := []struct {
		name    string
		cfg     ModelConfig
		flat    []float32
		tensors []Tensor
	}{
		{KindRetNet, rc, rp.Flat, rp.Tensors(rc)},
		{KindTransformer, tc, tp.Flat, tp.Tensors(tc)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := tc.cfg.Layout()
			if l.Size != len(tc.flat) || int64(l.Size) != tc.cfg.Params().Total {
				t.Fatalf("layout size %d, flat %d, Params().Total %d", l.Size, len(tc.flat), tc.cfg.Params().Total)
			}
			if len(l.Slots) != len(tc.tensors) {
				t.Fatalf("%d slots, %d tensors", len(l.Slots), len(tc.tensors))
			}
			for i, s := range l.Slots {
				ts := tc.tensors[i]
				if ts.Name != s.Name || !equalInts(ts.Shape, s.Shape) || len(ts.Data) != s.Size || &ts.Data[0] != &tc.flat[s.Offset] {
					t.Errorf("slot %d %s%v at %d: tensor %s%v of %d elements elsewhere", i, s.Name, s.Shape, s.Offset, ts.Name, ts.Shape, len(ts.Data))
				}
			}
			if s, ok := l.Slot("output_projection.weight"); !ok || s.Offset+s.Size != l.Size {
				t.Errorf("output projection %+v is not the last slot", s)
			}
		})
	}
}

// A model keeps one plan per shape use: the same (B,T) reuses it, another
// (B,T) replaces it (planShape), for both architectures.
func TestPlanShape(t *testing.T) {
	rm, _ := New(Config{Vocab: 11, Dim: 8, ValueDim: 16, FFNDim: 12, Layers: 1, Heads: 2}.WithDefaults())
	tm, _ := NewTransformer(TransformerConfig{Vocab: 11, Dim: 8, FFNDim: 12, Layers: 1, Heads: 2}.WithDefaults())
	tok := func(n int) []int32 { return make([]int32, n) }
	for _, c := range []struct {
		name string
		m    LanguageModel
		plan func() any
	}{
		{KindRetNet, rm, func() any { return rm.eval }},
		{KindTransformer, tm, func() any { return tm.eval }},
	} {
		c.m.Loss(tok(8), tok(8), 2, 4)
		first := c.plan()
		c.m.Loss(tok(8), tok(8), 2, 4)
		if c.plan() != first {
			t.Errorf("%s: the same shape re-planned", c.name)
		}
		c.m.Loss(tok(8), tok(8), 1, 8)
		if c.plan() == first {
			t.Errorf("%s: a new shape kept the old plan", c.name)
		}
	}
}
