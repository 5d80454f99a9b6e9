//go:build amd64 && !purego

package cpu

import xcpu "golang.org/x/sys/cpu"

// hasAVX2 reports whether the AVX2 kernels may run: the CPU has AVX2 and
// FMA and the OS saves the YMM registers (x/sys/cpu checks XGETBV for that).
var hasAVX2 = xcpu.X86.HasAVX2 && xcpu.X86.HasFMA

// hasAVX512 reports whether the AVX-512 kernels may run: F, BW, DQ and VL
// (the Skylake-server set and later) and the OS saves the ZMM and K
// registers (x/sys/cpu leaves the flags false otherwise). The AVX-512 path
// also calls the AVX2 packing kernels.
var hasAVX512 = hasAVX2 && xcpu.X86.HasAVX512F && xcpu.X86.HasAVX512BW &&
	xcpu.X86.HasAVX512DQ && xcpu.X86.HasAVX512VL

// sgemmKernelAVX2 is the 6x16 register-tiled microkernel. It replaces
// kernelGo, the plain loop
//
//	for p := 0; p < kc; p++ {
//		for i := 0; i < 6; i++ {
//			for j := 0; j < 16; j++ {
//				acc[i][j] += a[p*6+i] * b[p*16+j]
//			}
//		}
//	}
//	C[i][j] = alpha*acc[i][j] + beta*C[i][j] // beta == 0: C[i][j] = alpha*acc[i][j]
//
// a is a packed A micro-panel (kc x 6 floats), b a packed B micro-panel
// (kc x 16), c the top-left of a full 6x16 tile of C with row stride ldc.
// The caller guarantees all of it is in bounds and that AVX2+FMA exist.
//
//go:noescape
func sgemmKernelAVX2(kc int, a, b, c *float32, ldc int, alpha, beta float32)

// sgemmKernelAVX512 is the 12x32 microkernel of the AVX-512 path: the
// same loop as sgemmKernelAVX2 with mr = 12, nr = 32 (a packed A panel of
// kc x 12 floats, a packed B panel of kc x 32, 24 ZMM accumulators).
//
//go:noescape
func sgemmKernelAVX512(kc int, a, b, c *float32, ldc int, alpha, beta float32)

// dotAVX2 replaces dotGo: s = sum_i x[i]*y[i], len(y) >= len(x).
//
//go:noescape
func dotAVX2(x, y []float32) float32

// dotAVX512, axpyAVX512 and scaleAVX512 are the 16-lane twins of dotAVX2,
// axpyAVX2 and scaleAVX2 (tails through a K mask, no scalar loop).
//
//go:noescape
func dotAVX512(x, y []float32) float32

//go:noescape
func axpyAVX512(alpha float32, x, y []float32)

//go:noescape
func scaleAVX512(alpha float32, x []float32)

// dotRows4AVX512 is dotRows4AVX2 on ZMM registers (same arguments; an odd
// k8 ends with a half-masked load).
//
//go:noescape
func dotRows4AVX512(a *float32, lda, rows int, w *float32, ldw, k8 int, out *float32)

// expScaledAVX512 sets dst[i] = exp(c*x[i]) for all of x, 16 at a time,
// the tail through a K mask; len(dst) >= len(x).
//
//go:noescape
func expScaledAVX512(dst, x []float32, c float32)

// dotRows4AVX2 computes out[i*4+j] = sum_{p < 8*k8} a[i*lda+p]*w[j*ldw+p]
// for i < rows (1 or 2) and j < 4: a few rows of A against four rows of a
// weight W (the decode-step product x W^T). k8 >= 1; the caller checks bounds.
//
//go:noescape
func dotRows4AVX2(a *float32, lda, rows int, w *float32, ldw, k8 int, out *float32)

// expScaledAVX2 sets dst[i] = exp(c*x[i]) for the first len(x)&^7
// elements (see ExpScaled); len(dst) >= len(x).
//
//go:noescape
func expScaledAVX2(dst, x []float32, c float32)

// axpyAVX2 replaces axpyGo: y[i] += alpha*x[i], len(y) >= len(x).
//
//go:noescape
func axpyAVX2(alpha float32, x, y []float32)

// scaleAVX2 replaces scaleGo: x[i] *= alpha.
//
//go:noescape
func scaleAVX2(alpha float32, x []float32)

// packA6AVX2 packs 6 rows of A times 8*groups columns; it replaces the loop
//
//	for p := 0; p < 8*groups; p++ {
//		for i := 0; i < 6; i++ {
//			dst[p*6+i] = src[i*lda+p]
//		}
//	}
//
//go:noescape
func packA6AVX2(dst, src *float32, lda, groups int)

