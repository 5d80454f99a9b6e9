package hf

import (
	"fmt"
	"math"

	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/retnet/backend/cpu"
)

// State is what decoding keeps between calls for B sequences at position
// Pos: RetNet's per-layer recurrent states, or the Transformer's KV cache.
type State struct {
	B, Pos int
	S      [][]float32 // retnet: per layer (B, H, dk, dv), fla's [K, V] layout
	K, V   [][]float32 // attention: per layer (B, Pos, KVH*hd), grown by each call
}

// NewState returns an empty state for B sequences.
func (m *Model) NewState(B int) *State {
	st := &State{B: B}
	L := m.Config.Layers
	if m.Config.IsRetNet() {
		st.S = make([][]float32, L)
		n := B * m.Config.Heads * m.Config.KeyHeadDim() * m.Config.ValueHeadDim()
		for l := range st.S {
			st.S[l] = make([]float32, n)
		}
	} else {
		st.K, st.V = make([][]float32, L), make([][]float32, L)
	}
	return st
}

// Bytes is the memory the state holds.
func (st *State) Bytes() int64 {
	var n int
	for _, s := range [][][]float32{st.S, st.K, st.V} {
		for _, x := range s {
			n += len(x)
		}
	}
	return int64(n) * 4
}

// Forward runs B sequences of T tokens (tokens (B,T) flattened) and returns
// the logits (B,T,V) flattened. RetNet computes retention in the given form
// (chunk: the chunkwise form's chunk size; <= 0: 64, fla's). The
// Transformer ignores form and chunk.
//
// With st == nil the sequences start at position 0. Otherwise they continue
// from st (st.B must be B): RetNet's recurrent and chunkwise forms start from
// its states, the parallel form needs st.Pos == 0; every form leaves in st
// the state after the T tokens, and the Transformer appends to its KV cache.
func (m *Model) Forward(tokens []int32, B, T int, form retnet.Form, chunk int, st *State) ([]float32, error) {
	c := m.Config
	if B <= 0 || T <= 0 || len(tokens) != B*T {
		return nil, fmt.Errorf("hf: Forward with %d tokens for B=%d T=%d", len(tokens), B, T)
	}
	for i, t := range tokens {
		if t < 0 || int(t) >= c.Vocab {
			return nil, fmt.Errorf("hf: token %d at position %d is outside the vocabulary [0,%d)", t, i, c.Vocab)
		}
	}
	pos := 0
	if st != nil {
		if st.B != B {
			return nil, fmt.Errorf("hf: state for %d sequences used with %d", st.B, B)
		}
		pos = st.Pos
	}
	if c.IsRetNet() {
		if _, err := retnet.ParseForm(string(form)); err != nil {
			return nil, err
		}
		if form == retnet.Parallel && pos != 0 {
			return nil, fmt.Errorf("hf: the parallel form starts at position 0; continue a state at %d with the recurrent or chunkwise form", pos)
		}
	}
	if chunk <= 0 {
		chunk = DefaultChunk
	}
	N, D := B*T, c.Hidden
	x := make([]float32, N*D)
	row := make([]float32, D)
	for i, t := range tokens {
		copy(x[i*D:(i+1)*D], m.embed.row(row, int(t)))
	}
	h := make([]float32, N*D)
	mix := make([]float32, N*D)
	ffn := newMLPScratch(N, c.Intermediate)
	for l := range m.layers {
		L := &m.layers[l]
		rmsNorm(h, x, L.attnNorm, N, D, c.NormEps)
		if m.inputTap != nil {
			m.inputTap(l, h)
		}
		if c.IsRetNet() {
			var S []float32
			if st != nil {
				S = st.S[l]
			}
			m.retention(mix, h, l, B, T, pos, form, chunk, S)
		} else {
			var kc, vc *[]float32
			if st != nil {
				kc, vc = &st.K[l], &st.V[l]
			}
			m.attention(mix, h, L, B, T, pos, kc, vc)
		}
		add(x, mix)
		rmsNorm(h, x, L.mlpNorm, N, D, c.NormEps)
		ffn.forward(mix, h, L, N)
		add(x, mix)
	}
	rmsNorm(h, x, m.norm, N, D, c.NormEps)
	logits := make([]float32, N*c.Vocab)
	m.head.linear(logits, h, N)
	if st != nil {
		st.Pos += T
	}
	return logits, nil
}

// DefaultChunk is fla's chunk size (its chunk kernels use 64).
const DefaultChunk = 64

// rmsNorm: y = x / sqrt(mean(x^2) + eps) * w, per row, float32 with a
// float64 sum of squares.
func rmsNorm(y, x, w []float32, N, C int, eps float64) {
	for n := 0; n < N; n++ {
		xr, yr := x[n*C:(n+1)*C], y[n*C:(n+1)*C]
		var ss float64
		for _, v := range xr {
			ss += float64(v) * float64(v)
		}
		r := float32(1 / math.Sqrt(ss/float64(C)+eps))
		for i, v := range xr {
			yr[i] = v * r * w[i]
		}
	}
}

func add(x, y []float32) { cpu.Axpy(1, y, x) }

func silu(v float32) float32 { return v / (1 + float32(math.Exp(float64(-v)))) }

// mlpScratch holds the SwiGLU MLP's hidden activations.
type mlpScratch struct{ g, u []float32 }

func newMLPScratch(N, F int) *mlpScratch {
	return &mlpScratch{g: make([]float32, N*F), u: make([]float32, N*F)}
}

// forward: out = down(silu(gate(z)) (.) up(z)).
func (s *mlpScratch) forward(out, z []float32, L *layer, N int) {
	L.gate.linear(s.g, z, N)
	L.up.linear(s.u, z, N)
	for i, g := range s.g {
		s.g[i] = silu(g) * s.u[i]
	}
	L.down.linear(out, s.g, N)
}

// rotate applies rotate-half rotary positions to rows (N = B*T) of heads
// head dims each: pairs (i, i+hd/2) turn by angle (pos0 + t) * invFreq[i],
// t the row's position in its sequence.
func (m *Model) rotate(x []float32, B, T, pos0, heads int) {
	hd := m.Config.HeadDim
	half := hd / 2
	cs := make([]float32, T*half*2)
	for t := 0; t < T; t++ {
		for i, f := range m.invFreq {
			a := float64(float32(pos0+t) * f)
			cs[(t*half+i)*2] = float32(math.Cos(a))
			cs[(t*half+i)*2+1] = float32(math.Sin(a))
		}
	}
	W := heads * hd
	for b := 0; b < B; b++ {
		for t := 0; t < T; t++ {
			r := x[(b*T+t)*W : (b*T+t+1)*W]
			tab := cs[t*half*2:]
			for h := 0; h < heads; h++ {
				v := r[h*hd : (h+1)*hd]
				for i := 0; i < half; i++ {
					c, s := tab[2*i], tab[2*i+1]
					x1, x2 := v[i], v[i+half]
					v[i] = x1*c - x2*s
					v[i+half] = x2*c + x1*s
				}
			}
		}
	}
}
