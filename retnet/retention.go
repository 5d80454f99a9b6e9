package retnet

import (
	"fmt"
	"math"
)

// Head is one head's view of one sequence, the unit the retention forms work
// on. Row n of Q is Q[n*LdQK : n*LdQK+Dk] (so a head can be a column slice of
// a (T, H*dk) projection without copying). Q and K are already rotated and K
// is already scaled by dk^-1/2.
type Head[T Float] struct {
	Q, K     []T // (T, LdQK), first Dk columns
	V        []T // (T, LdV), first Dv columns
	O        []T // (T, LdO), first Dv columns: the output
	LdQK     int
	LdV, LdO int
	T        int
	Dk, Dv   int
	LogGamma T // log(gamma) of this head (torchscale's decay buffer)
}

func (h Head[T]) check(fn string) {
	row := func(ld, cols int) int { return (h.T-1)*ld + cols }
	if h.T < 1 || h.Dk < 1 || h.Dv < 1 || h.LdQK < h.Dk || h.LdV < h.Dv || h.LdO < h.Dv ||
		len(h.Q) < row(h.LdQK, h.Dk) || len(h.K) < row(h.LdQK, h.Dk) || len(h.V) < row(h.LdV, h.Dv) || len(h.O) < row(h.LdO, h.Dv) {
		panic(fmt.Sprintf("retnet: %s: bad head view T=%d dk=%d dv=%d ld=(%d,%d,%d) len=(%d,%d,%d,%d)",
			fn, h.T, h.Dk, h.Dv, h.LdQK, h.LdV, h.LdO, len(h.Q), len(h.K), len(h.V), len(h.O)))
	}
}

// HeadGrad holds the gradients of one head's view, with the same strides as
// its Head: DO is the incoming gradient of O; DQ, DK, DV receive (+=) the
// gradients of Q, K, V.
type HeadGrad[T Float] struct {
	DQ, DK []T // (T, LdQK)
	DV     []T // (T, LdV)
	DO     []T // (T, LdO)
}

// DecayTable holds the powers of one head's decay the forms need.
type DecayTable[T Float] struct {
	Pow        []T // (N+1) gamma^d, d = 0..N
	Rev        []T // (N+1) Pow reversed, Rev[j] = gamma^(N-j): row n's mask gamma^(n-m), m = 0..n, is Rev[N-n:]
	InvSqrtCum []T // (N) 1/sqrt(sum_{d<=n} gamma^d), n = 0..N-1
}

// NewDecayTable tabulates gamma^d = exp(d log gamma) for d <= N, each power
// rounded to float32 as torchscale's float32 masks are.
func NewDecayTable[T Float](logGamma T, N int) DecayTable[T] {
	dt := DecayTable[T]{Pow: make([]T, N+1), Rev: make([]T, N+1), InvSqrtCum: make([]T, N)}
	var cum float64
	for d := 0; d <= N; d++ {
		p := T(float32(math.Exp(float64(d) * float64(logGamma))))
		dt.Pow[d] = p
		dt.Rev[N-d] = p
		if d < N {
			cum += float64(p)
			dt.InvSqrtCum[d] = T(1 / math.Sqrt(cum))
		}
	}
	return dt
}

// ParallelTile is the number of query rows the parallel form processes at
// once; its scratch is ParallelTile x T floats.
const ParallelTile = 128

// ParallelWorkSize is the scratch length ParallelRetention needs for length T.
func ParallelWorkSize(T int) int { return min(T, ParallelTile) * T }

// ParallelRetention computes one head's parallel form (torchscale
// parallel_forward):
//
//	S = (Q K^T) (.) Dn,  Dn[n][m] = gamma^(n-m) / sqrt(sum_{m'<=n} gamma^(n-m')) for m <= n, else 0
//	O = (S / clamp(rowsum |S|, 1, 5e4)) V
//
// Only the causal lower triangle is computed, ParallelTile rows at a time.
// denom (T), if not nil, receives each row's clamp value for the backward
// pass. It panics if work is shorter than ParallelWorkSize(T).
func ParallelRetention[T Float](h Head[T], denom []T, work []T) {
	h.check("ParallelRetention")
	dt := NewDecayTable[T](h.LogGamma, h.T)
	for r0 := 0; r0 < h.T; r0 += ParallelTile {
		parallelRows(h, dt, r0, min(h.T, r0+ParallelTile), denom, work)
	}
}

