package retnet

import (
	"fmt"

	"github.com/retlab/retlab/internal/parallel"
)

// Causal multi-head softmax attention, the Transformer baseline's token
// mixer:
//
//	q = x Wq^T, k = x Wk^T, v = x Wv^T; rotate q and k (RotationTable)
//	o_h = softmax(q_h k_h^T / sqrt(dk) + causal mask) v_h   per head
//	Attn(x) = concat_h(o_h) Wo^T
//
// The core is computed in blocks of attnBlock query rows with matrix
// products: scores for a block against every earlier key, a row softmax,
// then the block's outputs. Only the log-sum-exp of every score row is kept
// for the backward pass, which recomputes the probabilities from it (as
// FlashAttention does): activation memory is O(T) per head instead of
// O(T^2), which is what lets `retlab bench train` reach long sequences.
// The price is one extra q k^T product in the backward pass.

// attnBlock is the number of query rows handled per matrix product.
const attnBlock = 64

// AttentionActs are the activations of one attention layer at a fixed
// (B,T), kept for the backward pass.
type AttentionActs[T Float] struct {
	Q, K, V []T // (B,T,D) projections; Q and K rotated
	O       []T // (B,T,D) concatenated head outputs, the input of Wo
	LSE     []T // (B,H,T) log-sum-exp of each scaled score row

	work [][]T // per-worker scratch, grown on first use
}

func newAttentionActs[T Float](N, D, H int) AttentionActs[T] {
	return AttentionActs[T]{Q: make([]T, N*D), K: make([]T, N*D), V: make([]T, N*D), O: make([]T, N*D), LSE: make([]T, N*H)}
}

// scratch returns n per-worker buffers of at least size elements each.
func (a *AttentionActs[T]) scratch(n, size int) [][]T { return workerScratch(&a.work, n, size) }

// Attention is one attention layer as views of its weights (usually into
// TransformerParams, or into the gradients with the same layout).
type Attention[T Float] struct {
	D, H           int
	Wq, Wk, Wv, Wo []T // (D,D) each, stored (out,in)
}

func (a *Attention[T]) check(N int, x []T) {
	if a.H < 1 || a.D%a.H != 0 || (a.D/a.H)%2 != 0 || len(a.Wq) != a.D*a.D || len(a.Wk) != a.D*a.D || len(a.Wv) != a.D*a.D || len(a.Wo) != a.D*a.D {
		panic(fmt.Sprintf("retnet: Attention weights do not match D=%d H=%d (head dim must be even)", a.D, a.H))
	}
	if len(x) < N*a.D {
		panic(fmt.Sprintf("retnet: Attention input has %d values, want %d", len(x), N*a.D))
	}
}

// Forward computes out = Attn(x) for B sequences of T tokens, positions
// rot.Pos0.. (rot has T rows and D/H/2 frequencies), filling acts (sized for
// B*T rows by newAttentionActs). It panics on size mismatches.
func (a *Attention[T]) Forward(out []T /* (B,T,D) */, x []T /* (B,T,D) */, B, nT int, rot *RotationTable[T], acts *AttentionActs[T]) {
	N, D := B*nT, a.D
	a.check(N, x)
	LinearForward(acts.Q, x, a.Wq, N, D, D)
	LinearForward(acts.K, x, a.Wk, N, D, D)
	LinearForward(acts.V, x, a.Wv, N, D, D)
	RotateForward(acts.Q, rot, N, a.H)
	RotateForward(acts.K, rot, N, a.H)
	CausalAttentionForward(acts.O, acts.LSE, acts.Q, acts.K, acts.V, B, nT, a.H, D/a.H, acts)
	LinearForward(out, acts.O, a.Wo, N, D, D)
}

