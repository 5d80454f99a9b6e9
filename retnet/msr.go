package retnet

import (
	"errors"
	"fmt"
	"math"
	"os"
	"sync"

	"github.com/retlab/retlab/internal/parallel"
	"github.com/retlab/retlab/retnet/backend"
)

// MSR is one multi-scale retention layer (torchscale MultiScaleRetention):
//
//	q = x Wq^T, k = (x Wk^T) dk^-1/2, v = x Wv^T, g = x Wg^T; rotate q, k
//	o_h = retention(q_h, k_h, v_h) per head, in any Form
//	MSR(x) = (silu(g) (.) groupnorm(o)) Wo^T
//
// Weights are views (usually into Params); LogGamma and Angle are the
// retnet_rel_pos buffers.
type MSR[T Float] struct {
	D, DV, H     int
	Wq, Wk       []T // (D,D)
	Wv, Wg       []T // (DV,D)
	Wo           []T // (D,DV)
	LogGamma     []T // (H)
	Angle        []T // (dk)
	GroupNormEps float64
}

// MSRActs are the activations of one MSR forward at a fixed (B,T), kept for
// the backward pass and reused across calls (allocated on first use).
type MSRActs[T Float] struct {
	B, T   int
	Q, K   []T // (B,T,D) rotated; K scaled by dk^-1/2
	V, G   []T // (B,T,DV)
	O      []T // (B,T,DV) retention output, before the group norm
	GNRstd []T // (B,T,H)
	Y      []T // (B,T,DV) group-normed
	Gated  []T // (B,T,DV) silu(G) (.) Y, the input of Wo

	Denom []T             // (B,H,T) parallel form: row clamp values
	Chunk []ChunkSaved[T] // (B*H) chunkwise form: saved states (when KeepForBackward)

	// KeepForBackward keeps what Backward (and RetentionScores) need: the
	// parallel form's row normalisers, the chunkwise form's chunk states. It
	// also keeps the computation on the CPU code that saves them; without it
	// a backend with its own retention kernels (the GPU) may run the layer.
	KeepForBackward bool

	form  Form // form and chunk size of the last Forward, for Backward
	chunk int

	rot    RotationTable[T]
	decay  []DecayTable[T] // (H) for length T (parallel) or the chunk (chunkwise)
	decayN int
	work   [][]T // per worker scratch
	joint  []T   // (B*T, 2D+2DV) the fused q, k, v, g product of a decode step (linearJoint)
}

func (a *MSRActs[T]) alloc(r *MSR[T], B, n int) {
	if a.B == B && a.T == n && a.Q != nil {
		return
	}
	if a.Q != nil {
		panic(fmt.Sprintf("retnet: MSRActs sized for B=%d T=%d, called with B=%d T=%d (use a new MSRActs)", a.B, a.T, B, n))
	}
	a.B, a.T = B, n
	N := B * n
	a.Q, a.K = make([]T, N*r.D), make([]T, N*r.D)
	a.V, a.G, a.O = make([]T, N*r.DV), make([]T, N*r.DV), make([]T, N*r.DV)
	a.Y, a.Gated = make([]T, N*r.DV), make([]T, N*r.DV)
	a.GNRstd = make([]T, N*r.H)
	a.rot.Reset(r.Angle, 0, n)
}

func (a *MSRActs[T]) scratch(n, size int) [][]T { return workerScratch(&a.work, n, size) }

func (a *MSRActs[T]) decayTables(r *MSR[T], N int) []DecayTable[T] {
	if a.decayN != N || len(a.decay) != r.H {
		a.decay = make([]DecayTable[T], r.H)
		for h := range a.decay {
			a.decay[h] = NewDecayTable[T](r.LogGamma[h], N)
		}
		a.decayN = N
	}
	return a.decay
}

// KeyScale is dk^-1/2, the scaled dot product's factor, so that q.k stays
// O(1) at any head width. MSR applies it to the projected keys before the
// rotation (torchscale's k *= scaling) and the GPU model (cuda/lm) folds it
// into its key projection; fla's RetNet (retnet/hf) scales the queries by
// it, and softmax attention (attention.go, kvcache.go, retnet/hf) the
// scores. Every one of them takes it from here.
func KeyScale(dk int) float64 { return 1 / math.Sqrt(float64(dk)) }

