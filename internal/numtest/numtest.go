// Package numtest holds the numeric helpers RetLab's tests share: the
// difference measures they assert on and seeded random inputs. It is
// imported by tests only.
package numtest

import (
	"math"
	"math/rand/v2"
)

// MaxAbsDiff is max_i |a[i] - b[i]|, formed in float64; +Inf when the
// lengths differ.
func MaxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}

// MaxAbs is max_i |x[i]|, formed in float64 (the scale a difference is
// reported against); NaN when x holds a NaN.
func MaxAbs(x []float32) float64 {
	var mx float64
	for _, v := range x {
		mx = max(mx, math.Abs(float64(v)))
	}
	return mx
}

// RelDiff is MaxAbsDiff(a, b) relative to the largest |b[i]| (the
// reference), so a tolerance reads as a fraction of the output's scale.
func RelDiff(a, b []float32) float64 {
	return MaxAbsDiff(a, b) / math.Max(MaxAbs(b), 1e-30)
}

// Randn returns n normal samples of standard deviation std from rng, as
// element type T (float32 for the kernels, float64 for gradient checks).
func Randn[T ~float32 | ~float64](rng *rand.Rand, n int, std float64) []T {
	x := make([]T, n)
	for i := range x {
		x[i] = T(rng.NormFloat64() * std)
	}
	return x
}
