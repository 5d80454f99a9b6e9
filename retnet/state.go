package retnet

import "fmt"

// State is the recurrent decoding state of a whole model for a batch of B
// sequences: per layer, torchscale's incremental_state as a typed value.
// Its size is independent of how many tokens were consumed: O(1) memory
// decoding.
type State struct {
	B      int
	Layers []LayerState
	step   *Activations // (B,1) activations reused by every Step
}

// LayerState is one layer's retention state.
type LayerState struct {
	S     []float32 // (B,H,dv,dk) torchscale's prev_key_value
	Scale []float32 // (H) torchscale's scale: c_n = sum_{d<n} gamma^d
	Pos   int       // tokens consumed; the next token's rotation angle is Pos*theta
}

// NewState returns an empty state for B sequences.
func (m *Model) NewState(B int) *State {
	c := m.Config
	st := &State{B: B, Layers: make([]LayerState, c.Layers)}
	n := B * c.Heads * c.KeyHeadDim() * c.ValueHeadDim()
	for l := range st.Layers {
		st.Layers[l] = LayerState{S: make([]float32, n), Scale: make([]float32, c.Heads)}
	}
	return st
}

// Pos is the number of tokens the state has consumed.
func (st *State) Pos() int { return st.Layers[0].Pos }

// Bytes is the memory the state holds (what decoding keeps between tokens).
func (st *State) Bytes() int64 {
	var n int64
	for _, l := range st.Layers {
		n += 4 * int64(len(l.S)+len(l.Scale))
	}
	return n
}

// Reset empties the state for reuse.
func (st *State) Reset() {
	for l := range st.Layers {
		clear(st.Layers[l].S)
		clear(st.Layers[l].Scale)
		st.Layers[l].Pos = 0
	}
}

func (st *LayerState) check(r *MSR, B int) {
	if len(st.S) != B*r.H*(r.D/r.H)*(r.DV/r.H) || len(st.Scale) != r.H {
		panic(fmt.Sprintf("retnet: LayerState sized for %d floats and %d heads, layer needs B=%d H=%d dk=%d dv=%d", len(st.S), len(st.Scale), B, r.H, r.D/r.H, r.DV/r.H))
	}
}

// Prefill feeds tokens (B,T) into st and returns the logits (B,T,V) of every
// position. From an empty state it runs the chunkwise form (chunk <= 0:
// DefaultChunk) and derives the recurrent state from it in one pass; from a
// non-empty state it continues recurrently. Either way the state equals what
// token-by-token Steps would leave (up to float32 rounding).
func (m *Model) Prefill(st *State, tokens [][]int, chunk int) ([]float32, error) {
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
func (m *Model) Step(st *State, tokens []int) ([]float32, error) {
	if len(tokens) != st.B {
		return nil, fmt.Errorf("retnet: Step got %d tokens for a state of batch %d", len(tokens), st.B)
	}
	if st.step == nil {
		st.step = NewActivations(m.Config, st.B, 1)
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
