package lm

import (
	"errors"
	"fmt"

	"github.com/retlab/retlab/internal/plan"
	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/retnet/backend"
	"github.com/retlab/retlab/retnet/backend/cuda"
)

// LM is a model's weights on the device and the activations of the last
// (B,T) it ran (Logits, Prefill).
type LM struct {
	b        *cuda.Backend
	c        retnet.Config
	logGamma []float32
	embed    *cuda.Buffer // (V,D)
	final    *cuda.Buffer // (D)
	out      *cuda.Buffer // (V,D)
	layers   []layer
	lg       *cuda.Buffer // (H)
	angle    *cuda.Buffer // (dk)
	acts     *acts        // of Logits and Prefill (plan)
}

type layer struct {
	retNorm, wq, wk, wv, wg, wo, ffnNorm, fc1, gate, fc2 *cuda.Buffer
}

// New uploads m's weights to b's device.
func New(b *cuda.Backend, m *retnet.Model) (*LM, error) {
	c := m.Config
	if err := c.Validate(); err != nil {
		return nil, err
	}
	g := &LM{b: b, c: c, logGamma: append([]float32(nil), m.LogGamma...)}
	up := func(dst **cuda.Buffer, src []float32) error {
		x, err := b.Alloc(len(src))
		if err != nil {
			return err
		}
		*dst = x
		return x.CopyFrom(src)
	}
	p := m.Params
	err := errors.Join(up(&g.embed, p.Embed), up(&g.final, p.FinalNorm), up(&g.out, p.Out), up(&g.lg, m.LogGamma), up(&g.angle, m.Angle))
	g.layers = make([]layer, c.Layers)
	for l := range g.layers {
		if err != nil {
			break
		}
		lp, dl := &p.Layers[l], &g.layers[l]
		err = errors.Join(up(&dl.retNorm, lp.RetNorm), up(&dl.wq, lp.Wq), up(&dl.wk, lp.Wk), up(&dl.wv, lp.Wv), up(&dl.wg, lp.Wg),
			up(&dl.wo, lp.Wo), up(&dl.ffnNorm, lp.FFNNorm), up(&dl.fc1, lp.Fc1), up(&dl.gate, lp.Gate), up(&dl.fc2, lp.Fc2))
	}
	if err != nil {
		_ = g.Close()
		return nil, fmt.Errorf("lm: uploading the weights: %w", err)
	}
	return g, nil
}

// Close frees the device memory of the weights and activations.
func (g *LM) Close() error {
	var errs []error
	free := func(x *cuda.Buffer) {
		if x != nil {
			errs = append(errs, x.Free())
		}
	}
	for _, x := range []*cuda.Buffer{g.embed, g.final, g.out, g.lg, g.angle} {
		free(x)
	}
	for _, l := range g.layers {
		for _, x := range []*cuda.Buffer{l.retNorm, l.wq, l.wk, l.wv, l.wg, l.wo, l.ffnNorm, l.fc1, l.gate, l.fc2} {
			free(x)
		}
	}
	g.layers = nil
	errs = append(errs, g.freeActs(g.acts))
	g.acts = nil
	return errors.Join(errs...)
}

// acts are the device activations of a (B,T) forward. They are planned
// from one table (table: allocation and release both walk it) and meet a
// new B or T only through plan.Shape, the rule retnet's CPU models follow:
// the same shape reuses them, another frees them and plans anew (g.plan).
type acts struct {
	B, T               int
	tokens             *cuda.Buffer    // (B,T) int32
	x, next, xn, h, hn *cuda.Buffer    // (B,T,D)
	q, k               *cuda.Buffer    // (B,T,D)
	v, g, o, y, gated  *cuda.Buffer    // (B,T,DV)
	rstd               *cuda.Buffer    // (B,T,H)
	fc1, gateOut, act  *cuda.Buffer    // (B,T,F)
	logits             *cuda.Buffer    // (B,T,V)
	host               []float32       // (B,T,V) logits
	chunk              *cuda.ChunkPlan // the chunkwise form's scratch for (B,T) and chunkC, made on first use
	chunkC             int
}

func (a *acts) shape() (int, int) { return a.B, a.T }

// devSlot is one device buffer of an activation table and its length in
// elements.
type devSlot struct {
	buf **cuda.Buffer
	n   int
}

