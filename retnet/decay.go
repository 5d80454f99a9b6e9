package retnet

import (
	"fmt"
	"math"
)

// Decay schedules: how the per-head decay gamma_h is chosen.
const (
	// ScheduleTorchscale is torchscale's gamma_h = 1 - 2^(-5-h).
	ScheduleTorchscale = "torchscale"
	// SchedulePaper is the schedule of the paper's experiments:
	// gamma = 1 - exp(linspace(log 1/32, log 1/512, H)).
	SchedulePaper = "paper"
)

// Gammas returns the decay gamma_h of each of H heads under schedule, in
// float64. It panics on an unknown schedule or H < 1.
func Gammas(schedule string, H int) []float64 {
	if H < 1 {
		panic(fmt.Sprintf("retnet: Gammas with %d heads", H))
	}
	g := make([]float64, H)
	switch schedule {
	case ScheduleTorchscale, "":
		for h := range g {
			g[h] = 1 - math.Exp2(float64(-5-h))
		}
	case SchedulePaper:
		lo, hi := math.Log(1.0/32), math.Log(1.0/512)
		for h := range g {
			t := 0.0
			if H > 1 {
				t = float64(h) / float64(H-1)
			}
			g[h] = 1 - math.Exp(lo+t*(hi-lo))
		}
	default:
		panic(fmt.Sprintf("retnet: unknown decay schedule %q", schedule))
	}
	return g
}

// LogGammas returns log(gamma_h) as torchscale stores it in its `decay`
// buffer: gamma rounded to float32 first, so heads whose gamma rounds to 1
// get exactly 0 (no decay).
func LogGammas(schedule string, H int) []float32 {
	g := Gammas(schedule, H)
	out := make([]float32, H)
	for h, v := range g {
		out[h] = float32(math.Log(float64(float32(v))))
	}
	return out
}

// HalfLife is the distance d at which gamma^d falls to 1/2 (+Inf for gamma = 1).
func HalfLife(gamma float64) float64 {
	if gamma >= 1 {
		return math.Inf(1)
	}
	return math.Log(0.5) / math.Log(gamma)
}

// EffectiveMemory is sum_{d>=0} gamma^d = 1/(1-gamma): the number of past
// tokens a head effectively attends to (+Inf for gamma = 1).
func EffectiveMemory(gamma float64) float64 {
	if gamma >= 1 {
		return math.Inf(1)
	}
	return 1 / (1 - gamma)
}

// DecayMask writes the (N,N) decay matrix of one head into out:
// D[n][m] = gamma^(n-m) for n >= m, else 0; with normalized, each row is
// divided by sqrt of its sum, as the parallel form uses it. It panics if
// len(out) < N*N.
func DecayMask(out []float32 /* (N,N) */, logGamma float32, N int, normalized bool) {
	if len(out) < N*N {
		panic(fmt.Sprintf("retnet: DecayMask out has %d elements, need %d", len(out), N*N))
	}
	lg := float64(logGamma)
	for n := 0; n < N; n++ {
		row := out[n*N : (n+1)*N]
		sum := 0.0
		for m := 0; m <= n; m++ {
			v := float32(math.Exp(float64(n-m) * lg))
			row[m] = v
			sum += float64(v)
		}
		for m := n + 1; m < N; m++ {
			row[m] = 0
		}
		if normalized {
			s := float32(math.Sqrt(sum))
			for m := 0; m <= n; m++ {
				row[m] /= s
			}
		}
	}
}

// DecayMasks returns the (H,N,N) masks of every head of a schedule.
func DecayMasks(schedule string, H, N int, normalized bool) [][]float32 {
	lg := LogGammas(schedule, H)
	out := make([][]float32, H)
	for h := range out {
		out[h] = make([]float32, N*N)
		DecayMask(out[h], lg[h], N, normalized)
	}
	return out
}

// Angles returns torchscale's rotation buffer for key head dim dk (even):
// theta_i = 10000^(-i/(dk/2-1)), i = 0..dk/2-1, each repeated twice:
// [theta0, theta0, theta1, theta1, ...]. For dk = 2, theta0 = 1. Each step
// is rounded to float32 as torch's float32 linspace and pow round it
// (linspace: i*step in the first half, 1-(n-1-i)*step in the second).
func Angles(dk int) []float32 {
	if dk < 2 || dk%2 != 0 {
		panic(fmt.Sprintf("retnet: Angles with odd or tiny head dim %d", dk))
	}
	half := dk / 2
	out := make([]float32, dk)
	for i := 0; i < half; i++ {
		var e float32
		if half > 1 {
			step := float32(1.0 / float64(half-1))
			if i < half/2 {
				e = float32(float64(i) * float64(step))
			} else {
				e = float32(1 - float64(float32(float64(half-1-i)*float64(step))))
			}
		}
		th := float32(1 / float64(float32(math.Pow(10000, float64(e)))))
		out[2*i], out[2*i+1] = th, th
	}
	return out
}
