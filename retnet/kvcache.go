package retnet

import (
	"fmt"
	"math/rand/v2"

	"github.com/retlab/retlab/internal/parallel"
)

// KVCache decodes with a Transformer incrementally: it keeps every layer's
// rotated keys and values of the tokens consumed so far, so each new token
// costs projections plus one attention row over the cache, O(context) work
// and memory per token (RetNet's recurrent state is O(1)). It implements
// Decoder for float32.
type KVCache = KVCacheOf[float32]

// KVCacheOf is KVCache with element type T.
type KVCacheOf[T Float] struct {
	m    *TransformerOf[T]
	b    int   // sequences decoded together
	pos  int   // tokens consumed per sequence
	size int   // positions allocated per sequence and head
	K, V [][]T // per layer (B,H,size,dk): rotated keys and values; positions [0,pos) are valid

	x, xn, h, hn, next []T // (B,D) residual stream and norms of the current token
	rstd               []T // (B)
	q, k, v, o, ao     []T // (B,D) projections, head outputs, attention output
	ffn                GLUActs[T]
	logits             []T   // (B,V)
	scores             [][]T // per worker (size)
	joint              []T   // (B,3D) the fused q, k, v product (linearJoint)
	rot                RotationTable[T]
}

// NewKVCache returns an empty cache decoding B sequences with m. The cache
// grows by doubling; Reserve allocates it up front.
func NewKVCache[T Float](m *TransformerOf[T], B int) *KVCacheOf[T] {
	if B < 1 {
		panic(fmt.Sprintf("retnet: NewKVCache batch %d, want >= 1", B))
	}
	c := m.Config
	D := c.Dim
	d := &KVCacheOf[T]{m: m, b: B, K: make([][]T, c.Layers), V: make([][]T, c.Layers),
		x: make([]T, B*D), xn: make([]T, B*D), h: make([]T, B*D), hn: make([]T, B*D), next: make([]T, B*D),
		rstd: make([]T, B), q: make([]T, B*D), k: make([]T, B*D), v: make([]T, B*D), o: make([]T, B*D), ao: make([]T, B*D),
		ffn: newGLUActs[T](B, c.FFNDim), logits: make([]T, B*c.Vocab)}
	return d
}

// NewDecoder implements LanguageModel: a KV-cache decoder of B sequences.
// It panics for element types other than float32 (use NewKVCache).
func (m *TransformerOf[T]) NewDecoder(B int) Decoder {
	return any(NewKVCache(m, B)).(Decoder)
}

// Pos implements Decoder.
func (d *KVCacheOf[T]) Pos() int { return d.pos }

// StateBytes implements Decoder: the bytes of keys and values held for the
// tokens consumed, 2 L B pos D elements (allocated capacity may be up to
// twice that; see Reserve).
func (d *KVCacheOf[T]) StateBytes() int64 {
	c := d.m.Config
	var z T
	return 2 * int64(c.Layers) * int64(d.b) * int64(d.pos) * int64(c.Dim) * int64(sizeOf(z))
}

// Reserve makes room for n positions per sequence without further
// allocation.
func (d *KVCacheOf[T]) Reserve(n int) {
	if n <= d.size {
		return
	}
	c := d.m.Config
	H, dk := c.Heads, c.HeadDim()
	for l := range d.K {
		for _, buf := range []*[]T{&d.K[l], &d.V[l]} {
			nb := make([]T, d.b*H*n*dk)
			if d.pos > 0 {
				for bh := 0; bh < d.b*H; bh++ {
					copy(nb[bh*n*dk:bh*n*dk+d.pos*dk], (*buf)[bh*d.size*dk:bh*d.size*dk+d.pos*dk])
				}
			}
			*buf = nb
		}
	}
	d.size = n
	for i := range d.scores {
		d.scores[i] = make([]T, n)
	}
}

func (d *KVCacheOf[T]) grow(n int) {
	if n > d.size {
		d.Reserve(max(n, 2*d.size, 64))
	}
}