// table lists a's device buffers for config c, in allocation order.
func (a *acts) table(c retnet.Config) []devSlot {
	N, D, DV := a.B*a.T, c.Dim, c.ValueDim
	return []devSlot{{&a.tokens, N}, {&a.x, N * D}, {&a.next, N * D}, {&a.xn, N * D}, {&a.h, N * D}, {&a.hn, N * D},
		{&a.q, N * D}, {&a.k, N * D}, {&a.v, N * DV}, {&a.g, N * DV}, {&a.o, N * DV}, {&a.y, N * DV}, {&a.gated, N * DV},
		{&a.rstd, N * c.Heads}, {&a.fc1, N * c.FFNDim}, {&a.gateOut, N * c.FFNDim}, {&a.act, N * c.FFNDim},
		{&a.logits, N * c.Vocab}}
}

// plan returns the activations for (B,T) held in *slot (plan.Shape: the
// same shape reuses them, another frees them and plans anew).
func (g *LM) plan(slot **acts, B, T int) (*acts, error) {
	return plan.Shape(slot, (*acts).shape, B, T, g.newActs, g.freeActs)
}

// newActs allocates the activation table of a (B,T) forward.
func (g *LM) newActs(B, T int) (*acts, error) {
	a := &acts{B: B, T: T, host: make([]float32, B*T*g.c.Vocab)}
	for _, s := range a.table(g.c) {
		x, err := g.b.Alloc(s.n)
		if err != nil {
			_ = g.freeActs(a)
			return nil, fmt.Errorf("lm: planning activations for B=%d T=%d: %w", B, T, err)
		}
		*s.buf = x
	}
	return a, nil
}

// freeActs frees a's device buffers and chunk plan (a may be nil or
// partly allocated).
func (g *LM) freeActs(a *acts) error {
	if a == nil {
		return nil
	}
	var errs []error
	if a.chunk != nil {
		errs = append(errs, a.chunk.Close())
		a.chunk = nil
	}
	for _, s := range a.table(g.c) {
		if *s.buf != nil {
			errs = append(errs, (*s.buf).Free())
			*s.buf = nil
		}
	}
	return errors.Join(errs...)
}

// chunkPlan returns a's chunkwise scratch for chunk size C, remade when C
// changes (a's (B,T) is fixed: a new shape is a new acts).
func (g *LM) chunkPlan(a *acts, s backend.Shape, C int) (*cuda.ChunkPlan, error) {
	if a.chunk != nil && a.chunkC == C {
		return a.chunk, nil
	}
	if a.chunk != nil {
		if err := a.chunk.Close(); err != nil {
			return nil, err
		}
		a.chunk = nil
	}
	p, err := g.b.NewChunkPlan(s, C, g.logGamma)
	if err != nil {
		return nil, err
	}
	a.chunk, a.chunkC = p, C
	return p, nil
}

// tokensOf checks tokens (B equal-length sequences in the vocabulary) and
// flattens them.
func (g *LM) tokensOf(tokens [][]int) ([]int32, int, int, error) {
	if len(tokens) == 0 || len(tokens[0]) == 0 {
		return nil, 0, 0, errors.New("lm: no tokens")
	}
	B, T := len(tokens), len(tokens[0])
	ids := make([]int32, 0, B*T)
	for b, seq := range tokens {
		if len(seq) != T {
			return nil, 0, 0, fmt.Errorf("lm: sequence %d has %d tokens, sequence 0 has %d (a batch needs equal lengths)", b, len(seq), T)
		}
		for t, v := range seq {
			if v < 0 || v >= g.c.Vocab {
				return nil, 0, 0, fmt.Errorf("lm: sequence %d position %d: token %d is outside the vocabulary [0,%d)", b, t, v, g.c.Vocab)
			}
			ids = append(ids, int32(v))
		}
	}
	return ids, B, T, nil
}

// Logits runs the model on B equal-length sequences in the given form
// (chunk: chunk size of the chunkwise form, <= 0: retnet.DefaultChunk) and
// returns the logits (B,T,V), like retnet.ModelOf.Logits. The slice is
// reused by the next call with the same B and T.
func (g *LM) Logits(tokens [][]int, form retnet.Form, chunk int) ([]float32, error) {
	ids, B, T, err := g.tokensOf(tokens)
	if err != nil {
		return nil, err
	}
	if _, err := retnet.ParseForm(string(form)); err != nil {
		return nil, err
	}
	var states []*cuda.Decoder
	if form == retnet.Recurrent {
		if states, err = g.newStates(B); err != nil {
			return nil, err
		}
		defer closeStates(states)
	}
	a, err := g.run(&g.acts, ids, B, T, form, chunk, states, 0, false)
	if err != nil {
		return nil, err
	}
	return a.host, nil
}