// Backward adds the gradients of Forward: into dx, and into the weight
// gradients g (same layout as a). scratch holds 4*B*T*D values. acts must
// be those of the Forward call.
func (a *Attention[T]) Backward(dx []T /* (B,T,D) */, g *Attention[T], dout []T /* (B,T,D) */, x []T /* (B,T,D) */, B, nT int, rot *RotationTable[T], acts *AttentionActs[T], scratch []T /* (4,B,T,D) */) {
	N, D := B*nT, a.D
	a.check(N, x)
	if len(scratch) < 4*N*D {
		panic(fmt.Sprintf("retnet: Attention.Backward scratch has %d values, want %d", len(scratch), 4*N*D))
	}
	dO, dQ, dK, dV := scratch[:N*D], scratch[N*D:2*N*D], scratch[2*N*D:3*N*D], scratch[3*N*D:4*N*D]
	clear(scratch[:4*N*D])
	LinearBackward(dO, g.Wo, dout, acts.O, a.Wo, N, D, D)
	CausalAttentionBackward(dQ, dK, dV, dO, acts.Q, acts.K, acts.V, acts.O, acts.LSE, B, nT, a.H, D/a.H, acts)
	RotateBackward(dQ, rot, N, a.H)
	RotateBackward(dK, rot, N, a.H)
	LinearBackward(dx, g.Wq, dQ, x, a.Wq, N, D, D)
	LinearBackward(dx, g.Wk, dK, x, a.Wk, N, D, D)
	LinearBackward(dx, g.Wv, dV, x, a.Wv, N, D, D)
}

// CausalAttentionForward computes, for each sequence b and head h, the
// causal softmax attention of queries q, keys k and values v (rows of
// H*dk values, head h at columns [h*dk, (h+1)*dk)):
//
//	P = softmax_rows(q_h k_h^T / sqrt(dk)) with P[i][j] = 0 for j > i
//	o_h = P v_h,  lse[b,h,i] = log sum_{j<=i} exp(q_i . k_j / sqrt(dk))
//
// Work is spread over B*H goroutines; ws supplies per-worker scratch.
// It panics if a slice is too short.
func CausalAttentionForward[T Float](o []T /* (B,T,H*dk) */, lse []T /* (B,H,T) */, q, k, v []T /* (B,T,H*dk) */, B, nT, H, dk int, ws *AttentionActs[T]) {
	C := H * dk
	if len(o) < B*nT*C || len(q) < B*nT*C || len(k) < B*nT*C || len(v) < B*nT*C || len(lse) < B*H*nT {
		panic(fmt.Sprintf("retnet: CausalAttentionForward slices too short for B=%d T=%d H=%d dk=%d", B, nT, H, dk))
	}
	br := min(attnBlock, nT)
	work := ws.scratch(parallel.Workers(B*H), br*nT+dk*nT)
	scale := T(KeyScale(dk))
	parallel.For(B*H, func(w, bh int) {
		b, h := bh/H, bh%H
		off := b*nT*C + h*dk
		qh, kh, vh, oh := q[off:], k[off:], v[off:], o[off:]
		lh := lse[bh*nT : (bh+1)*nT]
		S, kT := work[w][:br*nT], work[w][br*nT:br*nT+dk*nT]
		transposeHead(kT, kh, nT, dk, C)
		for i0 := 0; i0 < nT; i0 += br {
			i1 := min(i0+br, nT)
			r, n := i1-i0, i1 // rows of this block, keys 0..i1-1
			matmul(false, false, false, r, n, dk, scale, qh[i0*C:], C, kT, nT, 0, S, n)
			for i := 0; i < r; i++ {
				lh[i0+i] = softmaxCausalRow(S[i*n:(i+1)*n], i0+i+1)
			}
			matmul(false, false, false, r, dk, n, 1, S, n, vh, C, 0, oh[i0*C:], C)
		}
	})
}

// transposeHead writes one head's rows x[t*ld : t*ld+dk] (t < nT) as the
// columns of dst (dk, nT): the keys (or values) of a head laid out once as
// the plain right-hand operand of the q k^T (or dout v^T) products, which
// every query block reuses instead of each product transposing its own
// copy while packing.
//
// It goes 16 tokens at a time so that each write fills a cache line: one
// token at a time writes dk lines nT floats apart, which (nT a power of
// two) share an L1 set and evict each other.
func transposeHead[T Float](dst []T /* (dk,nT) */, x []T /* (nT,ld) */, nT, dk, ld int) {
	const tb = 16
	for t0 := 0; t0 < nT; t0 += tb {
		t1 := min(t0+tb, nT)
		for j := 0; j < dk; j++ {
			col := dst[j*nT+t0 : j*nT+t1]
			for i := range col {
				col[i] = x[(t0+i)*ld+j]
			}
		}
	}
}

