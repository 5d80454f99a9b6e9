package cpu

import (
	"fmt"
	"math"
)

// A softmax row p = exp(x - max x) / sum exp(x - max x) takes three
// passes with these two kernels instead of five (max, subtract, exp, sum,
// scale):
//
//	m := cpu.Max(row)
//	s := cpu.ExpShiftSum(row, row, m)
//	cpu.Scale(1/s, row)
//
// and the log-sum-exp of the row, which attention keeps for its backward
// pass, is m + log(s).

// Max returns the largest element of x, or -Inf for an empty x. A NaN in x
// may or may not be returned (the vector paths follow VMAXPS).
func Max(x []float32) float32 {
	if len(x) == 0 {
		return float32(math.Inf(-1))
	}
	i, m := 0, x[0]
	switch {
	case isa == AVX512:
		return maxAVX512(x)
	case isa == AVX2 && len(x) >= 8:
		m = maxAVX2(x)
		i = len(x) &^ 7
	}
	for ; i < len(x); i++ {
		if x[i] > m {
			m = x[i]
		}
	}
	return m
}

// ExpShiftSum sets dst[i] = exp(x[i] - m) as Expf32 computes it and
// returns the sum of the dst[i] (accumulated in float32 vector lanes, so
// the order of the additions depends on the path; relative error of the
// sum about len(x)/16 * 6e-8). dst may be x. It panics if dst is shorter
// than x.
func ExpShiftSum(dst, x []float32, m float32) float32 {
	if len(dst) < len(x) {
		panic(fmt.Sprintf("cpu: ExpShiftSum dst has %d elements, x %d", len(dst), len(x)))
	}
	i, s := 0, float32(0)
	switch {
	case isa == AVX512:
		return expShiftSumAVX512(dst, x, m)
	case isa == AVX2 && len(x) >= 8:
		s = expShiftSumAVX2(dst, x, m)
		i = len(x) &^ 7
	}
	for ; i < len(x); i++ {
		dst[i] = Expf32(x[i] - m)
		s += dst[i]
	}
	return s
}

// SoftmaxGrad sets d[i] = p[i] * (d[i] - c): the backward pass of a
// softmax row p, where d holds dL/dp on entry and c = sum_j p_j dL/dp_j,
// leaves dL/dx in d. It panics if p is shorter than d.
func SoftmaxGrad(d, p []float32, c float32) {
	if len(p) < len(d) {
		panic(fmt.Sprintf("cpu: SoftmaxGrad p has %d elements, d %d", len(p), len(d)))
	}
	i := 0
	switch {
	case isa == AVX512:
		softmaxGradAVX512(d, p, c)
		return
	case isa == AVX2:
		softmaxGradAVX2(d, p, c)
		i = len(d) &^ 7
	}
	for ; i < len(d); i++ {
		d[i] = p[i] * (d[i] - c)
	}
}
