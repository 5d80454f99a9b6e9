package retnet

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"unsafe"

	"github.com/retlab/retlab/internal/human"
)

// TransformerConfig is the shape of the Transformer baseline: the RetNet LM
// with multi-scale retention replaced by causal softmax attention with
// rotary positions. Everything else (embedding and its sqrt(D) scale,
// pre-norm RMSNorm blocks, GLU FFN, final norm, untied output projection)
// is shared with RetNet, so the two differ only in the token mixer.
type TransformerConfig struct {
	Vocab        int     `json:"vocab_size"`         // V
	Dim          int     `json:"embed_dim"`          // D
	FFNDim       int     `json:"ffn_embed_dim"`      // F, GLU hidden width
	Layers       int     `json:"layers"`             // L
	Heads        int     `json:"attention_heads"`    // H; head dim dk = D/H (even)
	Activation   string  `json:"activation_fn"`      // "swish" or "gelu"
	NoEmbedScale bool    `json:"no_scale_embedding"` // false: x0 = sqrt(D) * E[tok]
	NormEps      float64 `json:"layernorm_eps"`      // eps of every RMSNorm
}

// HeadDim is dk = D/H.
func (c TransformerConfig) HeadDim() int { return c.Dim / c.Heads }

// WithDefaults fills zero-valued optional fields: swish, eps 1e-6.
func (c TransformerConfig) WithDefaults() TransformerConfig {
	if c.Activation == "" {
		c.Activation = "swish"
	}
	if c.NormEps == 0 {
		c.NormEps = 1e-6
	}
	return c
}

// Validate reports the first inconsistency of c, naming the field.
func (c TransformerConfig) Validate() error {
	switch {
	case c.Vocab <= 0:
		return fmt.Errorf("retnet: transformer config vocab_size = %d, want > 0", c.Vocab)
	case c.Dim <= 0 || c.FFNDim <= 0:
		return fmt.Errorf("retnet: transformer config embed_dim=%d ffn_embed_dim=%d must be > 0", c.Dim, c.FFNDim)
	case c.Layers <= 0:
		return fmt.Errorf("retnet: transformer config layers = %d, want > 0", c.Layers)
	case c.Heads <= 0:
		return fmt.Errorf("retnet: transformer config attention_heads = %d, want > 0", c.Heads)
	case c.Dim%c.Heads != 0:
		return fmt.Errorf("retnet: transformer config embed_dim %d is not divisible by attention_heads %d", c.Dim, c.Heads)
	case (c.Dim/c.Heads)%2 != 0:
		return fmt.Errorf("retnet: transformer config head dim %d must be even for the rotary positions", c.Dim/c.Heads)
	case c.Activation != "swish" && c.Activation != "gelu":
		return fmt.Errorf("retnet: transformer config activation_fn %q, want swish or gelu", c.Activation)
	case c.NormEps < 0:
		return fmt.Errorf("retnet: transformer config layernorm_eps = %g, want >= 0", c.NormEps)
	}
	return nil
}

// LayerParamCount is the number of parameters of one block: q, k, v, out
// (4 D^2), the GLU FFN (3 F D) and two norms (2 D).
func (c TransformerConfig) LayerParamCount() int64 {
	D, F := int64(c.Dim), int64(c.FFNDim)
	return 4*D*D + 3*F*D + 2*D
}

// Params counts the parameters, split like Config.Params.
func (c TransformerConfig) Params() ParamCounts {
	emb := 2 * int64(c.Vocab) * int64(c.Dim)
	non := int64(c.Layers)*c.LayerParamCount() + int64(c.Dim)
	return ParamCounts{Total: emb + non, NonEmbedding: non, Embedding: emb}
}

// String is a one-line summary.
func (c TransformerConfig) String() string {
	p := c.Params()
	return fmt.Sprintf("Transformer(V=%d D=%d F=%d L=%d H=%d %s, %s params, %s non-embedding)",
		c.Vocab, c.Dim, c.FFNDim, c.Layers, c.Heads, c.Activation, human.Count(p.Total), human.Count(p.NonEmbedding))
}

// Checkpoint metadata keys of a Transformer: the config JSON, and the model
// kind that LoadLanguageModel dispatches on (absent means RetNet).
const (
	MetaTransformerConfigKey = "retlab_transformer_config"
	MetaModelKey             = "retlab_model"
)

