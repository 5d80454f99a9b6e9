package cuda

import (
	"fmt"
	"sync/atomic"

	"github.com/retlab/retlab/retnet/backend"
	"github.com/retlab/retlab/retnet/backend/cpu"
)

// needs panics unless buffer x holds at least n floats (programmer error).
func needs(op, name string, x *Buffer, n int) {
	if x == nil || x.n < n {
		have := 0
		if x != nil {
			have = x.n
		}
		panic(fmt.Sprintf("cuda: %s: buffer %s has %d floats, needs %d", op, name, have, n))
	}
}

func checkShapeBuffers(op string, s backend.Shape, q, k, v, o *Buffer) {
	if s.B < 1 || s.T < 1 || s.H < 1 || s.Dk < 1 || s.Dv < 1 {
		panic(fmt.Sprintf("cuda: %s: bad shape %+v", op, s))
	}
	needs(op, "q", q, s.QKLen())
	needs(op, "k", k, s.QKLen())
	needs(op, "v", v, s.VLen())
	needs(op, "o", o, s.VLen())
}

// ---------------------------------------------------------------------------
// Parallel form

// ParallelDev enqueues the parallel form (backend.Backend.ParallelRetention)
// on device buffers: q, k (B,T,H*Dk), v, o (B,T,H*Dv), logGamma (H).
func (b *Backend) ParallelDev(s backend.Shape, q, k, v, o, logGamma *Buffer) error {
	checkShapeBuffers("ParallelDev", s, q, k, v, o)
	needs("ParallelDev", "logGamma", logGamma, s.H)
	return b.do(func() error { return b.parallel(s, q, k, v, o, logGamma) })
}

func (b *Backend) parallel(s backend.Shape, q, k, v, o, lg *Buffer) error {
	return b.launch("ret_parallel", parallelLaunch(s), argB(q), argB(k), argB(v), argB(o), argB(lg),
		argI(s.T), argI(s.H), argI(s.Dk), argI(s.Dv))
}

// ParallelRetention implements backend.Backend on host slices.
func (b *Backend) ParallelRetention(s backend.Shape, q, k, v, o, logGamma []float32) error {
	s.Check("cuda ParallelRetention", q, k, v, o, logGamma)
	return b.do(func() error {
		x, err := b.staged([]string{"q", "k", "v", "lg"}, q[:s.QKLen()], k[:s.QKLen()], v[:s.VLen()], logGamma[:s.H])
		if err != nil {
			return err
		}
		ob, err := b.scratch("o", s.VLen())
		if err != nil {
			return err
		}
		if err := b.parallel(s, x[0], x[1], x[2], ob, x[3]); err != nil {
			return err
		}
		return ob.download(o[:s.VLen()])
	})
}

// ---------------------------------------------------------------------------
// Chunkwise form

// ChunkPlan runs the chunkwise form for one shape and chunk size, keeping
// its scratch (chunk-start states, scores, tables) on the device between
// runs: plan once, run many.
type ChunkPlan struct {
	b   *Backend
	s   backend.Shape
	g   chunkGeom
	sz  chunkScratch
	lg  *Buffer // (H)
	tab *Buffer // chunkTables
	R   *Buffer
	cs  *Buffer
	A   *Buffer
	as  *Buffer
}

// NewChunkPlan allocates the scratch of the chunkwise form for shape s and
// chunk size C (capped at s.T) with the decays logGamma (H).
func (b *Backend) NewChunkPlan(s backend.Shape, C int, logGamma []float32) (*ChunkPlan, error) {
	var p *ChunkPlan
	err := b.do(func() (err error) { p, err = b.newChunkPlan(s, C, logGamma); return err })
	return p, err
}