// transpose8AVX2 writes 8 rows of src (row stride ld floats) times
// 8*groups columns transposed, at destination row stride w floats; it
// replaces the loop
//
//	for p := 0; p < 8*groups; p++ {
//		for j := 0; j < 8; j++ {
//			dst[p*w+j] = src[j*ld+p]
//		}
//	}
//
// Packing a transposed panel of 16 or 32 rows is 2 or 4 calls, 12 rows two
// overlapping calls (rows 0-7 and 4-11).
//
//go:noescape
func transpose8AVX2(dst, src *float32, ld, w, groups int)

// packB16AVX2 packs 16 columns of an untransposed B; it replaces the loop
//
//	for p := 0; p < kc; p++ {
//		copy(dst[p*16:p*16+16], src[p*ldb:])
//	}
//
//go:noescape
func packB16AVX2(dst, src *float32, ldb, kc int)

// packA6TAVX2 packs 6 rows of op(A) from a transposed A; it replaces the loop
//
//	for p := 0; p < kc; p++ {
//		copy(dst[p*6:p*6+6], src[p*lda:])
//	}
//
//go:noescape
func packA6TAVX2(dst, src *float32, lda, kc int)

// packA12TAVX2 is packA6TAVX2 for 12-float panels (the AVX-512 tile):
// dst[p*12+i] = src[p*lda+i].
//
//go:noescape
func packA12TAVX2(dst, src *float32, lda, kc int)

// packB32AVX512 is packB16AVX2 for 32-float panels:
// dst[p*32+j] = src[p*ldb+j].
//
//go:noescape
func packB32AVX512(dst, src *float32, ldb, kc int)

// fmaChainsAVX2 runs n rounds of 12 independent 8-lane FMA chains (192
// flops a round), and fmaChainsAVX512 n rounds of 24 16-lane chains (768
// flops): the probes behind PeakFLOPS.
//
//go:noescape
func fmaChainsAVX2(n int)

//go:noescape
func fmaChainsAVX512(n int)

// hasBF16 reports AVX512_BF16 (VDPBF16PS) on top of hasAVX512.
var hasBF16 = hasAVX512 && xcpu.X86.HasAVX512BF16

// dotRows4BF16 computes out[i*4+j] = sum_{p < k} a[i*lda+p]*w[j*ldw+p] for
// i < rows (1 or 2) and j < 4 with bfloat16 operands and float32 sums
// (VDPBF16PS); k >= 1, the caller checks bounds and hasBF16.
//
//go:noescape
func dotRows4BF16(a *BF16, lda, rows int, w *BF16, ldw, k int, out *float32)

// sgemmKernelBF16 is the 12x32 microkernel of LinearBF16's packed path:
// sgemmKernelAVX512's loop over kc steps whose 32-bit elements are pairs
// of bfloat16 (two consecutive k), multiplied pairwise with VDPBF16PS and
// summed in float32:
//
//	acc[i][j] += lo(a[q*12+i])*lo(b[q*32+j]) + hi(a[q*12+i])*hi(b[q*32+j])
//
// (see packPairs). The caller guarantees the extents and hasBF16.
//
//go:noescape
func sgemmKernelBF16(kc int, a, b, c *float32, ldc int, alpha, beta float32)

// mulAbsSumAVX512 replaces mulAbsSumGo (see MulAbsSum).
//
//go:noescape
func mulAbsSumAVX512(x, w []float32, c float32) float32

// expShiftSumAVX512 sets dst[i] = exp(x[i]-m) for all of x (len(dst) >=
// len(x)) and returns their sum.
//
//go:noescape
func expShiftSumAVX512(dst, x []float32, m float32) float32

// expShiftSumAVX2 sets dst[i] = exp(x[i]-m) for the first len(x)&^7
// elements (len(dst) >= len(x)) and returns their sum.
//
//go:noescape
func expShiftSumAVX2(dst, x []float32, m float32) float32

// maxAVX512 returns the largest element of x, len(x) >= 1.
//
//go:noescape
func maxAVX512(x []float32) float32

// maxAVX2 returns the largest of the first len(x)&^7 elements, len(x) >= 8.
//
//go:noescape
func maxAVX2(x []float32) float32

// softmaxGradAVX512 sets d[i] = p[i]*(d[i]-c) for all of d (len(p) >= len(d)).
//
//go:noescape
func softmaxGradAVX512(d, p []float32, c float32)

// softmaxGradAVX2 sets d[i] = p[i]*(d[i]-c) for the first len(d)&^7
// elements (len(p) >= len(d)).
//
//go:noescape
func softmaxGradAVX2(d, p []float32, c float32)