// MarshalMetadata encodes c as safetensors __metadata__.
func (c TransformerConfig) MarshalMetadata() map[string]string {
	b, _ := json.Marshal(c)
	return map[string]string{"format": "pt", MetaModelKey: KindTransformer, MetaTransformerConfigKey: string(b)}
}

// Model kinds, as LanguageModel.Kind reports them.
const (
	KindRetNet      = "retnet"
	KindTransformer = "transformer"
)

// TransformerParams holds the Transformer's parameters as named views over
// one flat slice, like Params. Names in comments are the checkpoint's tensor
// names (torchscale/fairseq Transformer decoder style).
type TransformerParams = TransformerParamsOf[float32]

// TransformerParamsOf is TransformerParams with element type T.
type TransformerParamsOf[T Float] struct {
	Flat      []T                         // all parameters, in Tensors() order
	Embed     []T                         // (V,D) embed_tokens.weight
	Layers    []TransformerLayerParams[T] // L blocks
	FinalNorm []T                         // (D) layer_norm.weight
	Out       []T                         // (V,D) output_projection.weight
}

// TransformerLayerParams are the views of one block.
type TransformerLayerParams[T Float] struct {
	AttnNorm []T // (D) layers.l.self_attn_layer_norm.weight
	Wq       []T // (D,D) layers.l.self_attn.q_proj.weight
	Wk       []T // (D,D) layers.l.self_attn.k_proj.weight
	Wv       []T // (D,D) layers.l.self_attn.v_proj.weight
	Wo       []T // (D,D) layers.l.self_attn.out_proj.weight
	FFNNorm  []T // (D) layers.l.final_layer_norm.weight
	Fc1      []T // (F,D) layers.l.ffn.fc1.weight
	Gate     []T // (F,D) layers.l.ffn.gate.weight
	Fc2      []T // (D,F) layers.l.ffn.fc2.weight
}

// transformerSlots is the Transformer's parameter table (see layout.go),
// with views into p (nil: layout only).
func transformerSlots[T Float](c TransformerConfig, p *TransformerParamsOf[T]) []paramSlot[T] {
	D, F, V := c.Dim, c.FFNDim, c.Vocab
	if p == nil {
		p = &TransformerParamsOf[T]{Layers: make([]TransformerLayerParams[T], c.Layers)}
	}
	return lmSlots(V, D, F, c.Layers, &p.Embed, &p.FinalNorm, &p.Out, func(l int, pre string) ([]paramSlot[T], ffnViews[T]) {
		L := &p.Layers[l]
		return []paramSlot[T]{
			{pre + "self_attn_layer_norm.weight", []int{D}, &L.AttnNorm},
			{pre + "self_attn.q_proj.weight", []int{D, D}, &L.Wq},
			{pre + "self_attn.k_proj.weight", []int{D, D}, &L.Wk},
			{pre + "self_attn.v_proj.weight", []int{D, D}, &L.Wv},
			{pre + "self_attn.out_proj.weight", []int{D, D}, &L.Wo},
		}, ffnViews[T]{&L.FFNNorm, &L.Fc1, &L.Gate, &L.Fc2}
	})
}

// Layout is the Transformer's parameter table for c.
func (c TransformerConfig) Layout() Layout { return layoutOf(transformerSlots[float32](c, nil)) }

// NewTransformerParams allocates zeroed parameters for c (gradients use the
// same layout). It panics if c is invalid.
func NewTransformerParams(c TransformerConfig) *TransformerParams {
	return newTransformerParams[float32](c)
}

func newTransformerParams[T Float](c TransformerConfig) *TransformerParamsOf[T] {
	if err := c.Validate(); err != nil {
		panic(err)
	}
	p := &TransformerParamsOf[T]{Layers: make([]TransformerLayerParams[T], c.Layers)}
	p.Flat = allocSlots(transformerSlots(c, p))
	return p
}

// Tensors returns the named views of p in storage order.
func (p *TransformerParamsOf[T]) Tensors(c TransformerConfig) []TensorOf[T] {
	return slotTensors(transformerSlots(c, p))
}

// Transformer is the baseline decoder LM (float32). It implements
// LanguageModel:
//
//	x_0 = sqrt(D) E[tokens]
//	h   = x + Attn(RMSNorm_a(x))
//	x'  = h + FFN(RMSNorm_b(h)),  FFN(z) = (act(z Fc1^T) (.) z Gate^T) Fc2^T
//	logits = RMSNorm(x_L) Out^T
type Transformer = TransformerOf[float32]

