package retnet

import (
	"math"
	"math/rand/v2"
)

// initializer fills weights the way torchscale (and torch) initialise them,
// drawing every value from one seeded stream and rounding it to float32, so
// float32 and float64 models built from one seed hold the same numbers.
type initializer[T Float] struct{ rng *rand.Rand }

func newInitializer[T Float](seed, stream uint64) initializer[T] {
	return initializer[T]{rand.New(rand.NewPCG(seed, stream))}
}

// xavier is torch's xavier_uniform_: U(+-gain sqrt(6/(fan_in+fan_out))).
func (in initializer[T]) xavier(w []T, fanOut, fanIn, gain float64) {
	in.uniformBound(w, gain*math.Sqrt(6/(fanIn+fanOut)))
}

// linear is torch's default nn.Linear init: U(+-1/sqrt(fan_in)).
func (in initializer[T]) linear(w []T, fanIn float64) { in.uniformBound(w, 1/math.Sqrt(fanIn)) }

func (in initializer[T]) uniformBound(w []T, b float64) {
	for i := range w {
		w[i] = T(float32((in.rng.Float64()*2 - 1) * b))
	}
}

// normal draws N(0, std^2).
func (in initializer[T]) normal(w []T, std float64) {
	for i := range w {
		w[i] = T(float32(in.rng.NormFloat64() * std))
	}
}

// ones sets every weight to 1 (norm gains).
func (in initializer[T]) ones(w []T) {
	for i := range w {
		w[i] = 1
	}
}

// workerScratch returns n per-worker buffers of at least size elements each,
// growing *work as needed (kernels spread over cores by parallel.For).
func workerScratch[T Float](work *[][]T, n, size int) [][]T {
	if len(*work) < n {
		*work = append(*work, make([][]T, n-len(*work))...)
	}
	for i := 0; i < n; i++ {
		if len((*work)[i]) < size {
			(*work)[i] = make([]T, size)
		}
	}
	return *work
}
