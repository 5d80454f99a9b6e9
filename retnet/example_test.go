package retnet_test

import (
	"fmt"
	"math"

	"github.com/retlab/retlab/retnet"
)

// The torchscale decay schedule: head h keeps 1 - 2^(-5-h) of its state per
// token, so its effective memory doubles with each head.
func ExampleGammas() {
	for h, g := range retnet.Gammas(retnet.ScheduleTorchscale, 4) {
		fmt.Printf("head %d: gamma %.6f, half-life %.1f tokens, memory %.0f tokens\n",
			h, g, retnet.HalfLife(g), retnet.EffectiveMemory(g))
	}
	// Output:
	// head 0: gamma 0.968750, half-life 21.8 tokens, memory 32 tokens
	// head 1: gamma 0.984375, half-life 44.0 tokens, memory 64 tokens
	// head 2: gamma 0.992188, half-life 88.4 tokens, memory 128 tokens
	// head 3: gamma 0.996094, half-life 177.1 tokens, memory 256 tokens
}

// The parallel form's normalised decay mask: row n is gamma^(n-m) divided by
// the square root of the row's sum.
func ExampleDecayMask() {
	mask := make([]float32, 3*3)
	retnet.DecayMask(mask, float32(math.Log(0.5)), 3, true)
	for n := 0; n < 3; n++ {
		fmt.Printf("%.4f\n", mask[n*3:(n+1)*3])
	}
	// Output:
	// [1.0000 0.0000 0.0000]
	// [0.4082 0.8165 0.0000]
	// [0.1890 0.3780 0.7559]
}

// The paper presets reproduce the published sizes.
func ExamplePreset() {
	c, _ := retnet.Preset("7b", retnet.DefaultVocab)
	p := c.Params()
	fmt.Printf("D=%d L=%d H=%d: %.2fB non-embedding parameters\n", c.Dim, c.Layers, c.Heads, float64(p.NonEmbedding)/1e9)
	// Output:
	// D=4096 L=32 H=16: 6.51B non-embedding parameters
}

// The three forms of retention give the same outputs once the group norm
// removes each token's normalising scalar (exactly so with eps = 0).
func ExampleModel_Logits() {
	c := retnet.Config{Vocab: 11, Dim: 8, ValueDim: 8, FFNDim: 16, Layers: 1, Heads: 2}.WithDefaults()
	c.GroupNormEps = 0
	m, _ := retnet.New(c)
	m.InitWeights(7)
	tokens := [][]int{{1, 2, 3, 4, 5, 6, 7}}
	par, _ := m.Logits(tokens, retnet.Parallel, 0)
	par = append([]float32(nil), par...)
	for _, form := range []retnet.Form{retnet.Recurrent, retnet.Chunkwise} {
		other, _ := m.Logits(tokens, form, 3)
		var d float64
		for i := range par {
			d = math.Max(d, math.Abs(float64(par[i]-other[i])))
		}
		fmt.Printf("parallel vs %s: agree to 1e-5: %v\n", form, d < 1e-5)
	}
	// Output:
	// parallel vs recurrent: agree to 1e-5: true
	// parallel vs chunkwise: agree to 1e-5: true
}

// Decoding: prefill a prompt chunkwise, then step one token at a time; the
// state's size does not grow with the number of tokens: per layer
// B*H*dk*dv + H floats = (2*4*4 + 2) * 4 bytes, times 2 layers = 272.
func ExampleModel_Step() {
	c := retnet.Config{Vocab: 11, Dim: 8, ValueDim: 8, FFNDim: 16, Layers: 2, Heads: 2}.WithDefaults()
	m, _ := retnet.New(c)
	m.InitWeights(7)
	st := m.NewState(1)
	m.Prefill(st, [][]int{{1, 2, 3, 4, 5}}, 2)
	before := st.Bytes()
	m.Step(st, []int{6})
	m.Step(st, []int{7})
	fmt.Println("position", st.Pos(), "state bytes", st.Bytes(), "unchanged:", before == st.Bytes())
	// Output:
	// position 7 state bytes 272 unchanged: true
}

// The size ladder matches the two architectures in non-embedding
// parameters rung by rung.
func ExampleLadder() {
	for _, s := range retnet.Ladder() {
		r, t := s.RetNet.Params().NonEmbedding, s.Transformer.Params().NonEmbedding
		fmt.Printf("%-2s D=%3d L=%d: RetNet %7d, Transformer %7d (%.2f%% apart)\n", s.Name, s.RetNet.Dim, s.RetNet.Layers, r, t, 100*math.Abs(float64(r-t))/float64(r))
	}
	// Output:
	// xs D= 64 L=2: RetNet  115008, Transformer  114880 (0.11% apart)
	// s  D=128 L=3: RetNet  689024, Transformer  689408 (0.06% apart)
	// m  D=192 L=4: RetNet 2066112, Transformer 2066112 (0.00% apart)
	// l  D=256 L=5: RetNet 4590336, Transformer 4589056 (0.03% apart)
}

// A Transformer decodes with a KV cache whose memory grows with the
// context; RetNet's recurrent state does not.
func ExampleTransformer_NewDecoder() {
	c := retnet.TransformerConfig{Vocab: 256, Dim: 32, FFNDim: 96, Layers: 2, Heads: 2}.WithDefaults()
	m, _ := retnet.NewTransformer(c)
	m.InitWeights(1)
	d := m.NewDecoder(1)
	d.Prefill([][]int{{'h', 'e', 'l', 'l', 'o'}})
	fmt.Println("after 5 tokens:", d.StateBytes(), "bytes")
	d.Step([]int{'!'})
	fmt.Println("after 6 tokens:", d.StateBytes(), "bytes")
	// Output:
	// after 5 tokens: 2560 bytes
	// after 6 tokens: 3072 bytes
}
