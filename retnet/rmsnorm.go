package retnet

import (
	"fmt"
	"math"

	"github.com/retlab/retlab/internal/parallel"
)

// RMSNormForward normalises each of N rows of width C by its root mean square:
// out = x / sqrt(mean(x^2) + eps) (.) w. It stores 1/sqrt(mean(x^2)+eps) per
// row in rstd for the backward pass. w == nil means no affine weight (the
// group norm). It panics if a slice is too short.
func RMSNormForward[T Float](out []T /* (N,C) */, rstd []T /* (N) */, x []T /* (N,C) */, w []T /* (C) or nil */, N, C int, eps float64) {
	if len(out) < N*C || len(x) < N*C || len(rstd) < N || (w != nil && len(w) < C) {
		panic(fmt.Sprintf("retnet: RMSNormForward slices too short for N=%d C=%d", N, C))
	}
	forRowBlocks(N, C, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			xi := x[i*C : (i+1)*C]
			oi := out[i*C : (i+1)*C]
			r := T(1 / math.Sqrt(sumSquares(xi)/float64(C)+eps))
			rstd[i] = r
			if w == nil {
				for j, v := range xi {
					oi[j] = v * r
				}
			} else {
				for j, v := range xi {
					oi[j] = v * r * w[j]
				}
			}
		}
	})
}

// RMSNormBackward adds the gradients of RMSNormForward: with xh = x*rstd,
// out = xh (.) w, it adds dx += rstd * (dout(.)w - xh * mean(dout(.)w(.)xh))
// and dw += sum_rows dout (.) xh (dw ignored when w is nil).
func RMSNormBackward[T Float](dx []T /* (N,C) */, dw []T /* (C) */, dout []T /* (N,C) */, x []T /* (N,C) */, w []T /* (C) or nil */, rstd []T /* (N) */, N, C int) {
	// dx: rows are independent, split by rows.
	forRowBlocks(N, C, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			xi := x[i*C : (i+1)*C]
			gi := dout[i*C : (i+1)*C]
			dxi := dx[i*C : (i+1)*C]
			r := rstd[i]
			m := T(normDot(gi, w, xi, r) / float64(C))
			for j, v := range xi {
				g := gi[j]
				if w != nil {
					g *= w[j]
				}
				dxi[j] += r * (g - v*r*m)
			}
		}
	})
	if w == nil {
		return
	}
	// dw: a sum over rows, split by columns so that each dw[j] is still
	// summed over the rows in order (the same bits on any thread count).
	cols := C
	if N*C >= 2*rowBlockElems {
		cols = max(8, C/4)
	}
	parallel.For((C+cols-1)/cols, func(_, b int) {
		c0, c1 := b*cols, min(C, (b+1)*cols)
		dwb := dw[c0:c1]
		for i := 0; i < N; i++ {
			r := rstd[i]
			gi, xi := dout[i*C+c0:i*C+c1], x[i*C+c0:i*C+c1]
			for j, v := range xi {
				dwb[j] += gi[j] * v * r
			}
		}
	})
}

// sumSquares is sum_j x_j^2 in float64, four partial sums (a chain of
// dependent float64 adds was the norm's bottleneck).
func sumSquares[T Float](x []T) float64 {
	var s0, s1, s2, s3 float64
	j := 0
	for ; j+4 <= len(x); j += 4 {
		v := x[j : j+4 : j+4]
		s0 += float64(v[0]) * float64(v[0])
		s1 += float64(v[1]) * float64(v[1])
		s2 += float64(v[2]) * float64(v[2])
		s3 += float64(v[3]) * float64(v[3])
	}
	for ; j < len(x); j++ {
		s0 += float64(x[j]) * float64(x[j])
	}
	return (s0 + s1) + (s2 + s3)
}

// normDot is sum_j (g_j w_j) (x_j r) in float64 (w nil: w_j = 1), the
// projection term of RMSNormBackward, four partial sums.
func normDot[T Float](g, w, x []T, r T) float64 {
	var s0, s1, s2, s3 float64
	n := len(x)
	g = g[:n]
	if w == nil {
		j := 0
		for ; j+4 <= n; j += 4 {
			s0 += float64(g[j]) * float64(x[j]*r)
			s1 += float64(g[j+1]) * float64(x[j+1]*r)
			s2 += float64(g[j+2]) * float64(x[j+2]*r)
			s3 += float64(g[j+3]) * float64(x[j+3]*r)
		}
		for ; j < n; j++ {
			s0 += float64(g[j]) * float64(x[j]*r)
		}
		return (s0 + s1) + (s2 + s3)
	}
	w = w[:n]
	j := 0
	for ; j+4 <= n; j += 4 {
		s0 += float64(g[j]*w[j]) * float64(x[j]*r)
		s1 += float64(g[j+1]*w[j+1]) * float64(x[j+1]*r)
		s2 += float64(g[j+2]*w[j+2]) * float64(x[j+2]*r)
		s3 += float64(g[j+3]*w[j+3]) * float64(x[j+3]*r)
	}
	for ; j < n; j++ {
		s0 += float64(g[j]*w[j]) * float64(x[j]*r)
	}
	return (s0 + s1) + (s2 + s3)
}