// softmaxCausalRow turns scores row[:valid] into probabilities in place,
// zeroes row[valid:] (the masked future) and returns the log-sum-exp of
// row[:valid].
func softmaxCausalRow[T Float](row []T, valid int) T {
	lse := softmaxRow(row[:valid], row[:valid])
	clear(row[valid:])
	return T(lse)
}

// CausalAttentionBackward adds the gradients of CausalAttentionForward into
// dq, dk and dv given dout (zero them first for plain gradients). o and lse
// are the forward's outputs; the probabilities are recomputed block by block:
//
//	P = exp(q k^T/sqrt(dk) - lse), dv += P^T dout, dP = dout v^T,
//	dS = P (.) (dP - rowsum(dout (.) o)), dq += dS k/sqrt(dk), dk += dS^T q/sqrt(dk)
func CausalAttentionBackward[T Float](dq, dk, dv []T /* (B,T,H*dk) */, dout []T /* (B,T,H*dk) */, q, k, v, o []T /* (B,T,H*dk) */, lse []T /* (B,H,T) */, B, nT, H, hd int, ws *AttentionActs[T]) {
	C := H * hd
	for _, s := range [][]T{dq, dk, dv, dout, q, k, v, o} {
		if len(s) < B*nT*C {
			panic(fmt.Sprintf("retnet: CausalAttentionBackward slices too short for B=%d T=%d H=%d dk=%d", B, nT, H, hd))
		}
	}
	br := min(attnBlock, nT)
	work := ws.scratch(parallel.Workers(B*H), 2*br*nT+br+2*hd*nT)
	scale := T(KeyScale(hd))
	parallel.For(B*H, func(w, bh int) {
		b, h := bh/H, bh%H
		off := b*nT*C + h*hd
		qh, kh, vh, oh, doh := q[off:], k[off:], v[off:], o[off:], dout[off:]
		dqh, dkh, dvh := dq[off:], dk[off:], dv[off:]
		lh := lse[bh*nT : (bh+1)*nT]
		buf := work[w]
		kT, vT := buf[2*br*nT+br:2*br*nT+br+hd*nT], buf[2*br*nT+br+hd*nT:2*br*nT+br+2*hd*nT]
		transposeHead(kT, kh, nT, hd, C)
		transposeHead(vT, vh, nT, hd, C)
		for i0 := 0; i0 < nT; i0 += br {
			i1 := min(i0+br, nT)
			r, n := i1-i0, i1
			P, dP, rowDot := buf[:r*n], buf[br*nT:br*nT+r*n], buf[2*br*nT:2*br*nT+r]
			matmul(false, false, false, r, n, hd, scale, qh[i0*C:], C, kT, nT, 0, P, n)
			for i := 0; i < r; i++ {
				row, valid := P[i*n:(i+1)*n], i0+i+1
				expShiftSum(row[:valid], row[:valid], lh[i0+i])
				clear(row[valid:])
				rowDot[i] = dot(doh[(i0+i)*C:(i0+i)*C+hd], oh[(i0+i)*C:(i0+i)*C+hd])
			}
			matmul(false, true, false, n, hd, r, 1, P, n, doh[i0*C:], C, 1, dvh, C)
			matmul(false, false, false, r, n, hd, 1, doh[i0*C:], C, vT, nT, 0, dP, n)
			for i := 0; i < r; i++ {
				softmaxGrad(dP[i*n:(i+1)*n], P[i*n:(i+1)*n], rowDot[i])
			}
			matmul(false, false, false, r, hd, n, scale, dP, n, kh, C, 1, dqh[i0*C:], C)
			matmul(false, true, false, n, hd, r, scale, dP, n, qh[i0*C:], C, 1, dkh, C)
		}
	})
}