// parallelRows computes output rows [r0, r1) of the parallel form.
func parallelRows[T Float](h Head[T], dt DecayTable[T], r0, r1 int, denom, work []T) {
	rows, cols := r1-r0, r1
	if len(work) < rows*cols {
		panic(fmt.Sprintf("retnet: parallel retention work has %d floats, need %d", len(work), rows*cols))
	}
	S := work[:rows*cols] // (rows, cols)
	matmul(false, false, true, rows, cols, h.Dk, 1, h.Q[r0*h.LdQK:], h.LdQK, h.K, h.LdQK, 0, S, cols)
	N := len(dt.Rev) - 1
	for n := r0; n < r1; n++ {
		row := S[(n-r0)*cols : (n-r0+1)*cols]
		// row[m] *= gamma^(n-m) * inv for m <= n, and the sum of |row|.
		sum := mulAbsSum(row[:n+1], dt.Rev[N-n:], dt.InvSqrtCum[n])
		clear(row[n+1:])
		d := min(max(sum, 1), 5e4)
		if denom != nil {
			denom[n] = d
		}
		scale(1/d, row[:n+1])
	}
	matmul(false, false, false, rows, h.Dv, cols, 1, S, cols, h.V, h.LdV, 0, h.O[r0*h.LdO:], h.LdO)
}

// ParallelBackwardWorkSize is the scratch ParallelRetentionBackward needs.
func ParallelBackwardWorkSize(T int) int { return 2 * min(T, ParallelTile) * T }

// ParallelRetentionBackward adds the gradients of ParallelRetention into g
// given g.DO. As in torchscale, the row normaliser clamp(sum|S|, 1, 5e4) is
// detached (a constant saved in denom by the forward), so with
// P = S / denom and S = (Q K^T) (.) Dn:
//
//	dV += P^T dO;  dS = (dO V^T) (.) Dn / denom;  dQ += dS K;  dK += dS^T Q
//
// P and dS are recomputed ParallelTile rows at a time (nothing T x T is kept).
func ParallelRetentionBackward[T Float](h Head[T], g HeadGrad[T], denom []T, work []T) {
	h.check("ParallelRetentionBackward")
	dt := NewDecayTable[T](h.LogGamma, h.T)
	if len(work) < ParallelBackwardWorkSize(h.T) {
		panic(fmt.Sprintf("retnet: ParallelRetentionBackward work has %d floats, need %d", len(work), ParallelBackwardWorkSize(h.T)))
	}
	for r0 := 0; r0 < h.T; r0 += ParallelTile {
		r1 := min(h.T, r0+ParallelTile)
		rows, cols := r1-r0, r1
		P, dS := work[:rows*cols], work[rows*cols:2*rows*cols]
		matmul(false, false, true, rows, cols, h.Dk, 1, h.Q[r0*h.LdQK:], h.LdQK, h.K, h.LdQK, 0, P, cols)
		matmul(false, false, true, rows, cols, h.Dv, 1, g.DO[r0*h.LdO:], h.LdO, h.V, h.LdV, 0, dS, cols)
		for n := r0; n < r1; n++ {
			p, ds := P[(n-r0)*cols:(n-r0+1)*cols], dS[(n-r0)*cols:(n-r0+1)*cols]
			f := dt.InvSqrtCum[n] / denom[n]
			for m := 0; m <= n; m++ {
				w := dt.Pow[n-m] * f
				p[m] *= w
				ds[m] *= w
			}
			clear(p[n+1:])
			clear(ds[n+1:])
		}
		matmul(false, true, false, cols, h.Dv, rows, 1, P, cols, g.DO[r0*h.LdO:], h.LdO, 1, g.DV, h.LdV)
		matmul(false, false, false, rows, h.Dk, cols, 1, dS, cols, h.K, h.LdQK, 1, g.DQ[r0*h.LdQK:], h.LdQK)
		matmul(false, true, false, cols, h.Dk, rows, 1, dS, cols, h.Q[r0*h.LdQK:], h.LdQK, 1, g.DK, h.LdQK)
	}
}

// ChunkSaved keeps what the chunkwise backward pass needs from the forward.
type ChunkSaved[T Float] struct {
	R     []T // (nChunks, Dk, Dv) cross-chunk state R_c entering each chunk
	RNorm []T // (nChunks) r_c = max(1, max_col sum_row |R_c|)
	A     []T // (T) a_i = max(1, sum_j |A_ij|) per row
}

