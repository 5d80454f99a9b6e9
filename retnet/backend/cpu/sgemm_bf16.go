package cpu

import (
	"fmt"
	"math"
)

// SgemmBF16W computes C = A W^T for a float32 A (m,k) with row stride lda
// and bfloat16 weights W (n,k) [out, in] with row stride ldw, into C (m,n)
// with row stride ldc (overwritten): the float32 product of A and the
// widened weights, as
//
//	FromBF16(wf, W); Sgemm(false, true, m, n, k, 1, a, lda, wf, ldw, 0, c, ldc)
//
// computes it, bit for bit, but without the float32 copy of W: each
// weight is widened once per product, while it is packed into Sgemm's
// B panels (packing transposes W anyway), and A is packed once per block
// of ncBlock weight rows instead of once per small widened block. This is
// the product of scoring text with a BF16 model (m tokens, many rows each
// tile of W is reused for); LinearBF16 is the one for a few rows (decoding),
// where reading W is the whole cost.
//
// Large products are split over Threads() goroutines like Sgemm's. It
// panics if a dimension is negative or a slice is too short.
func SgemmBF16W(m, n, k int, a []float32, lda int, w []BF16, ldw int, c []float32, ldc int) {
	checkSgemmBF16W(m, n, k, a, lda, w, ldw, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		scaleMatrix(m, n, 0, c, ldc)
		return
	}
	g := gemm{transB: true, m: m, n: n, k: k, alpha: 1, beta: 0, a: a, lda: lda, wb: w, ldb: ldw, c: c, ldc: ldc, nc: bf16NC}
	g.parallel(Threads())
}

// bf16NC is SgemmBF16W's block of weight rows per packing (Sgemm's is
// ncBlock, 3072): 512 rows at kc = 256 are 512 KiB of packed panels, the L2
// of one core of the AMD EPYC this was measured on, so the panels are
// still in L2 when the microkernel reads them (scoring m <= mcBlock tokens
// reads each packed block once, right after packing it). One thread,
// x (128,2048) W^T (5632,2048): 56 GFLOP/s at 512 rows, 43-45 at 3072, 52
// widening blocks of 128 rows first; at x (512,2048): 63, 57-62, 55-59
// (BenchmarkLinear in retnet/hf). A variable so the tests can shrink it.
var bf16NC = 512

func checkSgemmBF16W(m, n, k int, a []float32, lda int, w []BF16, ldw int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("cpu: SgemmBF16W negative dims m=%d n=%d k=%d", m, n, k))
	}
	need := func(name string, got, rows, cols, ld int) {
		if rows > 0 && cols > 0 && (ld < cols || got < (rows-1)*ld+cols) {
			panic(fmt.Sprintf("cpu: SgemmBF16W %s: %d elements with stride %d for (%d,%d)", name, got, ld, rows, cols))
		}
	}
	need("a", len(a), m, k, lda)
	need("w", len(w), n, k, ldw)
	need("c", len(c), m, n, ldc)
}

// packBF16W is packB for transposed bfloat16 weights: it widens
// W[j0:j0+nc, p0:p0+kc] into nc/nr micro-panels, each (kc, nr):
// dst[jr*kc + p*nr + j] = float32(W[j0+jr+j][p0+p]), columns past nc zero,
// the same panels packB makes from the float32 weights. With the assembly,
// a full panel's nr rows are widened into ws.wide (row-major, sequential
// reads and writes) and transposed by packTransposed's 8x8 kernels;
// otherwise (and for the last partial panel) the plain loop runs.
func packBF16W(ws *workspace, dst []float32, w []BF16, ldw, p0, kc, j0, nc int) {
	fast := isa != Generic && kc >= 16
	if fast && len(ws.wide) < nr*kc {
		ws.wide = aligned64(maxNR * max(kc, kcBlock))
	}
	for jr := 0; jr < nc; jr += nr {
		panel := dst[jr*kc : jr*kc+kc*nr]
		rows := min(nr, nc-jr)
		if fast && rows == nr {
			k16 := kc &^ 15
			for j := 0; j < nr; j++ {
				src := w[(j0+jr+j)*ldw+p0:][:kc]
				wide := ws.wide[j*kc : (j+1)*kc]
				widenBF16AVX2(&wide[0], &src[0], k16)
				for p := k16; p < kc; p++ {
					wide[p] = math.Float32frombits(uint32(src[p]) << 16)
				}
			}
			packTransposed(panel, ws.wide, kc, 0, nr, 0, kc, nr)
			continue
		}
		if rows < nr {
			clear(panel)
		}
		for j := 0; j < rows; j++ {
			src := w[(j0+jr+j)*ldw+p0:][:kc]
			d := panel[j:]
			for p, h := range src {
				d[p*nr] = math.Float32frombits(uint32(h) << 16)
			}
		}
	}
}
