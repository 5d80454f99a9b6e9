package retnet

import (
	"fmt"
	"math"
)

// Inference is what every model RetLab can open from a checkpoint does at
// inference time, whatever wrote the checkpoint: torchscale's RetNet
// (*Model), RetLab's Transformer (*Transformer), and the Hugging Face models
// of package retnet/hf (fla's RetNet, fla's Transformer++, LLaMA). Package
// retnet/load opens any of them from a file, a model directory or a hub
// name; the CLI and notebook cells take checkpoints through it.
type Inference interface {
	// Kind is KindRetNet or KindTransformer.
	Kind() string
	// VocabSize is V.
	VocabSize() int
	// Logits runs B equal-length sequences from position 0 and returns the
	// logits (B,T,V) flattened. RetNets compute retention in form (chunk:
	// the chunkwise form's chunk size; <= 0: the model's default); the
	// Transformers ignore both. Errors name the bad sequence or token.
	Logits(tokens [][]int, form Form, chunk int) ([]float32, error)
	// NewDecoder starts incremental decoding of B sequences: prefill, then
	// one-token steps through the recurrent state or the KV cache.
	NewDecoder(B int) Decoder
	// Close releases what the model holds outside the Go heap (the
	// memory-mapped files of a Hugging Face model; nothing for the others).
	// The model must not be used after.
	Close() error
}

// Retentive is an Inference model with multi-scale retention: RetNet in
// torchscale's flavour (*Model) or fla's (*hf.Model of model_type retnet).
// Each flavour computes these by its own definition (docs/retnet-spec.md,
// docs/fla-retnet.md).
type Retentive interface {
	Inference
	// Gammas is the decay gamma_h of each head (the same in every layer).
	Gammas() []float64
	// DecayMatrix is head h's decay matrix for n positions, (n,n) row-major:
	// D[i][j] = gamma_h^(i-j) for j <= i, else 0.
	DecayMatrix(h, n int) ([]float32, error)
	// RetentionScores runs one sequence in the parallel form and returns,
	// for every layer and head (layer-major), the (T,T) matrix the parallel
	// form multiplies the values by. labels, if not nil, names each position.
	RetentionScores(tokens []int, labels []string) ([]RetentionScores, error)
	// FormAgreement feeds each layer's input on one sequence through its
	// retention in the three forms (chunkwise with chunk) and reports the
	// largest differences between their outputs.
	FormAgreement(tokens []int, chunk int) ([]FormAgreement, error)
}

var (
	_ Retentive = (*Model)(nil)
	_ Inference = (*Transformer)(nil)
)

// Close implements Inference: a model in Go memory holds nothing else.
func (m *ModelOf[T]) Close() error { return nil }

// Close implements Inference: a model in Go memory holds nothing else.
func (m *TransformerOf[T]) Close() error { return nil }

// Gammas returns the decay gamma_h of each head, exp of the stored
// log-decays (torchscale's `decay` buffer).
func (m *ModelOf[T]) Gammas() []float64 {
	g := make([]float64, len(m.LogGamma))
	for h, lg := range m.LogGamma {
		g[h] = math.Exp(float64(lg))
	}
	return g
}

// DecayMatrix returns head h's unnormalised decay matrix for n positions,
// D[i][j] = gamma_h^(i-j) for j <= i (DecayMask with normalized false; the
// parallel form also divides each row by the square root of its sum).
func (m *ModelOf[T]) DecayMatrix(h, n int) ([]float32, error) {
	if h < 0 || h >= len(m.LogGamma) || n < 1 {
		return nil, fmt.Errorf("retnet: decay matrix of head %d for %d positions: the model has %d heads (want n >= 1)", h, n, len(m.LogGamma))
	}
	out := make([]float32, n*n)
	DecayMask(out, float32(m.LogGamma[h]), n, false)
	return out, nil
}

// Logits runs the Transformer on B equal-length sequences and returns the
// logits (B,T,V) flattened; form and chunk are ignored (they choose a
// RetNet's retention form). Errors name the bad sequence or token.
func (m *TransformerOf[T]) Logits(tokens [][]int, _ Form, _ int) ([]T, error) {
	nT, err := tokenBatch(tokens, m.Config.Vocab)
	if err != nil {
		return nil, err
	}
	acts := newTransformerActs[T](m.Config, len(tokens), nT)
	fillTokens(acts.Tokens, tokens)
	m.Forward(acts)
	return acts.Logits, nil
}

// AsRetentive returns m as a Retentive when it is a RetNet (Kind
// KindRetNet). Use it rather than a type assertion: the Hugging Face model
// type has Retentive's methods whatever its model_type (for a Transformer
// they return errors).
func AsRetentive(m Inference) (Retentive, bool) {
	r, ok := m.(Retentive)
	return r, ok && m.Kind() == KindRetNet
}