func (g *LM) newStates(B int) ([]*cuda.Decoder, error) {
	c := g.c
	states := make([]*cuda.Decoder, c.Layers)
	for l := range states {
		d, err := g.b.OpenDecoder(B, c.Heads, c.KeyHeadDim(), c.ValueHeadDim(), g.logGamma)
		if err != nil {
			closeStates(states)
			return nil, err
		}
		states[l] = d
	}
	return states, nil
}

func closeStates(states []*cuda.Decoder) {
	for _, d := range states {
		if d != nil {
			_ = d.Close()
		}
	}
}

// run is the forward pass of ids (B,T) from position pos0 in the
// activations *slot plans (g.plan). states, when
// not nil, are the layers' recurrent states: the Recurrent form continues
// them; with prefill the Chunkwise form computes the outputs and the states
// are advanced over the same q, k, v (the state a token-by-token decoder
// would hold; retnet's Prefill derives the same state in closed form).
// The logits land in a.host.
func (g *LM) run(slot **acts, ids []int32, B, T int, form retnet.Form, chunk int, states []*cuda.Decoder, pos0 int, prefill bool) (*acts, error) {
	a, err := g.plan(slot, B, T)
	if err != nil {
		return nil, err
	}
	c, b := g.c, g.b
	N, D, DV, F, H := B*T, c.Dim, c.ValueDim, c.FFNDim, c.Heads
	dk, dv := c.KeyHeadDim(), c.ValueHeadDim()
	s := backend.Shape{B: B, T: T, H: H, Dk: dk, Dv: dv}
	if err := a.tokens.CopyFromInt32(ids); err != nil {
		return nil, err
	}
	embScale := c.EmbedScale() // the formulas of the CPU model, not a copy
	alpha := float32(c.ResidualAlpha())
	if chunk <= 0 {
		chunk = retnet.DefaultChunk
	}
	chunk = min(chunk, T)
	var cp *cuda.ChunkPlan
	if form == retnet.Chunkwise {
		if cp, err = g.chunkPlan(a, s, chunk); err != nil {
			return nil, err
		}
	}
	ok := func(errs ...error) error { return errors.Join(errs...) }
	if err := b.EmbedDev(a.x, g.embed, a.tokens, N, D, embScale); err != nil {
		return nil, err
	}
	x, next := a.x, a.next
	for l, w := range g.layers {
		err := ok(
			b.RMSNormDev(a.xn, x, w.retNorm, N, D, c.NormEps),
			b.SgemmDev(false, true, N, D, D, 1, a.xn, D, w.wq, D, 0, a.q, D),
			b.SgemmDev(false, true, N, D, D, float32(retnet.KeyScale(dk)), a.xn, D, w.wk, D, 0, a.k, D),
			b.SgemmDev(false, true, N, DV, D, 1, a.xn, D, w.wv, D, 0, a.v, DV),
			b.SgemmDev(false, true, N, DV, D, 1, a.xn, D, w.wg, D, 0, a.g, DV),
			b.RotateDev(a.q, N, H, dk, T, pos0, g.angle, false),
			b.RotateDev(a.k, N, H, dk, T, pos0, g.angle, false),
		)
		if err != nil {
			return nil, err
		}
		switch form {
		case retnet.Parallel:
			err = b.ParallelDev(s, a.q, a.k, a.v, a.o, g.lg)
		case retnet.Chunkwise:
			err = cp.Run(a.q, a.k, a.v, a.o)
			if err == nil && prefill {
				// Advance the state over the same tokens; its outputs
				// (written to y, overwritten below) are not used.
				err = states[l].RunDev(a.q, a.k, a.v, a.y, T)
			}
		case retnet.Recurrent:
			err = states[l].RunDev(a.q, a.k, a.v, a.o, T)
		}
		if err != nil {
			return nil, err
		}
		err = ok(
			b.GroupNormGateDev(a.gated, a.y, a.rstd, a.o, a.g, N, H, dv, c.GroupNormEps),
			b.SgemmDev(false, true, N, D, DV, 1, a.gated, DV, w.wo, DV, 0, a.h, D),
			b.AxpyDev(a.h, x, alpha, N*D),
			b.RMSNormDev(a.hn, a.h, w.ffnNorm, N, D, c.NormEps),
			b.SgemmDev(false, true, N, F, D, 1, a.hn, D, w.fc1, D, 0, a.fc1, F),
			b.SgemmDev(false, true, N, F, D, 1, a.hn, D, w.gate, D, 0, a.gateOut, F),
			b.GLUDev(a.act, a.fc1, a.gateOut, N*F, c.Activation == "gelu"),
			b.SgemmDev(false, true, N, D, F, 1, a.act, F, w.fc2, F, 0, next, D),
			b.AxpyDev(next, a.h, alpha, N*D),
		)
		if err != nil {
			return nil, err
		}
		x, next = next, x
	}
	err = ok(
		b.RMSNormDev(a.xn, x, g.final, N, D, c.NormEps),
		b.SgemmDev(false, true, N, c.Vocab, D, 1, a.xn, D, g.out, D, 0, a.logits, c.Vocab),
	)
	if err != nil {
		return nil, err
	}
	return a, a.logits.CopyTo(a.host)
}

