package retnet

import (
	"fmt"
	"math"

	"github.com/retlab/retlab/retnet/backend/cpu"
)

// Head is one head's view of one sequence, the unit the retention forms work
// on. Row n of Q is Q[n*LdQK : n*LdQK+Dk] (so a head can be a column slice of
// a (T, H*dk) projection without copying). Q and K are already rotated and K
// is already scaled by dk^-1/2.
type Head struct {
	Q, K     []float32 // (T, LdQK), first Dk columns
	V        []float32 // (T, LdV), first Dv columns
	O        []float32 // (T, LdO), first Dv columns: the output
	LdQK     int
	LdV, LdO int
	T        int
	Dk, Dv   int
	LogGamma float32 // log(gamma) of this head (torchscale's decay buffer)
}

func (h Head) check(fn string) {
	row := func(ld, cols int) int { return (h.T-1)*ld + cols }
	if h.T < 1 || h.Dk < 1 || h.Dv < 1 || h.LdQK < h.Dk || h.LdV < h.Dv || h.LdO < h.Dv ||
		len(h.Q) < row(h.LdQK, h.Dk) || len(h.K) < row(h.LdQK, h.Dk) || len(h.V) < row(h.LdV, h.Dv) || len(h.O) < row(h.LdO, h.Dv) {
		panic(fmt.Sprintf("retnet: %s: bad head view T=%d dk=%d dv=%d ld=(%d,%d,%d) len=(%d,%d,%d,%d)",
			fn, h.T, h.Dk, h.Dv, h.LdQK, h.LdV, h.LdO, len(h.Q), len(h.K), len(h.V), len(h.O)))
	}
}

// gemm is the single-threaded product used inside retention kernels, which
// are themselves spread over cores by head and tile.
var gemm = cpu.SgemmSerial

// DecayTable holds the powers of one head's decay the forms need.
type DecayTable struct {
	Pow        []float32 // (N+1) gamma^d, d = 0..N
	InvSqrtCum []float32 // (N) 1/sqrt(sum_{d<=n} gamma^d), n = 0..N-1
}

