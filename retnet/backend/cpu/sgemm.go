package cpu

// Sgemm computes C = alpha*op(A)*op(B) + beta*C (row-major), the fast path.
// It replaces SgemmNaive:
//
//	for i, j: C[i][j] = alpha * sum_p opA[i][p]*opB[p][j] + beta*C[i][j]
//
// It panics if a slice is too short for its dimensions and stride.
// TEMPORARY simple version: an i-p-j loop; the blocked, packed, multi-core
// kernel replaces it.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	for i := 0; i < m; i++ {
		crow := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(crow)
		} else if beta != 1 {
			for j := range crow {
				crow[j] *= beta
			}
		}
		for p := 0; p < k; p++ {
			var av float32
			if transA {
				av = a[p*lda+i]
			} else {
				av = a[i*lda+p]
			}
			av *= alpha
			if av == 0 {
				continue
			}
			if transB {
				for j := range crow {
					crow[j] += av * b[j*ldb+p]
				}
			} else {
				brow := b[p*ldb : p*ldb+n]
				for j, bv := range brow {
					crow[j] += av * bv
				}
			}
		}
	}
}
