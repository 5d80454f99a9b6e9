package retnet

import "math"

// Swish (SiLU) and GELU, the two FFN activations torchscale offers, with
// their derivatives for the backward pass. Computed in float64 internally.

func silu[T Float](x T) T {
	return x / (1 + expf(-x))
}

// siluGrad is d silu(x)/dx = s (1 + x (1 - s)), s = sigmoid(x).
func siluGrad[T Float](x T) T {
	s := 1 / (1 + expf(-x))
	return s * (1 + x*(1-s))
}

// gelu is the exact (erf) GELU, torch's F.gelu default.
func gelu[T Float](x T) T {
	v := float64(x)
	return T(0.5 * v * (1 + math.Erf(v/math.Sqrt2)))
}

// geluGrad is d gelu(x)/dx = Phi(x) + x phi(x).
func geluGrad[T Float](x T) T {
	v := float64(x)
	return T(0.5*(1+math.Erf(v/math.Sqrt2)) + v*math.Exp(-0.5*v*v)/math.Sqrt(2*math.Pi))
}

// activation returns the function and derivative named by a config.
func activation[T Float](name string) (f, df func(T) T) {
	if name == "gelu" {
		return gelu[T], geluGrad[T]
	}
	return silu[T], siluGrad[T]
}