// TransformerOf is Transformer with element type T; the float64
// instantiation is the gradient-check path.
type TransformerOf[T Float] struct {
	Config TransformerConfig
	Params *TransformerParamsOf[T]
	Angle  []T // (dk) rotary frequencies [theta0,theta0,theta1,...], RetNet's Angles(dk)

	grads *TransformerParamsOf[T] // allocated by Gradients / ForwardBackward
	train *TransformerActsOf[T]   // planned by ForwardBackward
	eval  *TransformerActsOf[T]   // planned by Loss
	bwd   *transformerBackward[T] // backward scratch, planned with train
}

// NewTransformer returns a Transformer with zeroed parameters; call
// InitWeights or load a checkpoint.
func NewTransformer(c TransformerConfig) (*Transformer, error) { return newTransformer[float32](c) }

func newTransformer[T Float](c TransformerConfig) (*TransformerOf[T], error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &TransformerOf[T]{Config: c, Params: newTransformerParams[T](c), Angle: convert[T](Angles(c.HeadDim()))}, nil
}

// InitWeights fills the parameters deterministically from seed, with the
// same rules as the RetNet model so that only the mixer differs: q/k/v
// xavier_uniform with gain 2^-2.5, out_proj gain 2^-1, GLU linears
// uniform(+-1/sqrt(fan_in)), embedding and output projection normal(0,
// D^-1/2), norms 1.
func (m *TransformerOf[T]) InitWeights(seed uint64) {
	c := m.Config
	in := newInitializer[T](seed, 0x5472616e73) // "Trans"
	D, F := float64(c.Dim), float64(c.FFNDim)
	xavier, uniform, normal, ones := in.xavier, in.linear, in.normal, in.ones
	p := m.Params
	normal(p.Embed, 1/math.Sqrt(D))
	for l := range p.Layers {
		lp := &p.Layers[l]
		ones(lp.AttnNorm)
		ones(lp.FFNNorm)
		g := math.Pow(2, -2.5)
		xavier(lp.Wq, D, D, g)
		xavier(lp.Wk, D, D, g)
		xavier(lp.Wv, D, D, g)
		xavier(lp.Wo, D, D, 0.5)
		uniform(lp.Fc1, D)
		uniform(lp.Gate, D)
		uniform(lp.Fc2, F)
	}
	ones(p.FinalNorm)
	normal(p.Out, 1/math.Sqrt(D))
}

func (m *TransformerOf[T]) attention(p *TransformerParamsOf[T], l int) *Attention[T] {
	lp := &p.Layers[l]
	return &Attention[T]{D: m.Config.Dim, H: m.Config.Heads, Wq: lp.Wq, Wk: lp.Wk, Wv: lp.Wv, Wo: lp.Wo}
}

// EmbedScale is the factor of the token embeddings: sqrt(D) rounded to
// float32, or 1 with NoEmbedScale (as Config.EmbedScale).
func (c TransformerConfig) EmbedScale() float32 { return embedScale(c.Dim, c.NoEmbedScale) }

// TransformerActs hold one forward pass at a fixed (B,T), kept for the
// backward pass.
type TransformerActs = TransformerActsOf[float32]

// TransformerActsOf is TransformerActs with element type T.
type TransformerActsOf[T Float] struct {
	B, T      int
	Tokens    []int32 // (B,T)
	Layers    []TransformerLayerActs[T]
	XL        []T       // (B,T,D) output of the last block
	FinalN    []T       // (B,T,D) RMSNorm(XL)
	FinalRstd []T       // (B,T)
	Logits    []T       // (B,T,V)
	Probs     []T       // (B,T,V) softmax(Logits), filled by the loss
	Losses    []float64 // (B,T) per-position NLL
	Rot       RotationTable[T]
}

// TransformerLayerActs are one block's activations.
type TransformerLayerActs[T Float] struct {
	X      []T // (B,T,D) block input
	XN     []T // (B,T,D) self_attn_layer_norm(X)
	XNRstd []T // (B,T)
	Attn   AttentionActs[T]
	H      []T // (B,T,D) X + Attn(XN)
	HN     []T // (B,T,D) final_layer_norm(H)
	HNRstd []T // (B,T)
	FFN    GLUActs[T]
}