func (b *Backend) newChunkPlan(s backend.Shape, C int, logGamma []float32) (*ChunkPlan, error) {
	if C < 1 || s.B < 1 || s.T < 1 || s.H < 1 || s.Dk < 1 || s.Dv < 1 || len(logGamma) < s.H {
		panic(fmt.Sprintf("cuda: NewChunkPlan: bad shape %+v, chunk %d, %d decays", s, C, len(logGamma)))
	}
	p := &ChunkPlan{b: b, s: s, g: newChunkGeom(s, C)}
	p.sz = newChunkScratch(s, p.g)
	for _, a := range []struct {
		dst **Buffer
		n   int
	}{{&p.lg, s.H}, {&p.tab, p.sz.Tables}, {&p.R, p.sz.R}, {&p.cs, p.sz.Colsum}, {&p.A, p.sz.A}, {&p.as, p.sz.AScale}} {
		x, err := b.alloc(a.n)
		if err != nil {
			p.close()
			return nil, err
		}
		*a.dst = x
	}
	if err := p.setDecay(logGamma); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// SetDecay replaces the decays (H) the plan uses.
func (p *ChunkPlan) SetDecay(logGamma []float32) error {
	return p.b.do(func() error { return p.setDecay(logGamma) })
}

func (p *ChunkPlan) setDecay(logGamma []float32) error {
	if len(logGamma) < p.s.H {
		panic(fmt.Sprintf("cuda: ChunkPlan.SetDecay: %d decays for %d heads", len(logGamma), p.s.H))
	}
	if err := p.lg.upload(logGamma[:p.s.H]); err != nil {
		return err
	}
	return p.tab.upload(chunkTables(logGamma, p.s.H, p.g.C))
}

// ScratchBytes is the device memory the plan holds.
func (p *ChunkPlan) ScratchBytes() int64 { return p.sz.Bytes() + 4*int64(p.s.H) }

// Run enqueues the chunkwise form on q, k (B,T,H*Dk), v, o (B,T,H*Dv): the
// state pass, the intra-chunk scores, the outputs.
func (p *ChunkPlan) Run(q, k, v, o *Buffer) error {
	checkShapeBuffers("ChunkPlan.Run", p.s, q, k, v, o)
	return p.b.do(func() error { return p.run(q, k, v, o) })
}

func (p *ChunkPlan) run(q, k, v, o *Buffer) error {
	for stage := 0; stage < 3; stage++ {
		if err := p.stage(stage, q, k, v, o); err != nil {
			return err
		}
	}
	return nil
}

// stage enqueues one of the three kernels: 0 state pass, 1 scores, 2 output.
func (p *ChunkPlan) stage(stage int, q, k, v, o *Buffer) error {
	s, g, b := p.s, p.g, p.b
	H, C := s.H, g.C
	inv, pw, invSC := argOff(p.tab.p, 0), argOff(p.tab.p, H*C), argOff(p.tab.p, H*(C+powLen))
	switch stage {
	case 0:
		if !g.needsState(s.T) {
			return nil
		}
		return b.launch("ret_chunk_state", chunkStateLaunch(s, g), argB(k), argB(v), pw, invSC, argB(p.R), argB(p.cs),
			argI(s.T), argI(H), argI(s.Dk), argI(s.Dv), argI(C), argI(g.NChunks), argI(g.TilesPerChunk))
	case 1:
		return b.launch("ret_chunk_scores", chunkScoresLaunch(s, g), argB(q), argB(k), inv, argB(p.lg),
			argB(p.A), argB(p.as), argI(s.T), argI(H), argI(s.Dk), argI(C), argI(g.TilesPerChunk))
	}
	return b.launch("ret_chunk_output", chunkOutputLaunch(s, g), argB(q), argB(v), argB(p.A), argB(p.as),
		argB(p.R), argB(p.cs), inv, pw, argB(o), argI(s.T), argI(H), argI(s.Dk), argI(s.Dv),
		argI(C), argI(g.NChunks), argI(g.TilesPerChunk), argI(g.NDkTiles))
}

// Close frees the plan's device memory.
func (p *ChunkPlan) Close() error { return p.b.do(p.close) }

func (p *ChunkPlan) close() error {
	var first error
	for _, x := range []*Buffer{p.lg, p.tab, p.R, p.cs, p.A, p.as} {
		if err := x.free(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// ChunkwiseRetention implements backend.Backend on host slices. The plan
// of each (shape, chunk) is kept for the next call (Close frees it).
func (b *Backend) ChunkwiseRetention(s backend.Shape, C int, q, k, v, o, logGamma []float32) error {
	s.Check("cuda ChunkwiseRetention", q, k, v, o, logGamma)
	if C < 1 {
		panic(fmt.Sprintf("cuda: ChunkwiseRetention chunk %d", C))
	}
	return b.do(func() error {
		key := chunkKey{s, min(C, s.T)}
		p := b.chunks[key]
		if p == nil {
			// One cached plan at a time: a new shape frees the old scratch.
			for k, old := range b.chunks {
				if err := old.close(); err != nil {
					return err
				}
				delete(b.chunks, k)
			}
			var err error
			if p, err = b.newChunkPlan(s, C, logGamma); err != nil {
				return err
			}
			b.chunks[key] = p
		} else if err := p.setDecay(logGamma); err != nil {
			return err
		}
		x, err := b.staged([]string{"q", "k", "v"}, q[:s.QKLen()], k[:s.QKLen()], v[:s.VLen()])
		if err != nil {
			return err
		}
		ob, err := b.scratch("o", s.VLen())
		if err != nil {
			return err
		}
		if err := p.run(x[0], x[1], x[2], ob); err != nil {
			return err
		}
		return ob.download(o[:s.VLen()])
	})
}

// ---------------------------------------------------------------------------
// Recurrent form

// Decoder is a recurrent retention state for B sequences and H heads held
// in device memory. StepDev advances it on device buffers without any host
// copy (cuda/lm's decoding loop); Step, State and SetState do the same from
// host slices (backendtest.Decoder, for the conformance suite).
type Decoder struct {
	b              *Backend
	B, H, Dk, Dv   int
	S              *Buffer    // (B,H,Dv,Dk)
	scale          [2]*Buffer // (H) c_n, ping-pong: scale[cur] is current
	cur            int
	gamma          *Buffer // (H)
	q, k, v, o     *Buffer // staging of Step
	closed         bool
	hostQK, hostVO int
}

// OpenDecoder returns an empty device-resident state (S = 0, scale = 0).
func (b *Backend) OpenDecoder(B, H, Dk, Dv int, logGamma []float32) (*Decoder, error) {
	if B < 1 || H < 1 || Dk < 1 || Dv < 1 || len(logGamma) < H {
		panic(fmt.Sprintf("cuda: OpenDecoder: bad shape B=%d H=%d Dk=%d Dv=%d with %d decays", B, H, Dk, Dv, len(logGamma)))
	}
	d := &Decoder{b: b, B: B, H: H, Dk: Dk, Dv: Dv, hostQK: B * H * Dk, hostVO: B * H * Dv}
	err := b.do(func() error {
		for _, a := range []struct {
			dst **Buffer
			n   int
		}{{&d.S, B * H * Dv * Dk}, {&d.scale[0], H}, {&d.scale[1], H}, {&d.gamma, H},
			{&d.q, d.hostQK}, {&d.k, d.hostQK}, {&d.v, d.hostVO}, {&d.o, d.hostVO}} {
			x, err := b.alloc(a.n)
			if err != nil {
				return err
			}
			*a.dst = x
		}
		if err := b.drv.zero(d.S.p, int64(d.S.n)); err != nil {
			return err
		}
		if err := b.drv.zero(d.scale[0].p, int64(H)); err != nil {
			return err
		}
		return d.gamma.upload(gammas(logGamma[:H]))
	})
	if err != nil {
		_ = d.Close()
		return nil, err
	}
	return d, nil
}

// step enqueues one recurrent step of every (sequence, head): q, k start at
// q.p+offQK with sequence stride ldqk floats, v, o likewise with ldv.
func (d *Decoder) step(q, k devPtr, v, o devPtr, offQK, offV int, ldqk, ldv int64) error {
	in, out := d.scale[d.cur], d.scale[1-d.cur]
	err := d.b.launch("ret_recurrent_step", recurrentLaunch(d.B, d.H, d.Dv),
		argOff(q, offQK), argOff(k, offQK), argOff(v, offV), argOff(o, offV), argB(d.S), argB(in), argB(out),
		argB(d.gamma), argI(d.B), argI(d.H), argI(d.Dk), argI(d.Dv), argL(ldqk), argL(ldv))
	if err != nil {
		return err
	}
	d.cur = 1 - d.cur
	return nil
}

// StepDev enqueues one token per sequence from device buffers: q, k
// (B,H*Dk), v, o (B,H*Dv).
func (d *Decoder) StepDev(q, k, v, o *Buffer) error {
	needs("Decoder.StepDev", "q", q, d.hostQK)
	needs("Decoder.StepDev", "k", k, d.hostQK)
	needs("Decoder.StepDev", "v", v, d.hostVO)
	needs("Decoder.StepDev", "o", o, d.hostVO)
	return d.b.do(func() error {
		return d.step(q.p, k.p, v.p, o.p, 0, 0, int64(d.H*d.Dk), int64(d.H*d.Dv))
	})
}

// Step advances one token per sequence from host slices.
func (d *Decoder) Step(q, k, v, o []float32) error {
	if len(q) < d.hostQK || len(k) < d.hostQK || len(v) < d.hostVO || len(o) < d.hostVO {
		panic(fmt.Sprintf("cuda: Decoder.Step: q,k need %d and v,o %d floats, have %d %d %d %d", d.hostQK, d.hostVO, len(q), len(k), len(v), len(o)))
	}
	return d.b.do(func() error {
		for _, c := range []struct {
			dst *Buffer
			src []float32
		}{{d.q, q[:d.hostQK]}, {d.k, k[:d.hostQK]}, {d.v, v[:d.hostVO]}} {
			if err := c.dst.upload(c.src); err != nil {
				return err
			}
		}
		if err := d.step(d.q.p, d.k.p, d.v.p, d.o.p, 0, 0, int64(d.H*d.Dk), int64(d.H*d.Dv)); err != nil {
			return err
		}
		return d.o.download(o[:d.hostVO])
	})
}

// State copies the state to the host: S (B,H,Dv,Dk), scale (H).
func (d *Decoder) State(S, scale []float32) error {
	if len(S) < d.S.n || len(scale) < d.H {
		panic(fmt.Sprintf("cuda: Decoder.State: S needs %d and scale %d floats, have %d and %d", d.S.n, d.H, len(S), len(scale)))
	}
	return d.b.do(func() error {
		if err := d.S.download(S[:d.S.n]); err != nil {
			return err
		}
		return d.scale[d.cur].download(scale[:d.H])
	})
}

// SetState replaces the state from the host: S (B,H,Dv,Dk), scale (H).
func (d *Decoder) SetState(S, scale []float32) error {
	if len(S) < d.S.n || len(scale) < d.H {
		panic(fmt.Sprintf("cuda: Decoder.SetState: S needs %d and scale %d floats, have %d and %d", d.S.n, d.H, len(S), len(scale)))
	}
	return d.b.do(func() error {
		if err := d.S.upload(S[:d.S.n]); err != nil {
			return err
		}
		return d.scale[d.cur].upload(scale[:d.H])
	})
}

// StateBytes is the memory of the state kept between steps: S and the
// scales c_n (as retnet.StateOf.Bytes counts it).
func (d *Decoder) StateBytes() int64 { return 4 * int64(d.B*d.H*d.Dv*d.Dk+d.H) }

// Close frees the device memory; the Decoder is unusable afterwards.
func (d *Decoder) Close() error {
	if d.closed {
		return nil
	}
	d.closed = true
	return d.b.do(func() error {
		var first error
		for _, x := range []*Buffer{d.S, d.scale[0], d.scale[1], d.gamma, d.q, d.k, d.v, d.o} {
			if err := x.free(); err != nil && first == nil {
				first = err
			}
		}
		return first
	})
}

// RecurrentRetention runs s.T steps of the recurrent step kernel over the
// uploaded sequence, from and back into the host state
// (backendtest.Kernels: the host-slice entry point the conformance suite
// checks the kernel of Decoder.StepDev through).
func (b *Backend) RecurrentRetention(s backend.Shape, q, k, v, o, S, scale, logGamma []float32) error {
	s.Check("cuda RecurrentRetention", q, k, v, o, logGamma)
	if len(S) < s.StateLen() || len(scale) < s.H {
		panic(fmt.Sprintf("cuda: RecurrentRetention: S needs %d and scale %d floats, have %d and %d", s.StateLen(), s.H, len(S), len(scale)))
	}
	return b.do(func() error {
		x, err := b.staged([]string{"q", "k", "v", "S", "scale0", "gamma"},
			q[:s.QKLen()], k[:s.QKLen()], v[:s.VLen()], S[:s.StateLen()], scale[:s.H], gammas(logGamma[:s.H]))
		if err != nil {
			return err
		}
		ob, err := b.scratch("o", s.VLen())
		if err != nil {
			return err
		}
		sc1, err := b.scratch("scale1", s.H)
		if err != nil {
			return err
		}
		d := &Decoder{b: b, B: s.B, H: s.H, Dk: s.Dk, Dv: s.Dv, S: x[3], scale: [2]*Buffer{x[4], sc1}, gamma: x[5]}
		ldqk, ldv := int64(s.T*s.H*s.Dk), int64(s.T*s.H*s.Dv)
		for t := 0; t < s.T; t++ {
			if err := d.step(x[0].p, x[1].p, x[2].p, ob.p, t*s.H*s.Dk, t*s.H*s.Dv, ldqk, ldv); err != nil {
				return err
			}
		}
		if err := ob.download(o[:s.VLen()]); err != nil {
			return err
		}
		if err := d.S.download(S[:s.StateLen()]); err != nil {
			return err
		}
		return d.scale[d.cur].download(scale[:s.H])
	})
}

// ---------------------------------------------------------------------------
// Rotation, group norm + gate

// RotateDev enqueues the rotation of x (rows, H*Dk) in place, as
// retnet.RotateForward (inverse: RotateBackward) with a table for positions
// pos0..pos0+period-1 (row r is at pos0 + r%period); angle is a device
// buffer of Dk floats [theta0,theta0,theta1,...].
func (b *Backend) RotateDev(x *Buffer, rows, H, Dk, period, pos0 int, angle *Buffer, inverse bool) error {
	checkRotate(rows, H, Dk, period)
	needs("RotateDev", "x", x, rows*H*Dk)
	needs("RotateDev", "angle", angle, Dk)
	return b.do(func() error { return b.rotate(x, rows, H, Dk, period, pos0, angle, inverse) })
}

func checkRotate(rows, H, Dk, period int) {
	if rows < 1 || H < 1 || Dk < 2 || Dk%2 != 0 || period < 1 || rows%period != 0 {
		panic(fmt.Sprintf("cuda: Rotate: bad shape rows=%d H=%d Dk=%d period=%d (Dk even, rows a multiple of period)", rows, H, Dk, period))
	}
}

func (b *Backend) rotate(x *Buffer, rows, H, Dk, period, pos0 int, angle *Buffer, inverse bool) error {
	sign := float32(1)
	if inverse {
		sign = -1
	}
	return b.launch("ret_rotate", rotateLaunch(rows, H, Dk), argB(x), argB(angle), argL(int64(rows*H*Dk/2)),
		argI(H), argI(Dk), argI(period), argI(pos0), argF(sign))
}

// Rotate is RotateDev on host slices (backendtest.Kernels, for the
// conformance suite).
func (b *Backend) Rotate(x []float32, rows, H, Dk, period, pos0 int, angle []float32, inverse bool) error {
	checkRotate(rows, H, Dk, period)
	if len(x) < rows*H*Dk || len(angle) < Dk {
		panic(fmt.Sprintf("cuda: Rotate: x needs %d and angle %d floats, have %d and %d", rows*H*Dk, Dk, len(x), len(angle)))
	}
	return b.do(func() error {
		bufs, err := b.staged([]string{"x", "angle"}, x[:rows*H*Dk], angle[:Dk])
		if err != nil {
			return err
		}
		if err := b.rotate(bufs[0], rows, H, Dk, period, pos0, bufs[1], inverse); err != nil {
			return err
		}
		return bufs[0].download(x[:rows*H*Dk])
	})
}

// GroupNormGateDev enqueues retnet.GroupNormGateForward on device buffers:
// per row and head y = o/sqrt(mean(o^2)+eps), gated = silu(g) (.) y, rstd
// (N,H) the inverse RMS; gated, y, o, g are (N,H*Dv).
func (b *Backend) GroupNormGateDev(gated, y, rstd, o, g *Buffer, N, H, Dv int, eps float64) error {
	if N < 1 || H < 1 || Dv < 1 {
		panic(fmt.Sprintf("cuda: GroupNormGateDev: bad shape N=%d H=%d Dv=%d", N, H, Dv))
	}
	for _, c := range []struct {
		name string
		x    *Buffer
	}{{"gated", gated}, {"y", y}, {"o", o}, {"g", g}} {
		needs("GroupNormGateDev", c.name, c.x, N*H*Dv)
	}
	needs("GroupNormGateDev", "rstd", rstd, N*H)
	return b.do(func() error { return b.groupNorm(gated, y, rstd, o, g, N, H, Dv, eps) })
}

func (b *Backend) groupNorm(gated, y, rstd, o, g *Buffer, N, H, Dv int, eps float64) error {
	return b.launch("ret_groupnorm_gate", groupNormLaunch(N, H), argB(gated), argB(y), argB(rstd), argB(o), argB(g),
		argI(N), argI(H), argI(Dv), argD(eps))
}

// GroupNormGate is GroupNormGateDev on host slices (backendtest.Kernels,
// for the conformance suite).
func (b *Backend) GroupNormGate(gated, y, rstd, o, g []float32, N, H, Dv int, eps float64) error {
	n := N * H * Dv
	if N < 1 || H < 1 || Dv < 1 || len(gated) < n || len(y) < n || len(o) < n || len(g) < n || len(rstd) < N*H {
		panic(fmt.Sprintf("cuda: GroupNormGate: shape N=%d H=%d Dv=%d needs %d floats (rstd %d), have gated %d y %d o %d g %d rstd %d",
			N, H, Dv, n, N*H, len(gated), len(y), len(o), len(g), len(rstd)))
	}
	return b.do(func() error {
		in, err := b.staged([]string{"o", "g"}, o[:n], g[:n])
		if err != nil {
			return err
		}
		gb, err := b.scratch("gated", n)
		if err != nil {
			return err
		}
		yb, err := b.scratch("y", n)
		if err != nil {
			return err
		}
		rb, err := b.scratch("rstd", N*H)
		if err != nil {
			return err
		}
		if err := b.groupNorm(gb, yb, rb, in[0], in[1], N, H, Dv, eps); err != nil {
			return err
		}
		if err := gb.download(gated[:n]); err != nil {
			return err
		}
		if err := yb.download(y[:n]); err != nil {
			return err
		}
		return rb.download(rstd[:N*H])
	})
}

// ---------------------------------------------------------------------------
// GEMM

// GemmMinWork is the smallest m*n*k the host-slice Sgemm sends to the
// device; smaller products (where the copies cost more than the work) run
// on the CPU. Tests set it to 0.
var GemmMinWork atomic.Int64

func init() { GemmMinWork.Store(1 << 18) }

// SgemmDev enqueues C = alpha op(A) op(B) + beta C on device buffers
// (row-major, strides as backend.Backend.Sgemm).
func (b *Backend) SgemmDev(transA, transB bool, m, n, k int, alpha float32, a *Buffer, lda int, bb *Buffer, ldb int, beta float32, c *Buffer, ldc int) error {
	checkGemmBuffers(transA, transB, m, n, k, a, lda, bb, ldb, c, ldc)
	return b.do(func() error { return b.sgemm(transA, transB, m, n, k, alpha, a.p, lda, bb.p, ldb, beta, c.p, ldc) })
}

func checkGemmBuffers(transA, transB bool, m, n, k int, a *Buffer, lda int, bb *Buffer, ldb int, c *Buffer, ldc int) {
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	if m < 1 || n < 1 || k < 1 || lda < ac || ldb < bc || ldc < n {
		panic(fmt.Sprintf("cuda: SgemmDev: bad dims m=%d n=%d k=%d lda=%d ldb=%d ldc=%d", m, n, k, lda, ldb, ldc))
	}
	needs("SgemmDev", "A", a, (ar-1)*lda+ac)
	needs("SgemmDev", "B", bb, (br-1)*ldb+bc)
	needs("SgemmDev", "C", c, (m-1)*ldc+n)
}

// SetVendorBLAS chooses between cuBLAS (when it could be loaded; the
// default) and the sgemm_tiled kernel for the products, and reports whether
// cuBLAS is now in use. Tests use it to check both.
func (b *Backend) SetVendorBLAS(on bool) bool {
	var active bool
	_ = b.do(func() error {
		b.noBLAS = !on
		if on {
			active, _ = b.drv.blasGemm(false, false, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
		}
		return nil
	})
	return active
}

func (b *Backend) sgemm(transA, transB bool, m, n, k int, alpha float32, a devPtr, lda int, bp devPtr, ldb int, beta float32, c devPtr, ldc int) error {
	if !b.noBLAS {
		if ok, err := b.drv.blasGemm(transA, transB, m, n, k, alpha, a, lda, bp, ldb, beta, c, ldc); ok {
			if err != nil {
				return fmt.Errorf("cuda: %w", err)
			}
			return nil
		}
	}
	sai, sap := gemmStrides(transA, lda)
	sbp, sbj := gemmStrides(transB, ldb)
	// op(B)(p,j): stored (k,n) row-major is b[p*ldb + j] (not transposed):
	// gemmStrides gives (ldb, 1) = (row stride, column stride) as wanted.
	return b.launch("sgemm_tiled", gemmLaunch(m, n), argI(m), argI(n), argI(k), argF(alpha),
		argP(a), argL(sai), argL(sap), argP(bp), argL(sbp), argL(sbj), argF(beta), argP(c), argL(int64(ldc)))
}

// Sgemm implements backend.Backend on host slices. The interface has no
// error result: if the device fails, the product is computed by the CPU
// backend instead and the error is kept for Err.
func (b *Backend) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, bb []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || int64(m)*int64(n)*int64(k) < GemmMinWork.Load() {
		cpu.Sgemm(transA, transB, m, n, k, alpha, a, lda, bb, ldb, beta, c, ldc)
		return
	}
	// The CPU backend's checks panic on misuse with the same messages.
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	na, nb, nc := (ar-1)*lda+ac, (br-1)*ldb+bc, (m-1)*ldc+n
	if lda < ac || ldb < bc || ldc < n || len(a) < na || len(bb) < nb || len(c) < nc {
		cpu.Sgemm(transA, transB, m, n, k, alpha, a, lda, bb, ldb, beta, c, ldc) // panics with the reason
		return
	}
	err := b.do(func() error {
		x, err := b.staged([]string{"gemmA", "gemmB"}, a[:na], bb[:nb])
		if err != nil {
			return err
		}
		cb, err := b.scratch("gemmC", nc)
		if err != nil {
			return err
		}
		// C's gaps between rows (ldc > n) and its values (beta != 0) must
		// survive the round trip.
		if beta != 0 || ldc != n {
			if err := cb.upload(c[:nc]); err != nil {
				return err
			}
		}
		if err := b.sgemm(transA, transB, m, n, k, alpha, x[0].p, lda, x[1].p, ldb, beta, cb.p, ldc); err != nil {
			return err
		}
		return cb.download(c[:nc])
	})
	if err != nil {
		b.setErr(err)
		cpu.Sgemm(transA, transB, m, n, k, alpha, a, lda, bb, ldb, beta, c, ldc)
	}
}

func (b *Backend) setErr(err error) { b.err.CompareAndSwap(nil, &err) }

// Err returns the first device error a call without an error result (Sgemm)
// met and recovered from by computing on the CPU, or nil.
func (b *Backend) Err() error {
	if p := b.err.Load(); p != nil {
		return *p
	}
	return nil
}
