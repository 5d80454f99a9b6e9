package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/retlab/retlab/internal/numtest"
)

// vecLens covers the 32-wide loop, the 8-wide loop and the scalar tail.
var vecLens = []int{0, 1, 3, 7, 8, 9, 15, 31, 32, 33, 40, 63, 64, 100, 257, 1000}

func TestDot(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, isa := range SupportedISAs() {
		withISA(t, isa)
		for _, n := range vecLens {
			x, y := numtest.Randn[float32](rng, n+1, 1)[1:], numtest.Randn[float32](rng, n, 1) // x unaligned
			got, want := Dot(x, y), DotNaive(x, y)
			var bound float64
			for i := range x {
				bound += math.Abs(float64(x[i]) * float64(y[i]))
			}
			if diff := math.Abs(float64(got - want)); diff > float64(n+2)*0x1p-23*bound {
				t.Errorf("%v n=%d: Dot = %g, want %g", isa, n, got, want)
			}
		}
	}
}

func TestAxpyScale(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for _, isa := range SupportedISAs() {
		withISA(t, isa)
		for _, n := range vecLens {
			for _, alpha := range []float32{0, 1, -2.5} {
				x := numtest.Randn[float32](rng, n+1, 1)[1:]
				y := numtest.Randn[float32](rng, n+2, 1) // sentinel after the end
				want := append([]float32(nil), y...)
				scale := make([]float32, len(y)) // |y| + |alpha x|: FMA rounds once, the loop twice
				for i := range scale {
					scale[i] = abs32(y[i])
					if i < n {
						scale[i] += abs32(alpha * x[i])
					}
				}
				Axpy(alpha, x, y[:n])
				AxpyNaive(alpha, x, want[:n])
				compareVec(t, fmt.Sprintf("%v Axpy(%g) n=%d", isa, alpha, n), y, want, scale, n)

				z := numtest.Randn[float32](rng, n+2, 1)
				want = append([]float32(nil), z...)
				Scale(alpha, z[:n])
				ScaleNaive(alpha, want[:n])
				compareVec(t, fmt.Sprintf("%v Scale(%g) n=%d", isa, alpha, n), z, want, absSlice(want), n)
			}
		}
	}
}

// compareVec allows two roundings relative to scale in the first n
// elements; those past n must be untouched.
func compareVec(t *testing.T, name string, got, want, scale []float32, n int) {
	t.Helper()
	for i := range got {
		tol := 0x1p-22 * float64(scale[i])
		if i >= n {
			tol = 0
		}
		if d := math.Abs(float64(got[i] - want[i])); d > tol {
			t.Fatalf("%s: [%d] = %g, want %g", name, i, got[i], want[i])
		}
	}
}

func BenchmarkDot(b *testing.B) {
	for _, n := range []int{128, 4096} {
		x, y := make([]float32, n), make([]float32, n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(int64(8 * n))
			for b.Loop() {
				Dot(x, y)
			}
		})
	}
}

// MulAbsSum on every path against the float64 loop: each element one
// product rounding of the plain loop, the sum within float32 summation error.
func TestMulAbsSum(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, isa := range SupportedISAs() {
		withISA(t, isa)
		for _, n := range vecLens {
			x, w := numtest.Randn[float32](rng, n+1, 1)[1:], numtest.Randn[float32](rng, n+3, 1)
			c := float32(0.37)
			want := append([]float32(nil), x...)
			var sum float64
			for i := range want {
				want[i] *= w[i] * c
				sum += math.Abs(float64(want[i]))
			}
			got := MulAbsSum(x, w, c)
			compareVec(t, fmt.Sprintf("%v MulAbsSum n=%d", isa, n), x, want, absSlice(want), n)
			if d := math.Abs(float64(got) - sum); d > float64(n+2)*0x1p-23*sum {
				t.Errorf("%v n=%d: MulAbsSum = %g, want %g", isa, n, got, sum)
			}
		}
	}
}