// NewTransformerActs plans the activation memory of a (B,T) forward pass.
func NewTransformerActs(c TransformerConfig, B, T int) *TransformerActs {
	return newTransformerActs[float32](c, B, T)
}

func newTransformerActs[T Float](c TransformerConfig, B, nT int) *TransformerActsOf[T] {
	n := B * nT
	a := &TransformerActsOf[T]{B: B, T: nT, Tokens: make([]int32, n), Layers: make([]TransformerLayerActs[T], c.Layers),
		Losses: make([]float64, n)}
	allocActs(a.table(c))
	a.Rot.Reset(convert[T](Angles(c.HeadDim())), 0, nT)
	return a
}

// table lists the float buffers of a's (B,T) plan.
func (a *TransformerActsOf[T]) table(c TransformerConfig) []actSlot[T] {
	N, D, V := a.B*a.T, c.Dim, c.Vocab
	s := []actSlot[T]{{&a.XL, N * D}, {&a.FinalN, N * D}, {&a.FinalRstd, N}, {&a.Logits, N * V}, {&a.Probs, N * V}}
	for l := range a.Layers {
		la := &a.Layers[l]
		s = append(s, blockActs(N, D, c.FFNDim, &la.X, &la.XN, &la.XNRstd, &la.H, &la.HN, &la.HNRstd, &la.FFN)...)
		at := &la.Attn
		s = append(s, actSlot[T]{&at.Q, N * D}, actSlot[T]{&at.K, N * D}, actSlot[T]{&at.V, N * D}, actSlot[T]{&at.O, N * D},
			actSlot[T]{&at.LSE, N * c.Heads})
	}
	return s
}

// Bytes is the activation memory planned (float elements times their size).
func (a *TransformerActsOf[T]) Bytes(c TransformerConfig) int64 {
	return actsLen(a.table(c))*int64(sizeOf(T(0))) + int64(len(a.Losses))*8 + int64(len(a.Tokens))*4
}

// sizeOf is the size in bytes of a T.
func sizeOf[T Float](z T) int { return int(unsafe.Sizeof(z)) }

// Forward runs the model on acts.Tokens (B,T) and leaves the logits in
// acts.Logits. It panics on an out-of-range token or on activations planned
// for another config.
func (m *TransformerOf[T]) Forward(acts *TransformerActsOf[T]) {
	c := m.Config
	B, nT, D := acts.B, acts.T, c.Dim
	N := B * nT
	if len(acts.Layers) != c.Layers || len(acts.XL) != N*D || len(acts.Logits) != N*c.Vocab {
		panic("retnet: TransformerActs were planned for another config")
	}
	for i, t := range acts.Tokens {
		if t < 0 || int(t) >= c.Vocab {
			panic(fmt.Sprintf("retnet: token %d at position %d is outside the vocabulary [0,%d)", t, i, c.Vocab))
		}
	}
	p := m.Params
	EmbeddingForward(acts.Layers[0].X, acts.Tokens, p.Embed, D, T(m.Config.EmbedScale()))
	for l := range acts.Layers {
		la, lp := &acts.Layers[l], &p.Layers[l]
		next := acts.XL
		if l+1 < c.Layers {
			next = acts.Layers[l+1].X
		}
		RMSNormForward(la.XN, la.XNRstd, la.X, lp.AttnNorm, N, D, c.NormEps)
		m.attention(p, l).Forward(la.H, la.XN, B, nT, &acts.Rot, &la.Attn)
		addScaled(la.H, la.X, 1)
		RMSNormForward(la.HN, la.HNRstd, la.H, lp.FFNNorm, N, D, c.NormEps)
		GLUForward(next, la.HN, lp.Fc1, lp.Gate, lp.Fc2, &la.FFN, N, D, c.FFNDim, c.Activation)
		addScaled(next, la.H, 1)
	}
	RMSNormForward(acts.FinalN, acts.FinalRstd, acts.XL, p.FinalNorm, N, D, c.NormEps)
	LinearForward(acts.Logits, acts.FinalN, p.Out, N, D, c.Vocab)
}

// transformerBackward is the scratch of one backward pass.
type transformerBackward[T Float] struct {
	dLogits []T // (N,V)
	dX, dY  []T // (N,D) gradient flowing down the residual stream, and a second buffer
	dN      []T // (N,D) gradient of a norm's output
	attn    []T // (4,N,D) Attention.Backward scratch
	glu     []T // (2,N,F) GLUBackward scratch
}

