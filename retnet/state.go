package retnet

import (
	"fmt"
	"unsafe"
)

// State is the recurrent decoding state of a whole model for a batch of B
// sequences: per layer, torchscale's incremental_state as a typed value.
// Its size is independent of how many tokens were consumed: O(1) memory
// decoding.
type State = StateOf[float32]

// StateOf is State with element type T.
type StateOf[T Float] struct {
	B      int
	Layers []LayerState[T]
	step   *ActivationsOf[T] // (B,1) activations reused by every Step
}

// LayerState is one layer's retention state.
type LayerState[T Float] struct {
	S     []T // (B,H,dv,dk) torchscale's prev_key_value
	Scale []T // (H) torchscale's scale: c_n = sum_{d<n} gamma^d
	Pos   int // tokens consumed; the next token's rotation angle is Pos*theta
}

// NewState returns an empty state for B sequences.
func (m *ModelOf[T]) NewState(B int) *StateOf[T] {
	c := m.Config
	st := &StateOf[T]{B: B, Layers: make([]LayerState[T], c.Layers)}
	n := B * c.Heads * c.KeyHeadDim() * c.ValueHeadDim()
	for l := range st.Layers {
		st.Layers[l] = LayerState[T]{S: make([]T, n), Scale: make([]T, c.Heads)}
	}
	return st
}

// Pos is the number of tokens the state has consumed.
func (st *StateOf[T]) Pos() int { return st.Layers[0].Pos }

// Bytes is the memory the state holds (what decoding keeps between tokens).
func (st *StateOf[T]) Bytes() int64 {
	var n int64
	var zero T
	size := int64(unsafe.Sizeof(zero))
	for _, l := range st.Layers {
		n += size * int64(len(l.S)+len(l.Scale))
	}
	return n
}

// Reset empties the state for reuse.
func (st *StateOf[T]) Reset() {
	for l := range st.Layers {
		clear(st.Layers[l].S)
		clear(st.Layers[l].Scale)
		st.Layers[l].Pos = 0
	}
}

func (st *LayerState[T]) check(r *MSR[T], B int) {
	if len(st.S) != B*r.H*(r.D/r.H)*(r.DV/r.H) || len(st.Scale) != r.H {
		panic(fmt.Sprintf("retnet: LayerState sized for %d floats and %d heads, layer needs B=%d H=%d dk=%d dv=%d", len(st.S), len(st.Scale), B, r.H, r.D/r.H, r.DV/r.H))
	}
}

// Prefill feeds tokens (B,T) into st and returns the logits (B,T,V) of every
// position. From an empty state it runs the chunkwise form (chunk <= 0:
// DefaultChunk) and derives the recurrent state from it in one pass; from a
// non-empty state it continues recurrently. Either way the state equals what
// token-by-token Steps would leave (up to float32 rounding).
func (m *ModelOf[T]) Prefill(st *StateOf[T], tokens [][]int, chunk int) ([]T, error) {
	if len(tokens) != st.B {
		return nil, fmt.Errorf("retnet: Prefill got %d sequences for a state of batch %d", len(tokens), st.B)
	}
	acts, err := m.activationsFor(tokens)
	if err != nil {
		return nil, err
	}
	form := Chunkwise
	if st.Pos() > 0 {
		form = Recurrent
	}
	m.forward(acts, form, chunk, st)
	return acts.Logits, nil
}

// Step feeds one token per sequence (B) into st and returns the next-token
// logits (B,V): O(1) work and memory in the number of tokens consumed. The
// returned slice is reused by the next Step.
func (m *ModelOf[T]) Step(st *StateOf[T], tokens []int) ([]T, error) {
	if len(tokens) != st.B {
		return nil, fmt.Errorf("retnet: Step got %d tokens for a state of batch %d", len(tokens), st.B)
	}
	if st.step == nil {
		st.step = newActivations[T](m.Config, st.B, 1)
	}
	for b, t := range tokens {
		if t < 0 || t >= m.Config.Vocab {
			return nil, fmt.Errorf("retnet: Step sequence %d: token %d is outside the vocabulary [0,%d)", b, t, m.Config.Vocab)
		}
		st.step.Tokens[b] = int32(t)
	}
	m.forward(st.step, Recurrent, 0, st)
	return st.step.Logits, nil
}
