//go:build !amd64 || purego

package cpu

// hasAVX2 is false without the amd64 assembly: every path runs the pure-Go
// kernels (kernelGo, dotGo, axpyGo, scaleGo).
const hasAVX2 = false

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

func packB16TAVX2(dst, src *float32, ldb, groups int) {
	panic("cpu: packB16TAVX2 called without assembly support")
}

func packB16AVX2(dst, src *float32, ldb, kc int) {
	panic("cpu: packB16AVX2 called without assembly support")
}

func packA6TAVX2(dst, src *float32, lda, kc int) {
	panic("cpu: packA6TAVX2 called without assembly support")
}
