package cpu

// TEMPORARY (lead): plain versions until the AVX2 kernels land.

// SgemmSerial is Sgemm on the calling goroutine only.
func SgemmSerial(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func Dot(x, y []float32) float32 {
	var s float32
	for i, v := range x {
		s += v * y[i]
	}
	return s
}

func Axpy(alpha float32, x, y []float32) {
	for i, v := range x {
		y[i] += alpha * v
	}
}

func Scale(alpha float32, x []float32) {
	for i := range x {
		x[i] *= alpha
	}
}
