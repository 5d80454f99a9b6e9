package train

import (
	"fmt"
	"math"

	"github.com/retlab/retlab/internal/parallel"
)

// AdamWConfig holds AdamW's hyper-parameters (the learning rate comes from
// a Schedule each step). Defaults follow the paper's RetNet training:
// betas (0.9, 0.98), weight decay 0.05.
type AdamWConfig struct {
	Beta1       float64 `json:"beta1"`
	Beta2       float64 `json:"beta2"`
	Eps         float64 `json:"eps"`
	WeightDecay float64 `json:"weight_decay"`
}

// DefaultAdamW is the paper's setting with torch's eps.
var DefaultAdamW = AdamWConfig{Beta1: 0.9, Beta2: 0.98, Eps: 1e-8, WeightDecay: 0.05}

// AdamW is Adam with decoupled weight decay (Loshchilov & Hutter), as
// torch.optim.AdamW computes it, on one flat parameter slice. Its moments
// mirror the model's Weights layout, so an update is one loop and the
// optimizer state is two tensors in a checkpoint. Weight decay applies to
// every parameter, as fairseq does.
type AdamW struct {
	Config AdamWConfig
	M, V   []float32 // first and second moments, len = number of parameters
	Step   int       // updates taken so far (t of the bias corrections)
}

// NewAdamW returns an optimizer for n parameters with zero moments.
func NewAdamW(n int, c AdamWConfig) *AdamW {
	return &AdamW{Config: c, M: make([]float32, n), V: make([]float32, n)}
}

// Update applies one AdamW step with learning rate lr to w given its
// gradient g, in place: with t = Step+1,
//
//	w  *= 1 - lr wd
//	m   = b1 m + (1-b1) g,   v = b2 v + (1-b2) g^2
//	w  -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
//
// Each element is independent, so the result does not depend on how the
// loop is split over cores. It panics if w, g and the moments differ in
// length.
func (o *AdamW) Update(w, g []float32, lr float64) {
	if len(w) != len(o.M) || len(g) != len(o.M) {
		panic(fmt.Sprintf("train: AdamW.Update %d weights and %d gradients for an optimizer of %d", len(w), len(g), len(o.M)))
	}
	o.Step++
	c := o.Config
	t := float64(o.Step)
	stepSize := float32(lr / (1 - math.Pow(c.Beta1, t)))
	bc2 := float32(math.Sqrt(1 - math.Pow(c.Beta2, t)))
	decay := float32(1 - lr*c.WeightDecay)
	b1, b2, eps := float32(c.Beta1), float32(c.Beta2), float32(c.Eps)
	const block = 1 << 15
	parallel.For((len(w)+block-1)/block, func(_, i int) {
		lo, hi := i*block, min((i+1)*block, len(w))
		m, v, wb, gb := o.M[lo:hi], o.V[lo:hi], w[lo:hi], g[lo:hi]
		for j, gj := range gb {
			m[j] = b1*m[j] + (1-b1)*gj
			v[j] = b2*v[j] + (1-b2)*gj*gj
			denom := float32(math.Sqrt(float64(v[j])))/bc2 + eps
			wb[j] = wb[j]*decay - stepSize*m[j]/denom
		}
	})
}

// Schedule is the learning rate against the step: linear warm-up from
// Peak/Warmup to Peak over the first Warmup steps, then a cosine decay from
// Peak to Min at step Total-1 (and Min after it).
type Schedule struct {
	Peak   float64 `json:"lr"`
	Min    float64 `json:"min_lr"`
	Warmup int     `json:"warmup_steps"`
	Total  int     `json:"steps"`
}

// LR is the learning rate of step (0-based).
func (s Schedule) LR(step int) float64 {
	if step < s.Warmup {
		return s.Peak * float64(step+1) / float64(s.Warmup)
	}
	span := s.Total - 1 - s.Warmup
	if span <= 0 || step >= s.Total-1 {
		if span <= 0 && step < s.Total {
			return s.Peak
		}
		return s.Min
	}
	frac := float64(step-s.Warmup) / float64(span)
	return s.Min + (s.Peak-s.Min)*0.5*(1+math.Cos(math.Pi*frac))
}

// ClipGradNorm scales g so that its L2 norm is at most maxNorm (no-op when
// maxNorm <= 0 or the norm is smaller) and returns the norm before
// clipping. The sum of squares is formed in float64, in order, so the result
// is deterministic.
func ClipGradNorm(g []float32, maxNorm float64) float64 {
	var ss float64
	for _, v := range g {
		ss += float64(v) * float64(v)
	}
	norm := math.Sqrt(ss)
	if maxNorm > 0 && norm > maxNorm {
		f := float32(maxNorm / (norm + 1e-6))
		for i := range g {
			g[i] *= f
		}
	}
	return norm
}
