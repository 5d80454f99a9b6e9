package retnet

import "math"

// Swish (SiLU) and GELU, the two FFN activations torchscale offers, with
// their derivatives for the backward pass. Computed in float64 internally.

func silu(x float32) float32 {
	return float32(float64(x) / (1 + math.Exp(-float64(x))))
}

// siluGrad is d silu(x)/dx = s (1 + x (1 - s)), s = sigmoid(x).
func siluGrad(x float32) float32 {
	s := 1 / (1 + math.Exp(-float64(x)))
	return float32(s * (1 + float64(x)*(1-s)))
}

// gelu is the exact (erf) GELU, torch's F.gelu default.
func gelu(x float32) float32 {
	v := float64(x)
	return float32(0.5 * v * (1 + math.Erf(v/math.Sqrt2)))
}

// geluGrad is d gelu(x)/dx = Phi(x) + x phi(x).
func geluGrad(x float32) float32 {
	v := float64(x)
	return float32(0.5*(1+math.Erf(v/math.Sqrt2)) + v*math.Exp(-0.5*v*v)/math.Sqrt(2*math.Pi))
}

// activation returns the function and derivative named by a config.
func activation(name string) (f, df func(float32) float32) {
	if name == "gelu" {
		return gelu, geluGrad
	}
	return silu, siluGrad
}