// backward adds the gradients of the mean cross-entropy loss of the last
// Forward on acts into g, given per-position targets (B,T) (< 0: ignored).
// CrossEntropyForward must have filled acts.Probs.
func (m *TransformerOf[T]) backward(g *TransformerParamsOf[T], acts *TransformerActsOf[T], targets []int32, s *transformerBackward[T]) {
	c := m.Config
	B, nT, D, V, F := acts.B, acts.T, c.Dim, c.Vocab, c.FFNDim
	N := B * nT
	p := m.Params
	clear(s.dLogits)
	CrossEntropyBackward(s.dLogits, acts.Probs, targets, V)
	clear(s.dN)
	LinearBackward(s.dN, g.Out, s.dLogits, acts.FinalN, p.Out, N, D, V)
	clear(s.dX)
	RMSNormBackward(s.dX, g.FinalNorm, s.dN, acts.XL, p.FinalNorm, acts.FinalRstd, N, D)
	for l := c.Layers - 1; l >= 0; l-- {
		la, lp, lg := &acts.Layers[l], &p.Layers[l], &g.Layers[l]
		// x' = h + FFN(RMSNorm_b(h)): dX is d x'; dY becomes d h.
		copy(s.dY, s.dX)
		clear(s.dN)
		GLUBackward(s.dN, lg.Fc1, lg.Gate, lg.Fc2, s.dX, la.HN, lp.Fc1, lp.Gate, lp.Fc2, &la.FFN, s.glu, N, D, F, c.Activation)
		RMSNormBackward(s.dY, lg.FFNNorm, s.dN, la.H, lp.FFNNorm, la.HNRstd, N, D)
		// h = x + Attn(RMSNorm_a(x)): dY is d h; dX becomes d x.
		copy(s.dX, s.dY)
		clear(s.dN)
		m.attention(p, l).Backward(s.dN, m.attention(g, l), s.dY, la.XN, B, nT, &acts.Rot, &la.Attn, s.attn)
		RMSNormBackward(s.dX, lg.AttnNorm, s.dN, la.X, lp.AttnNorm, la.XNRstd, N, D)
	}
	EmbeddingBackward(g.Embed, s.dX, acts.Tokens, D, T(m.Config.EmbedScale()))
}

// actsShape is the (B,T) a plan was made for.
func actsShape[T Float](a *TransformerActsOf[T]) (int, int) { return a.B, a.T }

// planTrain returns the training activations and backward scratch for
// (B,T) (planShape: a new shape re-plans both).
func (m *TransformerOf[T]) planTrain(B, nT int) *TransformerActsOf[T] {
	return planShape(&m.train, actsShape[T], B, nT, func(B, nT int) *TransformerActsOf[T] {
		c := m.Config
		N := B * nT
		m.bwd = &transformerBackward[T]{dLogits: make([]T, N*c.Vocab), dX: make([]T, N*c.Dim), dY: make([]T, N*c.Dim),
			dN: make([]T, N*c.Dim), attn: make([]T, 4*N*c.Dim), glu: make([]T, 2*N*c.FFNDim)}
		return newTransformerActs[T](c, B, nT)
	})
}

func checkBatch(inputs, targets []int32, B, nT int) {
	if B < 1 || nT < 1 || len(inputs) != B*nT || len(targets) != B*nT {
		panic(fmt.Sprintf("retnet: batch of %d inputs and %d targets, want B*T = %d*%d", len(inputs), len(targets), B, nT))
	}
}

// ForwardBackward implements LanguageModel: one training forward and
// backward pass, gradients added into Gradients, mean loss returned.
func (m *TransformerOf[T]) ForwardBackward(inputs, targets []int32, B, nT int) float64 {
	checkBatch(inputs, targets, B, nT)
	acts := m.planTrain(B, nT)
	copy(acts.Tokens, inputs)
	m.Forward(acts)
	loss := CrossEntropyForward(acts.Probs, acts.Losses, acts.Logits, targets, m.Config.Vocab)
	m.backward(m.gradParams(), acts, targets, m.bwd)
	return loss
}