// Check panics unless the weights have the sizes D, DV, H imply.
func (r *MSR[T]) Check() {
	dk := r.D / r.H
	if r.H < 1 || r.D%r.H != 0 || r.DV%r.H != 0 || len(r.Wq) != r.D*r.D || len(r.Wk) != r.D*r.D ||
		len(r.Wv) != r.DV*r.D || len(r.Wg) != r.DV*r.D || len(r.Wo) != r.D*r.DV || len(r.LogGamma) != r.H || len(r.Angle) != dk {
		panic(fmt.Sprintf("retnet: MSR weights do not match D=%d DV=%d H=%d", r.D, r.DV, r.H))
	}
}

// head returns the view of head h of batch row b in the activations.
func (r *MSR[T]) head(a *MSRActs[T], b, h int) Head[T] {
	dk, dv := r.D/r.H, r.DV/r.H
	n := a.T
	return Head[T]{
		Q: a.Q[b*n*r.D+h*dk:], K: a.K[b*n*r.D+h*dk:], LdQK: r.D,
		V: a.V[b*n*r.DV+h*dv:], LdV: r.DV,
		O: a.O[b*n*r.DV+h*dv:], LdO: r.DV,
		T: n, Dk: dk, Dv: dv, LogGamma: r.LogGamma[h],
	}
}

// Forward computes out = MSR(x) for a batch of B sequences of length T in
// the given form (chunk is the chunk size of the chunkwise form; <= 0 means
// DefaultChunk, capped at T). It fills acts.
//
// st, if not nil, is the layer's recurrent state: the Recurrent form starts
// from it (positions continue at st.Pos) and updates it; the Parallel and
// Chunkwise forms need an empty state (Pos 0) and leave in it the state after
// the T tokens (a prefill). It panics on size mismatches or a non-empty state
// with a non-recurrent form.
func (r *MSR[T]) Forward(out []T /* (B,T,D) */, x []T /* (B,T,D) */, B, n int, form Form, chunk int, acts *MSRActs[T], st *LayerState[T]) {
	r.Check()
	if st != nil {
		st.check(r, B)
		if form != Recurrent && st.Pos != 0 {
			panic(fmt.Sprintf("retnet: MSR.Forward %s form from a state at position %d (only Recurrent continues a state)", form, st.Pos))
		}
	}
	if len(x) < B*n*r.D || len(out) < B*n*r.D {
		panic(fmt.Sprintf("retnet: MSR.Forward x/out have %d/%d floats, need B*T*D = %d", len(x), len(out), B*n*r.D))
	}
	acts.alloc(r, B, n)
	if st != nil && acts.rot.Pos0 != st.Pos {
		acts.rot.Reset(r.Angle, st.Pos, n)
	} else if st == nil && acts.rot.Pos0 != 0 {
		acts.rot.Reset(r.Angle, 0, n)
	}
	N, D, DV, H := B*n, r.D, r.DV, r.H
	dk, dv := D/H, DV/H
	linearJoint(&acts.joint, x, N, D, [][]T{acts.Q[:N*D], acts.K[:N*D], acts.V[:N*DV], acts.G[:N*DV]}, [][]T{r.Wq, r.Wk, r.Wv, r.Wg})
	scale(T(KeyScale(dk)), acts.K[:N*D])
	RotateForward(acts.Q, &acts.rot, N, H)
	RotateForward(acts.K, &acts.rot, N, H)
	acts.form = form
	if !r.offload(acts, form, chunk, st) {
		r.retention(acts, form, chunk, st)
	}
	GroupNormGateForward(acts.Gated, acts.Y, acts.GNRstd, acts.O, acts.G, N, H, dv, r.GroupNormEps)
	LinearForward(out, acts.Gated, r.Wo, N, DV, D)
}

// offload runs the retention of a stateless, no-backward float32 forward on
// the current backend when it declares its own retention kernels
// (Capabilities().Retention: the CUDA backend), and reports whether it did.
func (r *MSR[T]) offload(a *MSRActs[T], form Form, chunk int, st *LayerState[T]) bool {
	if st != nil || a.KeepForBackward || form == Recurrent {
		return false
	}
	q, ok := any(a.Q).([]float32)
	if !ok {
		return false
	}
	b := backend.Current()
	if !b.Capabilities().Retention { // the cpu backend: retention is this package's code
		return false
	}
	k, v, o := any(a.K).([]float32), any(a.V).([]float32), any(a.O).([]float32)
	lg := any(r.LogGamma).([]float32)
	s := backend.Shape{B: a.B, T: a.T, H: r.H, Dk: r.D / r.H, Dv: r.DV / r.H}
	var err error
	if form == Parallel {
		err = b.ParallelRetention(s, q, k, v, o, lg)
	} else {
		if chunk <= 0 {
			chunk = DefaultChunk
		}
		a.chunk = min(chunk, a.T)
		err = b.ChunkwiseRetention(s, a.chunk, q, k, v, o, lg)
	}
	switch {
	case err == nil:
		return true
	case errors.Is(err, backend.ErrNotImplemented):
		return false
	}
	offloadWarn.Do(func() {
		fmt.Fprintf(os.Stderr, "retnet: backend %s failed, retention runs on the CPU: %v\n", b.Name(), err)
	})
	return false
}

