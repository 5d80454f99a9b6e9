package retnet

import (
	"math"

	"github.com/retlab/retlab/retnet/backend"
	"github.com/retlab/retlab/retnet/backend/cpu"
)

// Float is the element type of every layer kernel. Models run in float32;
// the same kernels instantiated with float64 are the "float64 path" the
// gradient checks compare against finite differences.
type Float interface{ ~float32 | ~float64 }

// matmul is the matrix product of the layers (row-major C = alpha op(A)
// op(B) + beta C): the current backend's Sgemm for float32, a plain loop for
// float64 (tests only). parallel=false keeps float32 work on the calling
// goroutine, for kernels that are themselves spread over cores.
func matmul[T Float](parallel, transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if a32, ok := any(a).([]float32); ok {
		b32, c32 := any(b).([]float32), any(c).([]float32)
		if parallel {
			backend.Current().Sgemm(transA, transB, m, n, k, float32(alpha), a32, lda, b32, ldb, float32(beta), c32, ldc)
		} else {
			cpu.SgemmSerial(transA, transB, m, n, k, float32(alpha), a32, lda, b32, ldb, float32(beta), c32, ldc)
		}
		return
	}
	matmulLoop(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// mulAbsSum sets x[i] *= w[i]*c and returns sum |x[i]|: cpu.MulAbsSum
// (one vectorised sweep) for float32, the plain loop for float64.
func mulAbsSum[T Float](x, w []T, c T) T {
	if x32, ok := any(x).([]float32); ok {
		return T(cpu.MulAbsSum(x32, any(w).([]float32), float32(c)))
	}
	var sum T
	for i := range x {
		x[i] *= w[i] * c
		sum += abs(x[i])
	}
	return sum
}

// matmulLoop is the plain product (the float64 path).
func matmulLoop[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s T
			for p := 0; p < k; p++ {
				var av, bv T
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += av * bv
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * s
			} else {
				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			}
		}
	}
}

// scale does x *= alpha.
func scale[T Float](alpha T, x []T) {
	if x32, ok := any(x).([]float32); ok {
		cpu.Scale(float32(alpha), x32)
		return
	}
	for i := range x {
		x[i] *= alpha
	}
}

// axpy does y += alpha x.
func axpy[T Float](alpha T, x, y []T) {
	if x32, ok := any(x).([]float32); ok {
		cpu.Axpy(float32(alpha), x32, any(y).([]float32))
		return
	}
	for i, v := range x {
		y[i] += alpha * v
	}
}

// dot is sum_i x_i y_i.
func dot[T Float](x, y []T) T {
	if x32, ok := any(x).([]float32); ok {
		return T(cpu.Dot(x32, any(y).([]float32)))
	}
	var s T
	for i, v := range x {
		s += v * y[i]
	}
	return s
}

func abs[T Float](x T) T {
	if x < 0 {
		return -x
	}
	return x
}

func sqrt[T Float](x T) T { return T(math.Sqrt(float64(x))) }

// addScaled does dst += alpha * src.
func addScaled[T Float](dst, src []T, alpha T) {
	for i, v := range src[:len(dst)] {
		dst[i] += alpha * v
	}
}

// expScaled sets dst[i] = exp(c*x[i]) (dst may be x): eight at a time with
// AVX2 for float32 (cpu.ExpScaled), math.Exp for float64.
func expScaled[T Float](dst, x []T, c T) {
	if x32, ok := any(x).([]float32); ok {
		cpu.ExpScaled(any(dst).([]float32), x32, float32(c))
		return
	}
	for i, v := range x {
		dst[i] = T(math.Exp(float64(c * v)))
	}
}

// maxOf is the largest element of x (len(x) > 0): cpu.Max's vector
// kernel for float32, four running maxima otherwise.
func maxOf[T Float](x []T) T {
	if x32, ok := any(x).([]float32); ok {
		return T(cpu.Max(x32))
	}
	m0 := x[0]
	m1, m2, m3 := m0, m0, m0
	j := 0
	for ; j+4 <= len(x); j += 4 {
		v := x[j : j+4 : j+4]
		m0, m1, m2, m3 = max(m0, v[0]), max(m1, v[1]), max(m2, v[2]), max(m3, v[3])
	}
	for ; j < len(x); j++ {
		m0 = max(m0, x[j])
	}
	return max(max(m0, m1), max(m2, m3))
}

// softmaxGrad sets d_j = p_j (d_j - c), a softmax row's backward pass
// (cpu.SoftmaxGrad for float32).
func softmaxGrad[T Float](d, p []T, c T) {
	if d32, ok := any(d).([]float32); ok {
		cpu.SoftmaxGrad(d32, any(p).([]float32), float32(c))
		return
	}
	for j, pv := range p[:len(d)] {
		d[j] = pv * (d[j] - c)
	}
}

// expShiftSum sets dst_j = exp(x_j - m) and returns sum_j dst_j: one pass
// of cpu.ExpShiftSum for float32 (summed in float32 lanes), math.Exp and a
// float64 sum otherwise. dst may be x.
func expShiftSum[T Float](dst, x []T, m T) float64 {
	if x32, ok := any(x).([]float32); ok {
		return float64(cpu.ExpShiftSum(any(dst).([]float32), x32, float32(m)))
	}
	var s float64
	for j, v := range x {
		e := math.Exp(float64(v - m))
		dst[j] = T(e)
		s += e
	}
	return s
}