// Loss implements LanguageModel: the forward pass only.
func (m *TransformerOf[T]) Loss(inputs, targets []int32, B, nT int) float64 {
	checkBatch(inputs, targets, B, nT)
	planShape(&m.eval, actsShape[T], B, nT, func(B, nT int) *TransformerActsOf[T] { return newTransformerActs[T](m.Config, B, nT) })
	copy(m.eval.Tokens, inputs)
	m.Forward(m.eval)
	return CrossEntropyForward(m.eval.Probs, m.eval.Losses, m.eval.Logits, targets, m.Config.Vocab)
}

func (m *TransformerOf[T]) gradParams() *TransformerParamsOf[T] {
	if m.grads == nil {
		m.grads = newTransformerParams[T](m.Config)
	}
	return m.grads
}

// ActivationBytes is the memory of the planned training activations and
// backward scratch (0 before the first ForwardBackward).
func (m *TransformerOf[T]) ActivationBytes() int64 {
	if m.train == nil {
		return 0
	}
	b := m.bwd
	n := int64(len(b.dLogits)+len(b.dX)+len(b.dY)+len(b.dN)+len(b.attn)+len(b.glu)) * int64(sizeOf(T(0)))
	return m.train.Bytes(m.Config) + n
}

// Kind implements LanguageModel ("transformer").
func (m *TransformerOf[T]) Kind() string { return KindTransformer }

// VocabSize implements LanguageModel.
func (m *TransformerOf[T]) VocabSize() int { return m.Config.Vocab }

// Counts implements LanguageModel.
func (m *TransformerOf[T]) Counts() ParamCounts { return m.Config.Params() }

// Weights implements LanguageModel: the flat parameter slice.
func (m *TransformerOf[T]) Weights() []T { return m.Params.Flat }

// Gradients implements LanguageModel: the flat gradient slice, same layout
// as Weights.
func (m *TransformerOf[T]) Gradients() []T { return m.gradParams().Flat }

// ZeroGrad implements LanguageModel.
func (m *TransformerOf[T]) ZeroGrad() { clear(m.gradParams().Flat) }

// CheckpointTensors implements LanguageModel: the parameters under their
// checkpoint names (views for float32).
func (m *TransformerOf[T]) CheckpointTensors() []Tensor {
	return float32Tensors(m.Params.Tensors(m.Config))
}

// CheckpointMetadata implements LanguageModel: the config and model kind.
func (m *TransformerOf[T]) CheckpointMetadata() map[string]string { return m.Config.MarshalMetadata() }

// Save writes m as a safetensors checkpoint, atomically; extra tensors and
// metadata are added (names must not clash).
func (m *TransformerOf[T]) Save(path string, extra []Tensor, metadata map[string]string) error {
	md := m.CheckpointMetadata()
	for k, v := range metadata {
		md[k] = v
	}
	return WriteSafetensors(path, append(m.CheckpointTensors(), extra...), md)
}

// LoadTransformerFrom builds a Transformer from a parsed checkpoint whose
// __metadata__ holds MetaTransformerConfigKey. Tensors whose names start
// with one of allowExtra (e.g. "optim.") are ignored; any other unknown,
// missing or mis-shaped tensor is an error naming it.
func LoadTransformerFrom(f *TensorFile, allowExtra []string) (*Transformer, error) {
	js, ok := f.Metadata[MetaTransformerConfigKey]
	if !ok {
		return nil, fmt.Errorf("retnet: %s: no %s in __metadata__: not a Transformer checkpoint", f.Path, MetaTransformerConfigKey)
	}
	var c TransformerConfig
	dec := json.NewDecoder(strings.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("retnet: %s: __metadata__ %s is not a valid config: %w", f.Path, MetaTransformerConfigKey, err)
	}
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("retnet: %s: %w", f.Path, err)
	}
	// Check every name and shape before allocating the model (a config
	// claiming more layers than the file could hold fails here, cheaply).
	if c.Layers > len(f.Names()) {
		return nil, fmt.Errorf("retnet: %s: config has %d layers but the file holds only %d tensors", f.Path, c.Layers, len(f.Names()))
	}
	if err := checkLayout(f, c.Layout(), nil, allowExtra, c); err != nil {
		return nil, err
	}
	m, err := NewTransformer(c)
	if err != nil {
		return nil, err
	}
	for _, t := range m.Params.Tensors(c) {
		data, _, err := f.Float32(t.Name)
		if err != nil {
			return nil, err
		}
		if err := checkFinite(f.Path, t.Name, data); err != nil {
			return nil, err
		}
		copy(t.Data, data)
	}
	return m, nil
}
