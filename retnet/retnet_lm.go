package retnet

import (
	"fmt"
	"math/rand/v2"
)

// The LanguageModel and Decoder implementations of RetNet: the plumbing that
// lets the trainer, evaluation, decoding and benchmarks treat RetNet and the
// Transformer alike.

var _ LanguageModel = (*Model)(nil)

// trainPlan is the memory of one (B,T) training or evaluation shape.
type trainPlan[T Float] struct {
	acts    *ActivationsOf[T]
	scratch *BackwardScratch[T]
}

// plan returns the activations for (B,T) (planShape: a new shape re-plans)
// set up for a forward pass with or without a backward pass.
func (m *ModelOf[T]) plan(slot **trainPlan[T], B, n int, backward bool) *trainPlan[T] {
	p := planShape(slot, func(p *trainPlan[T]) (int, int) { return p.acts.B, p.acts.T }, B, n,
		func(B, n int) *trainPlan[T] { return &trainPlan[T]{acts: newActivations[T](m.Config, B, n)} })
	for l := range p.acts.Layers {
		p.acts.Layers[l].MSR.KeepForBackward = backward
	}
	if backward && p.scratch == nil {
		p.scratch = newBackwardScratch[T](m.Config, B*n)
	}
	return p
}

func (m *ModelOf[T]) trainForm() Form {
	if m.TrainForm == Chunkwise {
		return Chunkwise
	}
	return Parallel
}

// Kind returns "retnet".
func (m *ModelOf[T]) Kind() string { return "retnet" }

// VocabSize returns V.
func (m *ModelOf[T]) VocabSize() int { return m.Config.Vocab }

// Counts returns the parameter counts of the config.
func (m *ModelOf[T]) Counts() ParamCounts { return m.Config.Params() }

// Weights returns the flat parameter slice.
func (m *ModelOf[T]) Weights() []T { return m.Params.Flat }

// Gradients returns the flat gradient slice (allocated on first use).
func (m *ModelOf[T]) Gradients() []T {
	if m.grads == nil {
		m.grads = newParams[T](m.Config)
	}
	return m.grads.Flat
}

// ZeroGrad zeroes the gradients.
func (m *ModelOf[T]) ZeroGrad() { clear(m.Gradients()) }

func (m *ModelOf[T]) setTokens(acts *ActivationsOf[T], inputs, targets []int32, B, n int) {
	if len(inputs) != B*n || len(targets) != B*n {
		panic(fmt.Sprintf("retnet: inputs/targets have %d/%d tokens, want B*T = %d", len(inputs), len(targets), B*n))
	}
	if err := m.Config.CheckTokens(inputs); err != nil {
		panic(err)
	}
	copy(acts.Tokens, inputs)
}

// ForwardBackward runs a training step's forward (TrainForm) and backward
// on inputs (B,T), adding the gradients of the mean cross-entropy against
// targets (B,T; < 0 ignored) into Gradients, and returns the loss.
func (m *ModelOf[T]) ForwardBackward(inputs, targets []int32, B, n int) float64 {
	p := m.plan(&m.train, B, n, true)
	m.setTokens(p.acts, inputs, targets, B, n)
	m.Forward(p.acts, m.trainForm(), m.TrainChunk)
	m.Gradients()
	return m.Backward(m.grads, p.acts, targets, p.scratch)
}

// Loss is the mean cross-entropy of targets (forward only).
func (m *ModelOf[T]) Loss(inputs, targets []int32, B, n int) float64 {
	p := m.plan(&m.eval, B, n, false)
	m.setTokens(p.acts, inputs, targets, B, n)
	m.Forward(p.acts, m.trainForm(), m.TrainChunk)
	if p.scratch == nil {
		p.scratch = &BackwardScratch[T]{Probs: make([]T, B*n*m.Config.Vocab), Losses: make([]float64, B*n)}
	}
	return CrossEntropyForward(p.scratch.Probs, p.scratch.Losses, p.acts.Logits, targets, m.Config.Vocab)
}

// CheckpointTensors returns the checkpoint tensors (torchscale names) as
// float32 (views for a float32 model).
func (m *ModelOf[T]) CheckpointTensors() []Tensor { return float32Tensors(m.Tensors()) }