// Decoder decodes B sequences with the recurrent state of every layer on
// the device (retnet.Decoder): Prefill runs the chunkwise form over the
// prompt and leaves the state a token-by-token decoder would; each Step is
// O(1) in the tokens consumed. Close frees it.
type Decoder struct {
	g      *LM
	B, pos int
	states []*cuda.Decoder
	last   []float32 // (B,V)
	step   *acts     // the steps' own activations (T = 1), so a prompt's plan survives
}

var _ retnet.Decoder = (*Decoder)(nil)

// NewDecoder starts decoding B sequences from an empty state.
func (g *LM) NewDecoder(B int) (*Decoder, error) {
	if B < 1 {
		panic(fmt.Sprintf("lm: NewDecoder(%d)", B))
	}
	states, err := g.newStates(B)
	if err != nil {
		return nil, err
	}
	return &Decoder{g: g, B: B, states: states}, nil
}

// Prefill consumes a prompt per sequence (B equal lengths) and returns the
// logits (B,V) of its last position: chunkwise from an empty state, the
// recurrent form when continuing.
func (d *Decoder) Prefill(tokens [][]int) ([]float32, error) {
	if len(tokens) != d.B {
		return nil, fmt.Errorf("lm: Prefill got %d sequences for a decoder of batch %d", len(tokens), d.B)
	}
	ids, B, T, err := d.g.tokensOf(tokens)
	if err != nil {
		return nil, err
	}
	form, prefill := retnet.Chunkwise, true
	if d.pos > 0 {
		form, prefill = retnet.Recurrent, false
	}
	a, err := d.g.run(&d.g.acts, ids, B, T, form, 0, d.states, d.pos, prefill)
	if err != nil {
		return nil, err
	}
	d.pos += T
	V := d.g.c.Vocab
	d.last = d.last[:0]
	for b := 0; b < B; b++ {
		d.last = append(d.last, a.host[(b*T+T-1)*V:(b*T+T)*V]...)
	}
	return d.last, nil
}

// Step consumes one token per sequence and returns the next-token logits
// (B,V); the slice is reused by the next Step.
func (d *Decoder) Step(tokens []int) ([]float32, error) {
	if len(tokens) != d.B {
		return nil, fmt.Errorf("lm: Step got %d tokens for a decoder of batch %d", len(tokens), d.B)
	}
	seqs := make([][]int, d.B)
	for b, t := range tokens {
		seqs[b] = []int{t}
	}
	ids, B, _, err := d.g.tokensOf(seqs)
	if err != nil {
		return nil, err
	}
	a, err := d.g.run(&d.step, ids, B, 1, retnet.Recurrent, 0, d.states, d.pos, false)
	if err != nil {
		return nil, err
	}
	d.pos++
	return a.host, nil
}

// Pos is the number of tokens consumed.
func (d *Decoder) Pos() int { return d.pos }

// StateBytes is the device memory of the recurrent states.
func (d *Decoder) StateBytes() int64 {
	var n int64
	for _, s := range d.states {
		n += s.StateBytes()
	}
	return n
}

// Close frees the states and the step activations (not the LM).
func (d *Decoder) Close() error {
	closeStates(d.states)
	d.states = nil
	err := d.g.freeActs(d.step)
	d.step = nil
	return err
}
