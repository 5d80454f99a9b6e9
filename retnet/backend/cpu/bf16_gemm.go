package cpu

import (
	"math"
	"unsafe"
)

// LinearBF16 of many rows (prefill, scoring text) is a blocked product like
// Sgemm's, but with both operands kept bfloat16: packed into micro-panels
// of bfloat16 pairs (two consecutive k in one 32-bit element), so that
// sgemmKernelBF16 multiplies them with VDPBF16PS, 32 multiply-adds an
// instruction against the FMA's 16. On the AMD EPYC (Zen 4) this was
// written on, VDPBF16PS runs at twice the FMA's rate (about 225 against 112
// GFLOP/s a core in dependency-free chains). The blocks hold twice the
// depth of Sgemm's (2*kcBlock bfloat16) in the same bytes.

// packedRowsDot and packedRowsWiden are the fewest rows LinearBF16 runs
// as a packed product, with and without AVX512_BF16; fewer rows run the
// row kernels (columns), which read each row of W once and pack nothing:
// with VDPBF16PS, dotRows4BF16 keeps four rows of W in L1 while the rows
// of x stream from L2, and it is as fast as the packed product up to about
// 256 rows. Measured with x (m,2048) W^T (5632,2048) (W in L3), dot rows
// vs packed, GFLOP/s on 1 / 2 threads of the AMD EPYC: m=16 117 vs 70 /
// 182 vs 136; m=64 173 vs 123 / 199 vs 166; m=128 192 vs 172 / 304 vs 313;
// m=512 186 vs 183 / 237 vs 365 (x no longer fits L2). Without it, the
// widening loop (a row of W widened, then Dot) beats SgemmBF16W up to
// about 16 rows (the limit retnet/hf used for it). Variables so the tests
// can move them.
var packedRowsDot, packedRowsWiden = 128, 17

// packedRows is the fewest rows LinearBF16 packs on the current path.
func packedRows() int {
	if HasBF16Dot() {
		return packedRowsDot
	}
	return packedRowsWiden
}

// linearPacked is LinearBF16 for m >= packedRows() rows, from xb, x already
// rounded to bfloat16 (m, ldx). Without AVX512_BF16 dot products the
// rounded x is widened and multiplied by SgemmBF16W, which widens W while
// packing it: the same exact products, float32 sums.
func linearPacked(m, n, k int, xb []BF16, ldx int, w []BF16, ldw int, y []float32, ldy int) {
	if HasBF16Dot() {
		g := gemm{m: m, n: n, k: k, alpha: 1, xb: xb, lda: ldx, wb: w, ldb: ldw, c: y, ldc: ldy, nc: bf16NC}
		g.parallel(Threads())
		return
	}
	xf := f32Pool.get((m-1)*ldx + k)
	FromBF16(xf, xb[:len(xf)])
	SgemmBF16W(m, n, k, xf, ldx, w, ldw, y, ldy)
	f32Pool.put(xf)
}

// tileBF16 is gemm.tile for linearPacked: the same loop nest over
// C[i0:i1, j0:j1] with packPairs in place of packA and packB and the
// VDPBF16PS microkernel. A block is kc = 2*kcBlock bfloat16 deep, kp =
// ceil(kc/2) pairs: the packed blocks take the workspace's float32 buffers,
// one pair per float32.
func (g *gemm) tileBF16(ws *workspace, i0, i1, j0, j1 int) {
	kcb := 2 * kcBlock
	for jc := j0; jc < j1; jc += g.nc {
		nc := min(g.nc, j1-jc)
		for pc := 0; pc < g.k; pc += kcb {
			kc := min(kcb, g.k-pc)
			kp := (kc + 1) / 2
			beta := float32(0)
			if pc > 0 {
				beta = 1 // later depth blocks accumulate onto the first
			}
			for jr := 0; jr < nc; jr += nr {
				packPairs(ws.b[jr*kp:(jr+nr)*kp], g.wb, g.ldb, jc+jr, min(nr, nc-jr), pc, kc, nr)
			}
			for ic := i0; ic < i1; ic += mcBlock {
				mc := min(mcBlock, i1-ic)
				for ir := 0; ir < mc; ir += mr {
					packPairs(ws.a[ir*kp:(ir+mr)*kp], g.xb, g.lda, ic+ir, min(mr, mc-ir), pc, kc, mr)
				}
				g.macroKernel(ws, ic, mc, jc, nc, kp, beta)
			}
		}
	}
}

// packPairs packs rows row..row+rows of the bfloat16 matrix src (row
// stride ld), columns p0..p0+kc, as one micro-panel of w-wide bfloat16
// pairs for sgemmKernelBF16, each pair's bits stored in a float32:
//
//	dst[q*w+i] = src[row+i][p0+2q] | src[row+i][p0+2q+1] << 16    q < ceil(kc/2), i < w
//
// with zeros for rows past rows and, for an odd kc, in the high half of
// the last pair (zero times zero adds nothing, whatever the other operand
// holds there). Where the pairs are aligned 32-bit words of src (even ld
// and p0, a 4-byte aligned src), it is the float32 transpose of those
// words (packTransposed, with the assembly); otherwise a plain loop.
func packPairs(dst []float32, src []BF16, ld, row, rows, p0, kc, w int) {
	full := kc / 2
	d := dst[:(kc+1)/2*w]
	if ld%2 == 0 && p0%2 == 0 && len(src) > 1 && uintptr(unsafe.Pointer(&src[0]))%4 == 0 {
		words := unsafe.Slice((*float32)(unsafe.Pointer(&src[0])), len(src)/2)
		packTransposed(d[:full*w], words, ld/2, row, rows, p0/2, full, w)
	} else {
		clear(d[:full*w])
		for i := 0; i < rows; i++ {
			r := src[(row+i)*ld+p0:][:2*full]
			for q := 0; q < full; q++ {
				d[q*w+i] = math.Float32frombits(uint32(r[2*q]) | uint32(r[2*q+1])<<16)
			}
		}
	}
	if kc%2 == 1 {
		last := d[full*w:]
		clear(last)
		for i := 0; i < rows; i++ {
			last[i] = math.Float32frombits(uint32(src[(row+i)*ld+p0+kc-1]))
		}
	}
}

// microKernelBF16 is microKernel for the packed bfloat16 pairs (kp steps).
func microKernelBF16(kp int, a, b, c []float32, ldc int, alpha, beta float32) {
	// The assembly does no bounds checks: prove the extents here.
	_ = a[kp*mr-1]
	_ = b[kp*nr-1]
	_ = c[(mr-1)*ldc+nr-1]
	sgemmKernelBF16(kp, &a[0], &b[0], &c[0], ldc, alpha, beta)
}
