//go:build amd64 && !purego

package cpu

import xcpu "golang.org/x/sys/cpu"

// hasAVX2 reports whether the assembly kernels may run: the CPU has AVX2 and
// FMA and the OS saves the YMM registers (x/sys/cpu checks XGETBV for that).
var hasAVX2 = xcpu.X86.HasAVX2 && xcpu.X86.HasFMA

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

// dotAVX2 replaces dotGo: s = sum_i x[i]*y[i], len(y) >= len(x).
//
//go:noescape
func dotAVX2(x, y []float32) float32

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

// packB16TAVX2 packs 16 rows of a stored (transposed) B times 8*groups
// columns; it replaces the loop
//
//	for p := 0; p < 8*groups; p++ {
//		for j := 0; j < 16; j++ {
//			dst[p*16+j] = src[j*ldb+p]
//		}
//	}
//
//go:noescape
func packB16TAVX2(dst, src *float32, ldb, groups int)

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