var offloadWarn sync.Once

// retention runs the chosen form over every (batch row, head), continuing or
// filling st when given.
func (r *MSR[T]) retention(a *MSRActs[T], form Form, chunk int, st *LayerState[T]) {
	B, n, H := a.B, a.T, r.H
	dv := r.DV / H
	switch form {
	case Parallel:
		dts := a.decayTables(r, n)
		if len(a.Denom) != B*H*n {
			a.Denom = make([]T, B*H*n)
		}
		tiles := (n + ParallelTile - 1) / ParallelTile
		items := B * H * tiles
		work := a.scratch(parallel.Workers(items), ParallelWorkSize(n))
		parallel.For(items, func(w, i int) {
			// Largest tiles first: tile index runs backwards.
			tile := tiles - 1 - i%tiles
			bh := i / tiles
			b, h := bh/H, bh%H
			r0 := tile * ParallelTile
			parallelRows(r.head(a, b, h), dts[h], r0, min(n, r0+ParallelTile), a.Denom[bh*n:(bh+1)*n], work[w])
		})
	case Chunkwise:
		if chunk <= 0 {
			chunk = DefaultChunk
		}
		chunk = min(chunk, n)
		a.chunk = chunk
		if a.KeepForBackward {
			a.allocChunkSaved(r, chunk)
		}
		work := a.scratch(parallel.Workers(B*H), ChunkwiseWorkSize(chunk, dv))
		parallel.For(B*H, func(w, bh int) {
			var saved *ChunkSaved[T]
			if a.KeepForBackward {
				saved = &a.Chunk[bh]
			}
			ChunkwiseRetention(r.head(a, bh/H, bh%H), chunk, saved, work[w])
		})
	case Recurrent:
		dk := r.D / H
		work := a.scratch(parallel.Workers(B*H), dk*dv)
		scales := make([]T, B*H)
		parallel.For(B*H, func(w, bh int) {
			S := work[w][:dk*dv]
			if st != nil {
				S = st.S[bh*dk*dv : (bh+1)*dk*dv]
				scales[bh] = st.Scale[bh%H]
			} else {
				clear(S)
			}
			RecurrentRetention(r.head(a, bh/H, bh%H), S, &scales[bh])
		})
		if st != nil {
			copy(st.Scale, scales[:H]) // c_n is the same for every batch row
			st.Pos += n
		}
		return
	default:
		panic(fmt.Sprintf("retnet: unknown form %q", form))
	}
	if st != nil {
		r.fillState(a, st)
	}
}

// stateScale is c_n = sum_{d<n} gamma^d of one head (gamma = exp(logGamma)),
// formed by the float32 recurrence c = c*gamma + 1 that n recurrent steps
// apply, so a state filled at once matches one stepped to n bit for bit.
func stateScale[T Float](logGamma float64, n int) T {
	gamma := T(float32(math.Exp(logGamma)))
	var c T
	for t := 0; t < n; t++ {
		c = c*gamma + 1
	}
	return c
}

// fillState sets st (empty on entry) to the recurrent state after the T
// tokens in a: per head, with c = sum_{d<T} gamma^d,
//
//	S = sum_m gamma^(T-1-m) v_m^T k_m / sqrt(c)     (dv, dk)
//
// which is exactly what T recurrent steps accumulate. c is formed by the
// same float32 recurrence the steps use.
func (r *MSR[T]) fillState(a *MSRActs[T], st *LayerState[T]) {
	B, n, H := a.B, a.T, r.H
	dk, dv := r.D/H, r.DV/H
	for h := 0; h < H; h++ {
		st.Scale[h] = stateScale[T](float64(r.LogGamma[h]), n)
	}
	work := a.scratch(parallel.Workers(B*H), n*dv)
	parallel.For(B*H, func(w, bh int) {
		hd := r.head(a, bh/H, bh%H)
		vw := work[w][:n*dv] // (T, dv) v_m gamma^(T-1-m)
		for m := 0; m < n; m++ {
			p := T(float32(math.Exp(float64(n-1-m) * float64(hd.LogGamma))))
			src := hd.V[m*hd.LdV : m*hd.LdV+dv]
			for j, x := range src {
				vw[m*dv+j] = x * p
			}
		}
		S := st.S[bh*dk*dv : (bh+1)*dk*dv]
		inv := T(1 / math.Sqrt(float64(st.Scale[bh%H])))
		matmul(false, true, false, dv, dk, n, inv, vw, dv, hd.K, hd.LdQK, 0, S, dk)
	})
	st.Pos = n
}