// NewDecayTable tabulates gamma^d = exp(d log gamma) for d <= N, each power
// rounded to float32 as torchscale's float32 masks are.
func NewDecayTable(logGamma float32, N int) DecayTable {
	dt := DecayTable{Pow: make([]float32, N+1), InvSqrtCum: make([]float32, N)}
	var cum float64
	for d := 0; d <= N; d++ {
		p := float32(math.Exp(float64(d) * float64(logGamma)))
		dt.Pow[d] = p
		if d < N {
			cum += float64(p)
			dt.InvSqrtCum[d] = float32(1 / math.Sqrt(cum))
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
func ParallelRetention(h Head, denom []float32, work []float32) {
	h.check("ParallelRetention")
	dt := NewDecayTable(h.LogGamma, h.T)
	for r0 := 0; r0 < h.T; r0 += ParallelTile {
		parallelRows(h, dt, r0, min(h.T, r0+ParallelTile), denom, work)
	}
}

// parallelRows computes output rows [r0, r1) of the parallel form.
func parallelRows(h Head, dt DecayTable, r0, r1 int, denom, work []float32) {
	rows, cols := r1-r0, r1
	if len(work) < rows*cols {
		panic(fmt.Sprintf("retnet: parallel retention work has %d floats, need %d", len(work), rows*cols))
	}
	S := work[:rows*cols] // (rows, cols)
	gemm(false, true, rows, cols, h.Dk, 1, h.Q[r0*h.LdQK:], h.LdQK, h.K, h.LdQK, 0, S, cols)
	for n := r0; n < r1; n++ {
		row := S[(n-r0)*cols : (n-r0+1)*cols]
		inv := dt.InvSqrtCum[n]
		var sum float32
		for m := 0; m <= n; m++ {
			s := row[m] * (dt.Pow[n-m] * inv)
			row[m] = s
			sum += abs32(s)
		}
		clear(row[n+1:])
		d := min(max(sum, 1), 5e4)
		if denom != nil {
			denom[n] = d
		}
		cpu.Scale(1/d, row[:n+1])
	}
	gemm(false, false, rows, h.Dv, cols, 1, S, cols, h.V, h.LdV, 0, h.O[r0*h.LdO:], h.LdO)
}

// ChunkSaved keeps what the chunkwise backward pass needs from the forward.
type ChunkSaved struct {
	R     []float32 // (nChunks, Dk, Dv) cross-chunk state R_c entering each chunk
	RNorm []float32 // (nChunks) r_c = max(1, max_col sum_row |R_c|)
	A     []float32 // (T) a_i = max(1, sum_j |A_ij|) per row
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
func ChunkwiseRetention(h Head, C int, saved *ChunkSaved, work []float32) {
	h.check("ChunkwiseRetention")
	if C < 1 {
		panic(fmt.Sprintf("retnet: ChunkwiseRetention chunk %d", C))
	}
	if len(work) < ChunkwiseWorkSize(C, h.Dv) {
		panic(fmt.Sprintf("retnet: ChunkwiseRetention work has %d floats, need %d", len(work), ChunkwiseWorkSize(C, h.Dv)))
	}
	dk, dv := h.Dk, h.Dv
	dt := NewDecayTable(h.LogGamma, C)
	var SC float64
	for j := 0; j < C; j++ {
		SC += float64(dt.Pow[j])
	}
	A := work[:C*C]
	cross := work[C*C : C*C+C*dv]     // (C, dv) q_i R_c
	vd := work[C*C+C*dv : C*C+2*C*dv] // (C, dv) v_j gamma^(C-1-j) / S_C
	rowScale := work[C*C+2*C*dv:][:C] // (C) a_i
	var R []float32                   // (dk, dv), nil while zero
	var rnorm float32 = 1
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
		gemm(false, true, n, n, dk, 1, q, h.LdQK, k, h.LdQK, 0, Ab, n)
		for i := 0; i < n; i++ {
			row := Ab[i*n : (i+1)*n]
			inv := dt.InvSqrtCum[i]
			var sum float32
			for j := 0; j <= i; j++ {
				s := row[j] * (dt.Pow[i-j] * inv)
				row[j] = s
				sum += abs32(s)
			}
			clear(row[i+1:])
			a := max(sum, 1)
			if saved != nil && saved.A != nil {
				saved.A[c0+i] = a
			}
			rowScale[i] = a
		}
		gemm(false, false, n, dv, n, 1, Ab, n, v, h.LdV, 0, o, h.LdO)
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
				cpu.Scale(1/rowScale[i], o[i*h.LdO:i*h.LdO+dv])
			}
		} else {
			gemm(false, false, n, dv, dk, 1, q, h.LdQK, R, dv, 0, cross, dv)
			for i := 0; i < n; i++ {
				qd := float32(float64(dt.Pow[i+1]) * SC * float64(dt.InvSqrtCum[i]))
				oi := o[i*h.LdO : i*h.LdO+dv]
				cpu.Axpy(qd, cross[i*dv:(i+1)*dv], oi)
				cpu.Scale(1/max(rowScale[i], rnorm), oi)
			}
		}
		if c0+C >= h.T {
			break
		}
		// R_{c+1} = gamma^C R_c + K_c^T (V_c (.) vdecay).
		for j := 0; j < n; j++ {
			w := float32(float64(dt.Pow[C-1-j]) / SC)
			vj, dj := v[j*h.LdV:j*h.LdV+dv], vd[j*dv:(j+1)*dv]
			for x := range dj {
				dj[x] = vj[x] * w
			}
		}
		beta := dt.Pow[C]
		if R == nil {
			R = make([]float32, dk*dv)
			beta = 0
		}
		gemm(true, false, dk, dv, n, 1, k, h.LdQK, vd, dv, beta, R, dv)
		rnorm = 1
		for x := 0; x < dv; x++ {
			var s float32
			for y := 0; y < dk; y++ {
				s += abs32(R[y*dv+x])
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
func RecurrentRetention(h Head, S []float32 /* (Dv,Dk) */, scale *float32) {
	h.check("RecurrentRetention")
	dk, dv := h.Dk, h.Dv
	if len(S) < dk*dv {
		panic(fmt.Sprintf("retnet: RecurrentRetention state has %d floats, need %d", len(S), dk*dv))
	}
	gamma := float32(math.Exp(float64(h.LogGamma)))
	for t := 0; t < h.T; t++ {
		q := h.Q[t*h.LdQK : t*h.LdQK+dk]
		k := h.K[t*h.LdQK : t*h.LdQK+dk]
		v := h.V[t*h.LdV : t*h.LdV+dv]
		o := h.O[t*h.LdO : t*h.LdO+dv]
		prev := *scale
		c := prev*gamma + 1
		a := float32(math.Sqrt(float64(prev))) * gamma / float32(math.Sqrt(float64(c)))
		b := 1 / float32(math.Sqrt(float64(c)))
		for j := 0; j < dv; j++ {
			row := S[j*dk : (j+1)*dk]
			cpu.Scale(a, row)
			cpu.Axpy(b*v[j], k, row)
			o[j] = cpu.Dot(q, row)
		}
		*scale = c
	}
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }
