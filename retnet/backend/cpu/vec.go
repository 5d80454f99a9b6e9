package cpu

import (
	"fmt"
	"math"
)

// Dot returns sum_i x[i]*y[i], accumulated in float32 (8 or 16 lanes at a time
// on AVX2 / AVX-512, so the rounding differs from a left-to-right sum).
// It panics if len(x) != len(y).
func Dot(x, y []float32) float32 {
	if len(x) != len(y) {
		panic(fmt.Sprintf("cpu: Dot length mismatch %d != %d", len(x), len(y)))
	}
	switch isa {
	case AVX512:
		return dotAVX512(x, y)
	case AVX2:
		return dotAVX2(x, y)
	}
	return dotGo(x, y)
}

// Axpy adds alpha*x to y in place: y[i] += alpha*x[i].
// It panics if len(x) != len(y).
func Axpy(alpha float32, x, y []float32) {
	if len(x) != len(y) {
		panic(fmt.Sprintf("cpu: Axpy length mismatch %d != %d", len(x), len(y)))
	}
	switch isa {
	case AVX512:
		axpyAVX512(alpha, x, y)
		return
	case AVX2:
		axpyAVX2(alpha, x, y)
		return
	}
	axpyGo(alpha, x, y)
}

// Scale multiplies x by alpha in place: x[i] *= alpha.
func Scale(alpha float32, x []float32) {
	switch isa {
	case AVX512:
		scaleAVX512(alpha, x)
		return
	case AVX2:
		scaleAVX2(alpha, x)
		return
	}
	scaleGo(alpha, x)
}

// DotNaive is the plain loop Dot is tested against, accumulated in float64.
// It panics if len(x) != len(y).
func DotNaive(x, y []float32) float32 {
	if len(x) != len(y) {
		panic(fmt.Sprintf("cpu: DotNaive length mismatch %d != %d", len(x), len(y)))
	}
	var s float64
	for i := range x {
		s += float64(x[i]) * float64(y[i])
	}
	return float32(s)
}

// AxpyNaive is the plain loop Axpy is tested against: y[i] += alpha*x[i].
// It panics if len(x) != len(y).
func AxpyNaive(alpha float32, x, y []float32) {
	if len(x) != len(y) {
		panic(fmt.Sprintf("cpu: AxpyNaive length mismatch %d != %d", len(x), len(y)))
	}
	for i := range x {
		y[i] += alpha * x[i]
	}
}

// ScaleNaive is the plain loop Scale is tested against: x[i] *= alpha.
func ScaleNaive(alpha float32, x []float32) {
	for i := range x {
		x[i] *= alpha
	}
}

// dotGo is the portable Dot: four float32 accumulators, so the compiler can
// overlap the multiply-adds.
func dotGo(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// axpyGo is the portable Axpy.
func axpyGo(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

// scaleGo is the portable Scale.
func scaleGo(alpha float32, x []float32) {
	for i := range x {
		x[i] *= alpha
	}
}

// MulAbsSum scales x elementwise by w times c and returns the sum of the
// magnitudes of the result, in one pass:
//
//	x[i] = x[i] * (w[i]*c);  return sum_i |x[i]|
//
// (the parallel retention form's decay mask, normalisation and row sum of
// |S| in one sweep of the row). The sum is float32, 16 lanes at a time on
// AVX-512 (so its rounding differs from a left-to-right loop). It panics if
// w is shorter than x.
func MulAbsSum(x, w []float32, c float32) float32 {
	if len(w) < len(x) {
		panic(fmt.Sprintf("cpu: MulAbsSum w has %d elements, x %d", len(w), len(x)))
	}
	if isa == AVX512 {
		return mulAbsSumAVX512(x, w, c)
	}
	return mulAbsSumGo(x, w, c)
}

// mulAbsSumGo is the portable MulAbsSum (the plain loop, four partial sums).
func mulAbsSumGo(x, w []float32, c float32) float32 {
	w = w[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		a, b, d, e := x[i]*(w[i]*c), x[i+1]*(w[i+1]*c), x[i+2]*(w[i+2]*c), x[i+3]*(w[i+3]*c)
		x[i], x[i+1], x[i+2], x[i+3] = a, b, d, e
		s0 += abs32f(a)
		s1 += abs32f(b)
		s2 += abs32f(d)
		s3 += abs32f(e)
	}
	for ; i < len(x); i++ {
		x[i] *= w[i] * c
		s0 += abs32f(x[i])
	}
	return (s0 + s1) + (s2 + s3)
}

func abs32f(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }
