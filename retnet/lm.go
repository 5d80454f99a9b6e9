package retnet

import "github.com/retlab/retlab/internal/plan"

// LanguageModel is what training, evaluation, decoding and the benchmarks
// need of a model: an Inference model that also trains. *Model (RetNet) and
// *Transformer implement it, so the trainer, `retlab train/eval/generate/bench`
// and the notebooks treat both architectures alike.
type LanguageModel interface {
	Inference
	// Counts splits the parameter count like the paper's tables.
	Counts() ParamCounts
	// Weights is the flat parameter slice; Gradients mirrors its layout
	// (allocated on first use). The optimizer updates Weights in one loop.
	Weights() []float32
	Gradients() []float32
	// ForwardBackward runs one training forward and backward pass on inputs
	// (B,T) with next-token targets (B,T), adds the gradients of the mean
	// cross-entropy into Gradients (zero them first with ZeroGrad) and returns
	// that mean loss (nats). Activation memory is planned on the first call;
	// a later call with another B or T re-plans it (see planShape).
	ForwardBackward(inputs, targets []int32, B, T int) float64
	ZeroGrad()
	// Loss is the forward pass only: mean cross-entropy of targets (nats).
	Loss(inputs, targets []int32, B, T int) float64
	// CheckpointTensors are the named tensors a checkpoint stores (views).
	CheckpointTensors() []Tensor
	// CheckpointMetadata is the __metadata__ of a checkpoint (its config).
	CheckpointMetadata() map[string]string
}

// ModelConfig is a language model's configuration: Config (RetNet) or
// TransformerConfig, what NewLanguageModel builds and LadderModel returns.
type ModelConfig interface {
	// Kind is KindRetNet or KindTransformer.
	Kind() string
	// Params counts the parameters the model will have.
	Params() ParamCounts
	// Layout is the table of its parameter tensors.
	Layout() Layout
	// Validate reports the first unusable field.
	Validate() error
	String() string
}

// Kind implements ModelConfig.
func (Config) Kind() string { return KindRetNet }

// Kind implements ModelConfig.
func (TransformerConfig) Kind() string { return KindTransformer }

// Decoder decodes incrementally: RetNet with a recurrent state (O(1) per
// token), the Transformer with a KV cache (O(context) per token).
type Decoder interface {
	// Prefill consumes a prompt per sequence (B, equal lengths) and returns
	// the logits (B,V) of its last position.
	Prefill(tokens [][]int) ([]float32, error)
	// Step consumes one token per sequence and returns next-token logits (B,V).
	// The returned slice is reused by the next call.
	Step(tokens []int) ([]float32, error)
	// Pos is the number of tokens consumed.
	Pos() int
	// StateBytes is the memory held between steps (state or KV cache).
	StateBytes() int64
}

// planShape is how a language model's memory plan meets a new shape: the
// rule of internal/plan (plan.Shape), which the GPU model (cuda/lm) follows
// too. ForwardBackward and Loss each keep one plan, sized for one (B,T) on
// first use: the trainer trains and validates at fixed shapes (the last
// validation batch is padded to B), so in a run each plan is made once. A
// call with another B or T re-plans on purpose: the old plan is dropped
// (Go memory: nothing to release) and newPlan(B, T) allocates a new one.
// The explicit-memory APIs (Activations, TransformerActs, MSRActs) never
// resize: they panic on another shape.
func planShape[P any](slot **P, shape func(*P) (B, T int), B, T int, newPlan func(B, T int) *P) *P {
	p, _ := plan.Shape(slot, shape, B, T, func(B, T int) (*P, error) { return newPlan(B, T), nil }, nil) // no error without release or a failing newPlan
	return p
}
