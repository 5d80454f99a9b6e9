//go:build !amd64 || purego

package cpu

// hasAVX2 and hasAVX512 are false without the amd64 assembly: every path
// runs the pure-Go kernels (kernelGo, dotGo, axpyGo, scaleGo).
const hasAVX2, hasAVX512 = false, false

func sgemmKernelAVX512(kc int, a, b, c *float32, ldc int, alpha, beta float32) {
	panic("cpu: sgemmKernelAVX512 called without assembly support")
}

func dotAVX512(x, y []float32) float32 { panic("cpu: dotAVX512 called without assembly support") }

func axpyAVX512(alpha float32, x, y []float32) {
	panic("cpu: axpyAVX512 called without assembly support")
}

func scaleAVX512(alpha float32, x []float32) {
	panic("cpu: scaleAVX512 called without assembly support")
}

func dotRows4AVX512(a *float32, lda, rows int, w *float32, ldw, k8 int, out *float32) {
	panic("cpu: dotRows4AVX512 called without assembly support")
}

func expScaledAVX512(dst, x []float32, c float32) {
	panic("cpu: expScaledAVX512 called without assembly support")
}

func transpose8AVX2(dst, src *float32, ld, w, groups int) {
	panic("cpu: transpose8AVX2 called without assembly support")
}

func packA12TAVX2(dst, src *float32, lda, kc int) {
	panic("cpu: packA12TAVX2 called without assembly support")
}

func packB32AVX512(dst, src *float32, ldb, kc int) {
	panic("cpu: packB32AVX512 called without assembly support")
}

func sgemmKernelAVX2(kc int, a, b, c *float32, ldc int, alpha, beta float32) {
	panic("cpu: sgemmKernelAVX2 called without assembly support")
}

func dotAVX2(x, y []float32) float32 { panic("cpu: dotAVX2 called without assembly support") }

func dotRows4AVX2(a *float32, lda, rows int, w *float32, ldw, k8 int, out *float32) {
	panic("cpu: dotRows4AVX2 called without assembly support")
}

func expScaledAVX2(dst, x []float32, c float32) {
	panic("cpu: expScaledAVX2 called without assembly support")
}

func axpyAVX2(alpha float32, x, y []float32) { panic("cpu: axpyAVX2 called without assembly support") }

func scaleAVX2(alpha float32, x []float32) { panic("cpu: scaleAVX2 called without assembly support") }

func packA6AVX2(dst, src *float32, lda, groups int) {
	panic("cpu: packA6AVX2 called without assembly support")
}

func packB16AVX2(dst, src *float32, ldb, kc int) {
	panic("cpu: packB16AVX2 called without assembly support")
}

func packA6TAVX2(dst, src *float32, lda, kc int) {
	panic("cpu: packA6TAVX2 called without assembly support")
}

func fmaChainsAVX2(n int)   { panic("cpu: fmaChainsAVX2 called without assembly support") }
func fmaChainsAVX512(n int) { panic("cpu: fmaChainsAVX512 called without assembly support") }

const hasBF16 = false

func dotRows4BF16(a *BF16, lda, rows int, w *BF16, ldw, k int, out *float32) {
	panic("cpu: dotRows4BF16 called without assembly support")
}

func sgemmKernelBF16(kc int, a, b, c *float32, ldc int, alpha, beta float32) {
	panic("cpu: sgemmKernelBF16 called without assembly support")
}

func mulAbsSumAVX512(x, w []float32, c float32) float32 {
	panic("cpu: mulAbsSumAVX512 called without assembly support")
}

func expShiftSumAVX512(dst, x []float32, m float32) float32 {
	panic("cpu: expShiftSumAVX512 called without assembly support")
}

func expShiftSumAVX2(dst, x []float32, m float32) float32 {
	panic("cpu: expShiftSumAVX2 called without assembly support")
}

func maxAVX512(x []float32) float32 { panic("cpu: maxAVX512 called without assembly support") }

func maxAVX2(x []float32) float32 { panic("cpu: maxAVX2 called without assembly support") }

func softmaxGradAVX512(d, p []float32, c float32) {
	panic("cpu: softmaxGradAVX512 called without assembly support")
}

func softmaxGradAVX2(d, p []float32, c float32) {
	panic("cpu: softmaxGradAVX2 called without assembly support")
}
