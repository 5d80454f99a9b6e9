package retnet

import (
	"fmt"
	"math"
)

// Model is a RetNet decoder language model (torchscale RetNetDecoder with
// pre-norm blocks):
//
//	x_0 = sqrt(D) E[tokens]                     (1 with NoEmbedScale)
//	h   = alpha x + MSR(RMSNorm_a(x))            (alpha = 1, or (2L)^(1/4) with DeepNorm)
//	x'  = alpha h + FFN(RMSNorm_b(h)),  FFN(z) = (act(z Fc1^T) (.) z Gate^T) Fc2^T
//	logits = RMSNorm(x_L) Out^T
type Model = ModelOf[float32]

// ModelOf is Model with element type T; the float64 instantiation is the
// path the gradient checks use.
type ModelOf[T Float] struct {
	Config   Config
	Params   *ParamsOf[T]
	LogGamma []T // (H) retnet_rel_pos.decay = log(gamma_h)
	Angle    []T // (dk) retnet_rel_pos.angle

	// TrainForm is the retention form ForwardBackward and Loss use: Parallel
	// (default) or Chunkwise with TrainChunk (<= 0: DefaultChunk).
	TrainForm  Form
	TrainChunk int

	grads *ParamsOf[T]  // mirrors Params; allocated by the first backward pass
	train *trainPlan[T] // activations and gradient scratch of ForwardBackward
	eval  *trainPlan[T] // activations of Loss
}

// New returns a model with zeroed parameters and the decay/angle buffers of
// c's schedule. Call InitWeights, or load a checkpoint.
func New(c Config) (*Model, error) { return newModel[float32](c) }

func newModel[T Float](c Config) (*ModelOf[T], error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &ModelOf[T]{
		Config:   c,
		Params:   newParams[T](c),
		LogGamma: convert[T](LogGammas(c.Schedule, c.Heads)),
		Angle:    convert[T](Angles(c.KeyHeadDim())),
	}, nil
}

// convert copies a float32 slice into element type T.
func convert[T Float](x []float32) []T {
	out := make([]T, len(x))
	for i, v := range x {
		out[i] = T(v)
	}
	return out
}

// InitWeights fills the parameters as torchscale initialises them,
// deterministically from seed: q/k/v/g xavier_uniform with gain 2^-2.5,
// out_proj gain 2^-1, GLU linears torch's default uniform(+-1/sqrt(fan_in)),
// embedding and output projection normal(0, D^-1/2), norms 1. With DeepNorm,
// fc1/fc2/out_proj/v_proj are further divided by (8L)^(1/4).
func (m *ModelOf[T]) InitWeights(seed uint64) {
	c := m.Config
	in := newInitializer[T](seed, 0x5265744c6162) // "RetLab"
	D, DV, F := float64(c.Dim), float64(c.ValueDim), float64(c.FFNDim)
	xavier, uniform, normal, ones := in.xavier, in.linear, in.normal, in.ones
	dn := 1.0
	if c.DeepNorm {
		dn = 1 / math.Pow(8*float64(c.Layers), 0.25)
	}
	p := m.Params
	normal(p.Embed, 1/math.Sqrt(D))
	for l := range p.Layers {
		lp := &p.Layers[l]
		ones(lp.RetNorm)
		ones(lp.FFNNorm)
		g := math.Pow(2, -2.5)
		xavier(lp.Wq, D, D, g)
		xavier(lp.Wk, D, D, g)
		xavier(lp.Wv, DV, D, g*dn)
		xavier(lp.Wg, DV, D, g)
		xavier(lp.Wo, D, DV, 0.5*dn)
		uniform(lp.Fc1, D)
		uniform(lp.Gate, D)
		uniform(lp.Fc2, F)
		if c.DeepNorm {
			scale(T(dn), lp.Fc1)
			scale(T(dn), lp.Fc2)
		}
	}
	ones(p.FinalNorm)
	normal(p.Out, 1/math.Sqrt(D))
}

// ResidualAlpha is the residual scale alpha of each block's
// x' = alpha x + f(norm(x)): DeepNorm's (2L)^(1/4), else 1. Every forward
// pass (CPU, GPU) takes it from here.
func (c Config) ResidualAlpha() float64 {
	if c.DeepNorm {
		return math.Pow(2*float64(c.Layers), 0.25)
	}
	return 1
}

// msr returns layer l's multi-scale retention as an MSR view.
func (m *ModelOf[T]) msr(l int) *MSR[T] {
	c, lp := m.Config, &m.Params.Layers[l]
	return &MSR[T]{D: c.Dim, DV: c.ValueDim, H: c.Heads, Wq: lp.Wq, Wk: lp.Wk, Wv: lp.Wv, Wg: lp.Wg, Wo: lp.Wo,
		LogGamma: m.LogGamma, Angle: m.Angle, GroupNormEps: c.GroupNormEps}
}

// Activations hold everything one forward pass at a fixed (B,T) computes,
// kept for the backward pass. Allocate with NewActivations; a changed B or T
// needs new Activations (sizes are planned up front, never resized).
type Activations = ActivationsOf[float32]

// ActivationsOf is Activations with element type T.
type ActivationsOf[T Float] struct {
	B, T      int
	Tokens    []int32 // (B,T)
	Layers    []LayerActs[T]
	XL        []T // (B,T,D) output of the last block
	FinalN    []T // (B,T,D) RMSNorm(XL)
	FinalRstd []T // (B,T)
	Logits    []T // (B,T,V)
}

// LayerActs are one block's activations.
type LayerActs[T Float] struct {
	X      []T // (B,T,D) block input
	XN     []T // (B,T,D) retention_layer_norm(X)
	XNRstd []T // (B,T)
	MSR    MSRActs[T]
	H      []T // (B,T,D) alpha X + MSR(XN)
	HN     []T // (B,T,D) final_layer_norm(H)
	HNRstd []T // (B,T)
	FFN    GLUActs[T]
}

// NewActivations plans the activation memory of a (B,T) forward pass.
func NewActivations(c Config, B, T int) *Activations { return newActivations[float32](c, B, T) }

func newActivations[T Float](c Config, B, nT int) *ActivationsOf[T] {
	a := &ActivationsOf[T]{B: B, T: nT, Tokens: make([]int32, B*nT), Layers: make([]LayerActs[T], c.Layers)}
	allocActs(a.table(c))
	return a
}

// table lists the model-level buffers of a's (B,T) plan (the MSR layers
// size their own on first use, see MSRActs).
func (a *ActivationsOf[T]) table(c Config) []actSlot[T] {
	N, D := a.B*a.T, c.Dim
	s := []actSlot[T]{{&a.XL, N * D}, {&a.FinalN, N * D}, {&a.FinalRstd, N}, {&a.Logits, N * c.Vocab}}
	for l := range a.Layers {
		la := &a.Layers[l]
		s = append(s, blockActs(N, D, c.FFNDim, &la.X, &la.XN, &la.XNRstd, &la.H, &la.HN, &la.HNRstd, &la.FFN)...)
	}
	return s
}

// CheckTokens returns an error naming the first token outside [0, V).
func (c Config) CheckTokens(tokens []int32) error {
	for i, t := range tokens {
		if t < 0 || int(t) >= c.Vocab {
			return fmt.Errorf("retnet: token %d at position %d is outside the vocabulary [0,%d)", t, i, c.Vocab)
		}
	}
	return nil
}

// Forward runs the model on acts.Tokens (B,T) with retention in the given
// form (chunk: chunk size for Chunkwise; <= 0 means DefaultChunk capped at T)
// and leaves the logits in acts.Logits. It panics on an out-of-range token
// (check with CheckTokens first).
func (m *ModelOf[T]) Forward(acts *ActivationsOf[T], form Form, chunk int) {
	m.forward(acts, form, chunk, nil)
}

