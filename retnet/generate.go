package retnet

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// GenerateOptions control sampling.
type GenerateOptions struct {
	Tokens      int     // tokens to generate
	Temperature float64 // 0: greedy (argmax); otherwise logits are divided by it
	TopK        int     // sample among the K most likely tokens (<= 0: all)
	Seed        uint64  // sampling is deterministic given the seed
}

// Generate continues prompt with model, one sequence, and returns the
// generated tokens (not the prompt). The prompt is consumed by the
// decoder's Prefill (RetNet: chunkwise, then O(1) recurrent steps;
// Transformer: a full forward pass into its KV cache), each new token by a
// Step.
func Generate(model DecoderMaker, prompt []int, opt GenerateOptions) ([]int, error) {
	if len(prompt) == 0 {
		return nil, fmt.Errorf("retnet: Generate needs a non-empty prompt")
	}
	if opt.Temperature < 0 || math.IsNaN(opt.Temperature) {
		return nil, fmt.Errorf("retnet: temperature %g, want >= 0", opt.Temperature)
	}
	dec := model.NewDecoder(1)
	logits, err := dec.Prefill([][]int{prompt})
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x67656e))
	s := &Sampler{Temperature: opt.Temperature, TopK: opt.TopK}
	out := make([]int, 0, opt.Tokens)
	for len(out) < opt.Tokens {
		tok := s.Sample(logits, rng)
		out = append(out, tok)
		if len(out) == opt.Tokens {
			break
		}
		if logits, err = dec.Step([]int{tok}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// DecoderMaker is what Generate needs of a model: every LanguageModel,
// and inference-only models such as the pretrained ones of package hf.
type DecoderMaker interface {
	NewDecoder(B int) Decoder
}

// Sampler draws a token from next-token logits.
type Sampler struct {
	Temperature float64 // 0: argmax
	TopK        int     // <= 0: no truncation
	idx         []int
	p           []float64
}

// Sample returns a token drawn from softmax(logits / Temperature)
// restricted to the TopK most likely tokens; with Temperature 0, the
// argmax (the lowest index among ties).
func (s *Sampler) Sample(logits []float32, rng *rand.Rand) int {
	if s.Temperature == 0 {
		return Argmax(logits)
	}
	if cap(s.idx) < len(logits) {
		s.idx, s.p = make([]int, len(logits)), make([]float64, len(logits))
	}
	idx := s.idx[:len(logits)]
	for i := range idx {
		idx[i] = i
	}
	if s.TopK > 0 && s.TopK < len(logits) {
		sort.SliceStable(idx, func(a, b int) bool { return logits[idx[a]] > logits[idx[b]] })
		idx = idx[:s.TopK]
	}
	mx := math.Inf(-1)
	for _, i := range idx {
		mx = math.Max(mx, float64(logits[i]))
	}
	p := s.p[:len(idx)]
	var z float64
	for k, i := range idx {
		p[k] = math.Exp((float64(logits[i]) - mx) / s.Temperature)
		z += p[k]
	}
	u := rng.Float64() * z
	for k, i := range idx {
		u -= p[k]
		if u < 0 {
			return i
		}
	}
	return idx[len(idx)-1]
}

// Argmax is the index of the largest value (the first among ties).
func Argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}