// CheckpointMetadata returns the config as __metadata__.
func (m *ModelOf[T]) CheckpointMetadata() map[string]string {
	md := m.Config.MarshalMetadata()
	md["retlab_model"] = "retnet"
	return md
}

// NewDecoder starts recurrent decoding of B sequences: chunkwise prefill,
// then O(1) steps.
func (m *ModelOf[T]) NewDecoder(B int) Decoder {
	return &retnetDecoder[T]{m: m, st: m.NewState(B)}
}

type retnetDecoder[T Float] struct {
	m    *ModelOf[T]
	st   *StateOf[T]
	last []float32 // (B,V)
}

func (d *retnetDecoder[T]) Prefill(tokens [][]int) ([]float32, error) {
	logits, err := d.m.Prefill(d.st, tokens, 0)
	if err != nil {
		return nil, err
	}
	V, n := d.m.Config.Vocab, len(tokens[0])
	d.last = d.last[:0]
	for b := range tokens {
		for _, v := range logits[(b*n+n-1)*V : (b*n+n)*V] {
			d.last = append(d.last, float32(v))
		}
	}
	return d.last, nil
}

func (d *retnetDecoder[T]) Step(tokens []int) ([]float32, error) {
	logits, err := d.m.Step(d.st, tokens)
	if err != nil {
		return nil, err
	}
	if l32, ok := any(logits).([]float32); ok {
		return l32, nil
	}
	d.last = d.last[:0]
	for _, v := range logits {
		d.last = append(d.last, float32(v))
	}
	return d.last, nil
}

func (d *retnetDecoder[T]) Pos() int          { return d.st.Pos() }
func (d *retnetDecoder[T]) StateBytes() int64 { return d.st.Bytes() }

// FillContext implements bench.ContextFiller: it puts the decoder at
// position n with random (seeded, standard normal) states S and the scale
// c_n = sum_{d<n} gamma^d that n steps leave, for latency benchmarks at long
// contexts without a prefill. A recurrent step's cost depends neither on
// what S holds nor on n (only the rotation angle changes), so the step timed
// after it is the step after n real tokens. The decoded text is meaningless
// afterwards.
func (d *retnetDecoder[T]) FillContext(n int, seed uint64) error {
	if n < 0 {
		return fmt.Errorf("retnet: FillContext(%d): negative position", n)
	}
	rng := rand.New(rand.NewPCG(seed, 0x5265))
	for l := range d.st.Layers {
		ls := &d.st.Layers[l]
		for i := range ls.S {
			ls.S[i] = T(rng.NormFloat64())
		}
		for h, lg := range d.m.LogGamma {
			ls.Scale[h] = stateScale[T](float64(lg), n)
		}
		ls.Pos = n
	}
	return nil
}

// ActivationBytes is the memory of the planned training activations and
// backward scratch (0 before the first ForwardBackward).
func (m *ModelOf[T]) ActivationBytes() int64 {
	if m.train == nil {
		return 0
	}
	a, s := m.train.acts, m.train.scratch
	n := actsLen(a.table(m.Config))
	for l := range a.Layers {
		r := &a.Layers[l].MSR
		n += totalLen(r.Q, r.K, r.V, r.G, r.O, r.GNRstd, r.Y, r.Gated, r.Denom)
		n += totalLen(r.work...)
		for _, c := range r.Chunk {
			n += totalLen(c.R, c.RNorm, c.A)
		}
	}
	if s != nil {
		g := &s.MSR
		n += totalLen(s.DLogits, s.Probs, s.DRes, s.DH, s.DN, s.GLU, g.DGated, g.DY, g.DO, g.DG, g.DV, g.DQ, g.DK)
		n += totalLen(g.work...) + int64(len(s.Losses))*2 // float64 losses count as two floats
	}
	return n * int64(sizeOf(T(0)))
}

// totalLen is the summed length of slices.
func totalLen[T Float](xs ...[]T) int64 {
	var n int64
	for _, x := range xs {
		n += int64(len(x))
	}
	return n
}