func (a *MSRActs[T]) allocChunkSaved(r *MSR[T], chunk int) {
	dk, dv := r.D/r.H, r.DV/r.H
	nChunks := (a.T + chunk - 1) / chunk
	if len(a.Chunk) == a.B*r.H && len(a.Chunk[0].R) == nChunks*dk*dv {
		return
	}
	a.Chunk = make([]ChunkSaved[T], a.B*r.H)
	for i := range a.Chunk {
		a.Chunk[i] = ChunkSaved[T]{R: make([]T, nChunks*dk*dv), RNorm: make([]T, nChunks), A: make([]T, a.T)}
	}
}

// MSRGrads is the gradient scratch of an MSR backward pass at a fixed (B,T).
type MSRGrads[T Float] struct {
	DGated, DY, DO, DG, DV []T // (B,T,DV)
	DQ, DK                 []T // (B,T,D)
	work                   [][]T
}

func (g *MSRGrads[T]) alloc(r *MSR[T], N int) {
	if len(g.DQ) == N*r.D {
		return
	}
	g.DGated, g.DY, g.DO, g.DG, g.DV = make([]T, N*r.DV), make([]T, N*r.DV), make([]T, N*r.DV), make([]T, N*r.DV), make([]T, N*r.DV)
	g.DQ, g.DK = make([]T, N*r.D), make([]T, N*r.D)
}

// Backward adds the gradients of the last Forward (parallel or chunkwise
// form; acts as it left them) into dx (+=) and into the weight gradients
// held by grad (its Wq..Wo fields are gradient buffers of the same shapes).
// x is the input of that Forward. The steps undo the forward in reverse:
// output projection, group norm + gate, retention (per head), rotation and
// key scaling, the four input projections.
func (r *MSR[T]) Backward(dx []T /* (B,T,D) */, grad *MSR[T], dout []T /* (B,T,D) */, x []T /* (B,T,D) */, acts *MSRActs[T], g *MSRGrads[T]) {
	B, n, D, DV, H := acts.B, acts.T, r.D, r.DV, r.H
	N, dk, dv := B*n, D/H, DV/H
	g.alloc(r, N)
	clear(g.DGated)
	LinearBackward(g.DGated, grad.Wo, dout, acts.Gated, r.Wo, N, DV, D)
	clear(g.DO)
	clear(g.DG)
	GroupNormGateBackward(g.DO, g.DG, g.DY, g.DGated, acts.O, acts.G, acts.Y, acts.GNRstd, N, H, dv)
	clear(g.DQ)
	clear(g.DK)
	clear(g.DV)
	var size int
	switch acts.form {
	case Parallel:
		size = ParallelBackwardWorkSize(n)
	case Chunkwise:
		if !acts.KeepForBackward {
			panic("retnet: MSR.Backward after a chunkwise Forward without KeepForBackward")
		}
		size = ChunkwiseBackwardWorkSize(acts.chunk, dk, dv)
	default:
		panic(fmt.Sprintf("retnet: MSR.Backward has no %q form (train with parallel or chunkwise)", acts.form))
	}
	work := workerScratch(&g.work, parallel.Workers(B*H), size)
	parallel.For(B*H, func(w, bh int) {
		b, h := bh/H, bh%H
		hd := r.head(acts, b, h)
		hg := HeadGrad[T]{DQ: g.DQ[b*n*D+h*dk:], DK: g.DK[b*n*D+h*dk:], DV: g.DV[b*n*DV+h*dv:], DO: g.DO[b*n*DV+h*dv:]}
		if acts.form == Parallel {
			ParallelRetentionBackward(hd, hg, acts.Denom[bh*n:(bh+1)*n], work[w])
		} else {
			ChunkwiseRetentionBackward(hd, hg, acts.chunk, &acts.Chunk[bh], work[w])
		}
	})
	RotateBackward(g.DQ, &acts.rot, N, H)
	RotateBackward(g.DK, &acts.rot, N, H)
	scale(T(KeyScale(dk)), g.DK)
	LinearBackward(dx, grad.Wq, g.DQ, x, r.Wq, N, D, D)
	LinearBackward(dx, grad.Wk, g.DK, x, r.Wk, N, D, D)
	LinearBackward(dx, grad.Wv, g.DV, x, r.Wv, N, D, DV)
	LinearBackward(dx, grad.Wg, g.DG, x, r.Wg, N, D, DV)
}
