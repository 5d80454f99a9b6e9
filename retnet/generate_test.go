package retnet

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Greedy decoding through the Decoder (RetNet: chunkwise prefill then
// recurrent steps; Transformer: KV cache) picks the same tokens as greedy
// decoding that reruns the full parallel forward pass on the growing text.
func TestGreedyDecodingMatchesParallel(t *testing.T) {
	rc := Config{Vocab: ByteVocab, Dim: 32, ValueDim: 64, FFNDim: 64, Layers: 2, Heads: 2}.WithDefaults()
	rc.GroupNormEps = 0 // the forms agree to rounding (see the spec)
	rm, _ := New(rc)
	rm.InitWeights(3)
	randomize(rm.Params.Flat, 4, 0.1)
	tm, _ := NewTransformer(TransformerConfig{Vocab: ByteVocab, Dim: 32, FFNDim: 96, Layers: 2, Heads: 2}.WithDefaults())
	tm.InitWeights(3)
	randomize(tm.Params.Flat, 4, 0.1)
	parallel := map[string]func([]int) []float32{
		KindRetNet: func(seq []int) []float32 {
			l, err := rm.Logits([][]int{seq}, Parallel, 0)
			if err != nil {
				t.Fatal(err)
			}
			return l[(len(seq)-1)*ByteVocab:]
		},
		KindTransformer: func(seq []int) []float32 {
			acts := NewTransformerActs(tm.Config, 1, len(seq))
			for i, v := range seq {
				acts.Tokens[i] = int32(v)
			}
			tm.Forward(acts)
			return acts.Logits[(len(seq)-1)*ByteVocab:]
		},
	}
	models := map[string]LanguageModel{KindRetNet: rm, KindTransformer: tm}
	prompt := []int{'f', 'u', 'n', 'c', ' ', 'm', 'a', 'i', 'n', '(', ')'}
	const n = 40
	for kind, m := range models {
		got, err := Generate(m, prompt, GenerateOptions{Tokens: n})
		if err != nil {
			t.Fatal(err)
		}
		seq := append([]int(nil), prompt...)
		for i := 0; i < n; i++ {
			logits := parallel[kind](seq)
			want := Argmax(logits)
			if got[i] != want {
				t.Fatalf("%s: token %d: decoder chose %d, parallel greedy %d", kind, i, got[i], want)
			}
			seq = append(seq, want)
		}
	}
}

func TestSampler(t *testing.T) {
	logits := []float32{0, 3, 1, 2}
	rng := rand.New(rand.NewPCG(1, 1))
	s := &Sampler{Temperature: 1, TopK: 2}
	counts := map[int]int{}
	for i := 0; i < 2000; i++ {
		counts[s.Sample(logits, rng)]++
	}
	// Top-2 keeps tokens 1 and 3 with odds e^3 : e^2.
	if counts[0]+counts[2] != 0 {
		t.Errorf("top-k sampled outside the top 2: %v", counts)
	}
	if f := float64(counts[1]) / 2000; math.Abs(f-1/(1+math.Exp(-1))) > 0.04 {
		t.Errorf("token 1 drawn %.3f of the time, want %.3f", f, 1/(1+math.Exp(-1)))
	}
	if (&Sampler{}).Sample(logits, rng) != 1 {
		t.Errorf("temperature 0 is not argmax")
	}
	tm, err := NewLanguageModel(TransformerConfig{Vocab: ByteVocab, Dim: 32, FFNDim: 106, Layers: 1, Heads: 2}.WithDefaults(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(tm, nil, GenerateOptions{Tokens: 1}); err == nil {
		t.Errorf("empty prompt accepted")
	}
}
