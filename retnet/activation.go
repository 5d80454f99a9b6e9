package retnet

import "math"

// Swish (SiLU) and GELU, the two FFN activations torchscale offers, with
// their derivatives for the backward pass. Swish also gates multi-scale
// retention. Its exponentials are computed a slice at a time (expScaled:
// eight lanes with AVX2 in float32); GELU, computed in float64, element by
// element.

// siluMul sets dst[i] = silu(x[i]) * mul[i], silu(x) = x / (1 + exp(-x)).
// dst must not be x or mul.
func siluMul[T Float](dst, x, mul []T) {
	expScaled(dst, x, -1)
	for i, v := range x {
		dst[i] = v / (1 + dst[i]) * mul[i]
	}
}

// sigmoid sets dst[i] = s = 1 / (1 + exp(-x[i])), from which the backward
// passes get silu(x) = x s and its derivative s (1 + x (1 - s)).
func sigmoid[T Float](dst, x []T) {
	expScaled(dst, x, -1)
	for i := range x {
		dst[i] = 1 / (1 + dst[i])
	}
}

// gelu is the exact (erf) GELU, torch's F.gelu default.
func gelu[T Float](x T) T {
	v := float64(x)
	return T(0.5 * v * (1 + math.Erf(v/math.Sqrt2)))
}

// geluGrad returns gelu(x) and its derivative Phi(x) + x phi(x).
func geluGrad[T Float](x T) (y, dy T) {
	v := float64(x)
	phi := 0.5 * (1 + math.Erf(v/math.Sqrt2))
	return T(v * phi), T(phi + v*math.Exp(-0.5*v*v)/math.Sqrt(2*math.Pi))
}