// forward is Forward continuing (Recurrent) or filling (Parallel,
// Chunkwise from an empty state) the recurrent state st when not nil.
func (m *ModelOf[T]) forward(acts *ActivationsOf[T], form Form, chunk int, st *StateOf[T]) {
	c := m.Config
	B, nT, D := acts.B, acts.T, c.Dim
	N := B * nT
	if len(acts.Layers) != c.Layers {
		panic("retnet: Activations were planned for another config")
	}
	if err := c.CheckTokens(acts.Tokens); err != nil {
		panic(err)
	}
	p := m.Params
	EmbeddingForward(acts.Layers[0].X, acts.Tokens, p.Embed, D, T(m.Config.EmbedScale()))
	alpha := T(c.ResidualAlpha())
	for l := range acts.Layers {
		la, lp := &acts.Layers[l], &p.Layers[l]
		next := acts.XL
		if l+1 < c.Layers {
			next = acts.Layers[l+1].X
		}
		RMSNormForward(la.XN, la.XNRstd, la.X, lp.RetNorm, N, D, c.NormEps)
		var ls *LayerState[T]
		if st != nil {
			ls = &st.Layers[l]
		}
		m.msr(l).Forward(la.H, la.XN, B, nT, form, chunk, &la.MSR, ls)
		addScaled(la.H, la.X, alpha)
		RMSNormForward(la.HN, la.HNRstd, la.H, lp.FFNNorm, N, D, c.NormEps)
		GLUForward(next, la.HN, lp.Fc1, lp.Gate, lp.Fc2, &la.FFN, N, D, c.FFNDim, c.Activation)
		addScaled(next, la.H, alpha)
	}
	RMSNormForward(acts.FinalN, acts.FinalRstd, acts.XL, p.FinalNorm, N, D, c.NormEps)
	LinearForward(acts.Logits, acts.FinalN, p.Out, N, D, c.Vocab)
}

// EmbedScale is the factor of the token embeddings, x_0 = EmbedScale E[tok]:
// sqrt(D) rounded to float32, or 1 with NoEmbedScale. Every forward pass
// (CPU, GPU) takes it from here.
func (c Config) EmbedScale() float32 { return embedScale(c.Dim, c.NoEmbedScale) }

// embedScale is sqrt(D) rounded to float32, or 1 when off.
func embedScale(D int, off bool) float32 {
	if off {
		return 1
	}
	return float32(math.Sqrt(float64(D)))
}

// BackwardScratch is the gradient scratch of a (B,T) backward pass.
type BackwardScratch[T Float] struct {
	DLogits, Probs []T // (B,T,V)
	Losses         []float64
	DRes, DH, DN   []T // (B,T,D) residual-stream, block-middle and normed-input gradients
	GLU            []T // (2,B,T,F)
	MSR            MSRGrads[T]
}

func newBackwardScratch[T Float](c Config, N int) *BackwardScratch[T] {
	return &BackwardScratch[T]{DLogits: make([]T, N*c.Vocab), Probs: make([]T, N*c.Vocab), Losses: make([]float64, N),
		DRes: make([]T, N*c.Dim), DH: make([]T, N*c.Dim), DN: make([]T, N*c.Dim), GLU: make([]T, 2*N*c.FFNDim)}
}

