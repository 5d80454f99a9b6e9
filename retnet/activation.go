package retnet

import "math"

// Swish (SiLU) and GELU, the two FFN activations torchscale offers, with
// their derivatives for the backward pass. Computed in float64 internally.

func silu[T Float](x T) T {
	return x / (1 + expf(-x))
}

// siluGrad returns silu(x) and its derivative s (1 + x (1 - s)),
// s = sigmoid(x), from one exponential (the backward pass needs both).
func siluGrad[T Float](x T) (y, dy T) {
	s := 1 / (1 + expf(-x))
	return x * s, s * (1 + x*(1-s))
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

// activation returns the function named by a config, and the function
// giving its value and derivative together.
func activation[T Float](name string) (f func(T) T, fdf func(T) (T, T)) {
	if name == "gelu" {
		return gelu[T], geluGrad[T]
	}
	return silu[T], siluGrad[T]
}
