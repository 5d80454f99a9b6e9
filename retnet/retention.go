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

// DecayTable holds the powers of one head's decay the forms need.
type DecayTable[T Float] struct {
	Pow        []T // (N+1) gamma^d, d = 0..N
	InvSqrtCum []T // (N) 1/sqrt(sum_{d<=n} gamma^d), n = 0..N-1
}

// NewDecayTable tabulates gamma^d = exp(d log gamma) for d <= N, each power
// rounded to float32 as torchscale's float32 masks are.
func NewDecayTable[T Float](logGamma T, N int) DecayTable[T] {
	dt := DecayTable[T]{Pow: make([]T, N+1), InvSqrtCum: make([]T, N)}
	var cum float64
	for d := 0; d <= N; d++ {
		p := T(float32(math.Exp(float64(d) * float64(logGamma))))
		dt.Pow[d] = p
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
	for n := r0; n < r1; n++ {
		row := S[(n-r0)*cols : (n-r0+1)*cols]
		inv := dt.InvSqrtCum[n]
		var sum T
		for m := 0; m <= n; m++ {
			s := row[m] * (dt.Pow[n-m] * inv)
			row[m] = s
			sum += abs(s)
		}
		clear(row[n+1:])
		d := min(max(sum, 1), 5e4)
		if denom != nil {
			denom[n] = d
		}
		scale(1/d, row[:n+1])
	}
	matmul(false, false, false, rows, h.Dv, cols, 1, S, cols, h.V, h.LdV, 0, h.O[r0*h.LdO:], h.LdO)
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
			inv := dt.InvSqrtCum[i]
			var sum T
			for j := 0; j <= i; j++ {
				s := row[j] * (dt.Pow[i-j] * inv)
				row[j] = s
				sum += abs(s)
			}
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