// ChunkwiseWorkSize is the scratch length ChunkwiseRetention needs.
func ChunkwiseWorkSize(chunk, dv int) int { return chunk*chunk + 2*chunk*dv + chunk }

// ChunkwiseRetention computes one head's chunkwise form (torchscale
// chunk_recurrent_forward) with chunk size C; T need not be a multiple of C
// (a ragged last chunk equals torchscale's zero padding, whose extra rows
// are dropped). With local indices i, j in [0,C), s_i = sum_{j<=i} gamma^(i-j)
// and S_C = sum_{j<C} gamma^j:
//
//	inner: A_ij = (q_i.k_j) gamma^(i-j) / sqrt(s_i) (j <= i); a_i = max(1, sum_j |A_ij|)
//	cross: R_0 = 0; R_{c+1} = gamma^C R_c + sum_j k_j^T v_j gamma^(C-1-j) / S_C
//	       r_c = max(1, max over columns of sum over rows |R_c|)
//	o_i = (A V + (q_i gamma^(i+1) S_C / sqrt(s_i)) R_c) / max(a_i, r_c)
//
// saved may be nil. It panics if work is shorter than ChunkwiseWorkSize.
func ChunkwiseRetention[T Float](h Head[T], C int, saved *ChunkSaved[T], work []T) {
	h.check("ChunkwiseRetention")
	if C < 1 {
		panic(fmt.Sprintf("retnet: ChunkwiseRetention chunk %d", C))
	}
	if len(work) < ChunkwiseWorkSize(C, h.Dv) {
		panic(fmt.Sprintf("retnet: ChunkwiseRetention work has %d floats, need %d", len(work), ChunkwiseWorkSize(C, h.Dv)))
	}
	dk, dv := h.Dk, h.Dv
	dt := NewDecayTable[T](h.LogGamma, C)
	var SC float64
	for j := 0; j < C; j++ {
		SC += float64(dt.Pow[j])
	}
	A := work[:C*C]
	cross := work[C*C : C*C+C*dv]     // (C, dv) q_i R_c
	vd := work[C*C+C*dv : C*C+2*C*dv] // (C, dv) v_j gamma^(C-1-j) / S_C
	rowScale := work[C*C+2*C*dv:][:C] // (C) a_i
	var R []T                         // (dk, dv), nil while zero
	var rnorm T = 1
	nChunks := (h.T + C - 1) / C
	if saved != nil && saved.R != nil && len(saved.R) < nChunks*dk*dv {
		panic("retnet: ChunkSaved.R too short")
	}
	for c := 0; c < nChunks; c++ {
		c0 := c * C
		n := min(C, h.T-c0)
		q, k := h.Q[c0*h.LdQK:], h.K[c0*h.LdQK:]
		v, o := h.V[c0*h.LdV:], h.O[c0*h.LdO:]
		// inner = A V with the decayed, row-scaled, causal A.
		Ab := A[:n*n]
		matmul(false, false, true, n, n, dk, 1, q, h.LdQK, k, h.LdQK, 0, Ab, n)
		for i := 0; i < n; i++ {
			row := Ab[i*n : (i+1)*n]
			// row[j] *= gamma^(i-j) * inv for j <= i, and the sum of |row|
			// (Rev[C-i+j] = gamma^(i-j)), in one sweep as the parallel form.
			sum := mulAbsSum(row[:i+1], dt.Rev[C-i:], dt.InvSqrtCum[i])
			clear(row[i+1:])
			a := max(sum, 1)
			if saved != nil && saved.A != nil {
				saved.A[c0+i] = a
			}
			rowScale[i] = a
		}
		matmul(false, false, false, n, dv, n, 1, Ab, n, v, h.LdV, 0, o, h.LdO)
		if saved != nil {
			if saved.RNorm != nil {
				saved.RNorm[c] = rnorm
			}
			if saved.R != nil {
				dst := saved.R[c*dk*dv : (c+1)*dk*dv]
				if R == nil {
					clear(dst)
				} else {
					copy(dst, R)
				}
			}
		}
		if R == nil {
			for i := 0; i < n; i++ {
				scale(1/rowScale[i], o[i*h.LdO:i*h.LdO+dv])
			}
		} else {
			matmul(false, false, false, n, dv, dk, 1, q, h.LdQK, R, dv, 0, cross, dv)
			for i := 0; i < n; i++ {
				qd := T(float64(dt.Pow[i+1]) * SC * float64(dt.InvSqrtCum[i]))
				oi := o[i*h.LdO : i*h.LdO+dv]
				axpy(qd, cross[i*dv:(i+1)*dv], oi)
				scale(1/max(rowScale[i], rnorm), oi)
			}
		}
		if c0+C >= h.T {
			break
		}
		// R_{c+1} = gamma^C R_c + K_c^T (V_c (.) vdecay).
		for j := 0; j < n; j++ {
			w := T(float64(dt.Pow[C-1-j]) / SC)
			vj, dj := v[j*h.LdV:j*h.LdV+dv], vd[j*dv:(j+1)*dv]
			for x := range dj {
				dj[x] = vj[x] * w
			}
		}
		beta := dt.Pow[C]
		if R == nil {
			R = make([]T, dk*dv)
			beta = 0
		}
		matmul(false, true, false, dk, dv, n, 1, k, h.LdQK, vd, dv, beta, R, dv)
		rnorm = 1
		for x := 0; x < dv; x++ {
			var s T
			for y := 0; y < dk; y++ {
				s += abs(R[y*dv+x])
			}
			rnorm = max(rnorm, s)
		}
	}
}

// ChunkwiseBackwardWorkSize is the scratch ChunkwiseRetentionBackward needs.
func ChunkwiseBackwardWorkSize(chunk, dk, dv int) int {
	return 2*chunk*chunk + 2*chunk*max(dk, dv) + 2*dk*dv
}

// ChunkwiseRetentionBackward adds the gradients of ChunkwiseRetention (chunk
// size C, its saved states) into g given g.DO. As in torchscale the scales
// a_i and r_c are detached, so each output row is a linear function divided
// by the constant m_i = max(a_i, r_c). With G = dO / m (per row):
//
//	inner:  dV += A^T G;  dA = (G V^T) (.) decay/sqrt(s_i);  dQ += dA K;  dK += dA^T Q
//	cross:  dQ_i += qdecay_i G_i R_c^T;  dR_c += Q^T diag(qdecay) G
//	state:  dR_c += gamma^C dR_{c+1};  dK_j += vdecay_j dR_{c+1} v_j;  dV_j += vdecay_j k_j dR_{c+1}
//
// running over the chunks backwards.
func ChunkwiseRetentionBackward[T Float](h Head[T], g HeadGrad[T], C int, saved *ChunkSaved[T], work []T) {
	h.check("ChunkwiseRetentionBackward")
	dk, dv := h.Dk, h.Dv
	if len(work) < ChunkwiseBackwardWorkSize(C, dk, dv) {
		panic(fmt.Sprintf("retnet: ChunkwiseRetentionBackward work has %d floats, need %d", len(work), ChunkwiseBackwardWorkSize(C, dk, dv)))
	}
	dt := NewDecayTable[T](h.LogGamma, C)
	var SC float64
	for j := 0; j < C; j++ {
		SC += float64(dt.Pow[j])
	}
	wide := max(dk, dv)
	A, dA := work[:C*C], work[C*C:2*C*C]
	G, tmp := work[2*C*C:2*C*C+C*wide], work[2*C*C+C*wide:2*C*C+2*C*wide]
	dR, dRnext := work[2*C*C+2*C*wide:][:dk*dv], work[2*C*C+2*C*wide+dk*dv:][:dk*dv]
	clear(dRnext)
	nChunks := (h.T + C - 1) / C
	for c := nChunks - 1; c >= 0; c-- {
		c0 := c * C
		n := min(C, h.T-c0)
		q, k := h.Q[c0*h.LdQK:], h.K[c0*h.LdQK:]
		v := h.V[c0*h.LdV:]
		dq, dkk := g.DQ[c0*h.LdQK:], g.DK[c0*h.LdQK:]
		dvv, do := g.DV[c0*h.LdV:], g.DO[c0*h.LdO:]
		rnorm := saved.RNorm[c]
		// State gradient from later chunks: R_{c+1} = gamma^C R_c + K^T diag(w) V.
		if c < nChunks-1 {
			wv := tmp[:n*dv] // (n, dv) w_j v_j, w_j = gamma^(C-1-j)/S_C
			for j := 0; j < n; j++ {
				w := T(float64(dt.Pow[C-1-j]) / SC)
				for x, val := range v[j*h.LdV : j*h.LdV+dv] {
					wv[j*dv+x] = w * val
				}
			}
			matmul(false, false, true, n, dk, dv, 1, wv, dv, dRnext, dv, 1, dkk, h.LdQK) // dK += diag(w) V dR^T
			kdr := tmp[:n*dv]                                                            // (n, dv) K dR_{c+1}
			matmul(false, false, false, n, dv, dk, 1, k, h.LdQK, dRnext, dv, 0, kdr, dv)
			for j := 0; j < n; j++ {
				axpy(T(float64(dt.Pow[C-1-j])/SC), kdr[j*dv:(j+1)*dv], dvv[j*h.LdV:j*h.LdV+dv])
			}
		}
		// G = dO / m_i.
		Gb := G[:n*dv]
		for i := 0; i < n; i++ {
			mi := max(saved.A[c0+i], rnorm)
			src := do[i*h.LdO : i*h.LdO+dv]
			for x, val := range src {
				Gb[i*dv+x] = val / mi
			}
		}
		// Inner: recompute A (decayed, row-scaled, causal), then its gradients.
		Ab, dAb := A[:n*n], dA[:n*n]
		matmul(false, false, true, n, n, dk, 1, q, h.LdQK, k, h.LdQK, 0, Ab, n)
		matmul(false, false, true, n, n, dv, 1, Gb, dv, v, h.LdV, 0, dAb, n)
		for i := 0; i < n; i++ {
			inv := dt.InvSqrtCum[i]
			for j := 0; j <= i; j++ {
				w := dt.Pow[i-j] * inv
				Ab[i*n+j] *= w
				dAb[i*n+j] *= w
			}
			clear(Ab[i*n+i+1 : (i+1)*n])
			clear(dAb[i*n+i+1 : (i+1)*n])
		}
		matmul(false, true, false, n, dv, n, 1, Ab, n, Gb, dv, 1, dvv, h.LdV)
		matmul(false, false, false, n, dk, n, 1, dAb, n, k, h.LdQK, 1, dq, h.LdQK)
		matmul(false, true, false, n, dk, n, 1, dAb, n, q, h.LdQK, 1, dkk, h.LdQK)
		// Cross: o_i += qdecay_i q_i R_c / m_i (R_0 = 0 contributes nothing).
		copy(dR, dRnext)
		scale(dt.Pow[C], dR) // dR_c = gamma^C dR_{c+1} + cross part
		if c > 0 {
			R := saved.R[c*dk*dv : (c+1)*dk*dv]
			for i := 0; i < n; i++ {
				qd := T(float64(dt.Pow[i+1]) * SC * float64(dt.InvSqrtCum[i]))
				scale(qd, Gb[i*dv:(i+1)*dv]) // G now holds qdecay_i G_i
			}
			matmul(false, false, true, n, dk, dv, 1, Gb, dv, R, dv, 1, dq, h.LdQK)
			matmul(false, true, false, dk, dv, n, 1, q, h.LdQK, Gb, dv, 1, dR, dv)
		}
		dR, dRnext = dRnext, dR
	}
}