// Backward adds into grads the gradients of the mean next-token
// cross-entropy of the last Forward (parallel or chunkwise; for chunkwise
// the layers' MSRActs need KeepForBackward) against targets (B,T; < 0
// ignores a position) and returns that loss. It walks the forward in
// reverse: output projection, final norm, then per block the FFN branch and
// the retention branch with their norms and residuals, then the embedding.
func (m *ModelOf[T]) Backward(grads *ParamsOf[T], acts *ActivationsOf[T], targets []int32, s *BackwardScratch[T]) float64 {
	c, p := m.Config, m.Params
	N, D, V := acts.B*acts.T, c.Dim, c.Vocab
	loss := CrossEntropyForward(s.Probs, s.Losses, acts.Logits, targets, V)
	clear(s.DLogits)
	CrossEntropyBackward(s.DLogits, s.Probs, targets, V)
	clear(s.DN)
	LinearBackward(s.DN, grads.Out, s.DLogits, acts.FinalN, p.Out, N, D, V)
	clear(s.DRes)
	RMSNormBackward(s.DRes, grads.FinalNorm, s.DN, acts.XL, p.FinalNorm, acts.FinalRstd, N, D)
	alpha := T(c.ResidualAlpha())
	for l := c.Layers - 1; l >= 0; l-- {
		la, lp, lg := &acts.Layers[l], &p.Layers[l], &grads.Layers[l]
		// next = alpha H + FFN(RMSNorm_b(H)); s.DRes holds d next.
		for i, v := range s.DRes {
			s.DH[i] = alpha * v
		}
		clear(s.DN)
		GLUBackward(s.DN, lg.Fc1, lg.Gate, lg.Fc2, s.DRes, la.HN, lp.Fc1, lp.Gate, lp.Fc2, &la.FFN, s.GLU, N, D, c.FFNDim, c.Activation)
		RMSNormBackward(s.DH, lg.FFNNorm, s.DN, la.H, lp.FFNNorm, la.HNRstd, N, D)
		// H = alpha X + MSR(RMSNorm_a(X)); s.DH holds d H.
		for i, v := range s.DH {
			s.DRes[i] = alpha * v
		}
		clear(s.DN)
		gm := &MSR[T]{Wq: lg.Wq, Wk: lg.Wk, Wv: lg.Wv, Wg: lg.Wg, Wo: lg.Wo}
		m.msr(l).Backward(s.DN, gm, s.DH, la.XN, &la.MSR, &s.MSR)
		RMSNormBackward(s.DRes, lg.RetNorm, s.DN, la.X, lp.RetNorm, la.XNRstd, N, D)
	}
	EmbeddingBackward(grads.Embed, s.DRes, acts.Tokens, D, T(m.Config.EmbedScale()))
	return loss
}

// Logits runs the model on B equal-length sequences and returns the logits
// (B,T,V) flattened. Errors name the bad sequence or token.
func (m *ModelOf[T]) Logits(tokens [][]int, form Form, chunk int) ([]T, error) {
	acts, err := m.activationsFor(tokens)
	if err != nil {
		return nil, err
	}
	m.Forward(acts, form, chunk)
	return acts.Logits, nil
}

func (m *ModelOf[T]) activationsFor(tokens [][]int) (*ActivationsOf[T], error) {
	nT, err := tokenBatch(tokens, m.Config.Vocab)
	if err != nil {
		return nil, err
	}
	acts := newActivations[T](m.Config, len(tokens), nT)
	fillTokens(acts.Tokens, tokens)
	return acts, nil
}

// tokenBatch checks that tokens are B >= 1 sequences of one length T >= 1
// with ids in [0, vocab) and returns T. Errors name the bad sequence or token.
func tokenBatch(tokens [][]int, vocab int) (int, error) {
	if len(tokens) == 0 || len(tokens[0]) == 0 {
		return 0, fmt.Errorf("retnet: no tokens")
	}
	nT := len(tokens[0])
	for b, seq := range tokens {
		if len(seq) != nT {
			return 0, fmt.Errorf("retnet: sequence %d has %d tokens, sequence 0 has %d (a batch needs equal lengths)", b, len(seq), nT)
		}
		for t, v := range seq {
			if v < 0 || v >= vocab {
				return 0, fmt.Errorf("retnet: sequence %d position %d: token %d is outside the vocabulary [0,%d)", b, t, v, vocab)
			}
		}
	}
	return nT, nil
}

// fillTokens copies a checked batch into dst (B*T, row-major).
func fillTokens(dst []int32, tokens [][]int) {
	for b, seq := range tokens {
		for t, v := range seq {
			dst[b*len(seq)+t] = int32(v)
		}
	}
}

// NLL returns the per-position negative log-likelihood (natural log) of
// targets under logits (N,V): -log softmax(logits[i])[targets[i]].
func NLL[T Float](logits []T /* (N,V) */, targets []int32 /* (N) */, V int) []float64 {
	out := make([]float64, len(targets))
	for i, t := range targets {
		lse := logSumExp(logits[i*V : (i+1)*V])
		out[i] = lse - float64(logits[i*V+int(t)])
	}
	return out
}