// Prefill implements Decoder: from an empty cache it runs the full
// (parallel) forward pass over the prompts and stores their keys and
// values; from a non-empty cache it steps through the tokens. It returns
// the logits (B,V) of the last position.
func (d *KVCacheOf[T]) Prefill(tokens [][]int) ([]T, error) {
	c := d.m.Config
	if len(tokens) != d.b {
		return nil, fmt.Errorf("retnet: Prefill got %d sequences for a decoder of batch %d", len(tokens), d.b)
	}
	nT := len(tokens[0])
	if nT == 0 {
		return nil, fmt.Errorf("retnet: Prefill got an empty prompt")
	}
	for b, seq := range tokens {
		if len(seq) != nT {
			return nil, fmt.Errorf("retnet: sequence %d has %d tokens, sequence 0 has %d (a batch needs equal lengths)", b, len(seq), nT)
		}
		for t, v := range seq {
			if v < 0 || v >= c.Vocab {
				return nil, fmt.Errorf("retnet: sequence %d position %d: token %d is outside the vocabulary [0,%d)", b, t, v, c.Vocab)
			}
		}
	}
	if d.pos > 0 {
		var out []T
		step := make([]int, d.b)
		for t := 0; t < nT; t++ {
			for b := range step {
				step[b] = tokens[b][t]
			}
			var err error
			if out, err = d.Step(step); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	acts := newTransformerActs[T](c, d.b, nT)
	for b, seq := range tokens {
		for t, v := range seq {
			acts.Tokens[b*nT+t] = int32(v)
		}
	}
	d.m.Forward(acts)
	d.grow(nT)
	H, dk, D := c.Heads, c.HeadDim(), c.Dim
	for l := range d.K {
		src := &acts.Layers[l].Attn
		for b := 0; b < d.b; b++ {
			for h := 0; h < H; h++ {
				base := (b*H + h) * d.size * dk
				for t := 0; t < nT; t++ {
					row := (b*nT+t)*D + h*dk
					copy(d.K[l][base+t*dk:base+(t+1)*dk], src.K[row:row+dk])
					copy(d.V[l][base+t*dk:base+(t+1)*dk], src.V[row:row+dk])
				}
			}
		}
	}
	d.pos = nT
	V := c.Vocab
	for b := 0; b < d.b; b++ {
		copy(d.logits[b*V:(b+1)*V], acts.Logits[(b*nT+nT-1)*V:(b*nT+nT)*V])
	}
	return d.logits, nil
}

// Step implements Decoder: it consumes one token per sequence and returns
// the next-token logits (B,V), reused by the next call.
func (d *KVCacheOf[T]) Step(tokens []int) ([]T, error) {
	m, c := d.m, d.m.Config
	if len(tokens) != d.b {
		return nil, fmt.Errorf("retnet: Step got %d tokens for a decoder of batch %d", len(tokens), d.b)
	}
	for b, t := range tokens {
		if t < 0 || t >= c.Vocab {
			return nil, fmt.Errorf("retnet: Step sequence %d: token %d is outside the vocabulary [0,%d)", b, t, c.Vocab)
		}
	}
	d.grow(d.pos + 1)
	B, D, H, dk := d.b, c.Dim, c.Heads, c.HeadDim()
	p := m.Params
	scale := T(m.Config.EmbedScale())
	for b, t := range tokens {
		e, x := p.Embed[t*D:(t+1)*D], d.x[b*D:(b+1)*D]
		for j, v := range e {
			x[j] = scale * v
		}
	}
	d.rot.Reset(m.Angle, d.pos, 1)
	if nw := parallel.Workers(B * H); len(d.scores) < nw {
		for len(d.scores) < nw {
			d.scores = append(d.scores, make([]T, d.size))
		}
	}
	att := T(KeyScale(dk))
	n := d.pos + 1
	for l := range p.Layers {
		lp := &p.Layers[l]
		RMSNormForward(d.xn, d.rstd, d.x, lp.AttnNorm, B, D, c.NormEps)
		linearJoint(&d.joint, d.xn, B, D, [][]T{d.q, d.k, d.v}, [][]T{lp.Wq, lp.Wk, lp.Wv})
		RotateForward(d.q, &d.rot, B, H)
		RotateForward(d.k, &d.rot, B, H)
		Kl, Vl := d.K[l], d.V[l]
		for b := 0; b < B; b++ {
			for h := 0; h < H; h++ {
				at := ((b*H+h)*d.size + d.pos) * dk
				copy(Kl[at:at+dk], d.k[b*D+h*dk:b*D+(h+1)*dk])
				copy(Vl[at:at+dk], d.v[b*D+h*dk:b*D+(h+1)*dk])
			}
		}
		parallel.For(B*H, func(w, bh int) {
			b, h := bh/H, bh%H
			q := d.q[b*D+h*dk : b*D+(h+1)*dk]
			o := d.o[b*D+h*dk : b*D+(h+1)*dk]
			keys, vals := Kl[bh*d.size*dk:], Vl[bh*d.size*dk:]
			s := d.scores[w][:n]
			for j := range s {
				s[j] = att * dot(q, keys[j*dk:(j+1)*dk])
			}
			softmaxCausalRow(s, n)
			clear(o)
			for j, pj := range s {
				axpy(pj, vals[j*dk:(j+1)*dk], o)
			}
		})
		LinearForward(d.ao, d.o, lp.Wo, B, D, D)
		for i, v := range d.ao {
			d.h[i] = d.x[i] + v
		}
		RMSNormForward(d.hn, d.rstd, d.h, lp.FFNNorm, B, D, c.NormEps)
		GLUForward(d.next, d.hn, lp.Fc1, lp.Gate, lp.Fc2, &d.ffn, B, D, c.FFNDim, c.Activation)
		addScaled(d.next, d.h, 1)
		d.x, d.next = d.next, d.x
	}
	RMSNormForward(d.xn, d.rstd, d.x, p.FinalNorm, B, D, c.NormEps)
	LinearForward(d.logits, d.xn, p.Out, B, D, c.Vocab)
	d.pos++
	return d.logits, nil
}

// FillContext implements ContextFiller: it puts the cache at position n
// holding random keys and values (seeded), for latency benchmarks at long
// contexts without an O(n^2) prefill. A step's cost depends only on n, not
// on what the cache holds. The decoded text is meaningless afterwards.
func (d *KVCacheOf[T]) FillContext(n int, seed uint64) error {
	if n < 0 {
		return fmt.Errorf("retnet: FillContext(%d): negative position", n)
	}
	d.pos = 0
	d.Reserve(n + 1)
	rng := rand.New(rand.NewPCG(seed, 0x4b56))
	for l := range d.K {
		for _, buf := range [][]T{d.K[l], d.V[l]} {
			for i := range buf {
				buf[i] = T(rng.NormFloat64())
			}
		}
	}
	d.pos = n
	return nil
}