// RecurrentRetention runs one head's recurrent form over h.T tokens,
// continuing from the state (S, *scale) and leaving the new state there
// (torchscale recurrent_forward). S is stored (Dv, Dk) as torchscale's
// prev_key_value; *scale is c_n. An empty state is S = 0, *scale = 0. Per token:
//
//	c_n = gamma c_{n-1} + 1
//	S_n = gamma sqrt(c_{n-1}/c_n) S_{n-1} + v_n^T k_n / sqrt(c_n)
//	o_n = S_n q_n
func RecurrentRetention[T Float](h Head[T], S []T /* (Dv,Dk) */, scaleC *T) {
	h.check("RecurrentRetention")
	dk, dv := h.Dk, h.Dv
	if len(S) < dk*dv {
		panic(fmt.Sprintf("retnet: RecurrentRetention state has %d floats, need %d", len(S), dk*dv))
	}
	gamma := T(float32(math.Exp(float64(h.LogGamma))))
	for t := 0; t < h.T; t++ {
		q := h.Q[t*h.LdQK : t*h.LdQK+dk]
		k := h.K[t*h.LdQK : t*h.LdQK+dk]
		v := h.V[t*h.LdV : t*h.LdV+dv]
		o := h.O[t*h.LdO : t*h.LdO+dv]
		prev := *scaleC
		c := prev*gamma + 1
		a := sqrt(prev) * gamma / sqrt(c)
		b := 1 / sqrt(c)
		for j := 0; j < dv; j++ {
			row := S[j*dk : (j+1)*dk]
			scale(a, row)
			axpy(b*v[j], k, row)
			o[j] = dot(q, row)
		}
		*scaleC = c
	}
}
