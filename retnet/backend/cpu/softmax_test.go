package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Max and ExpShiftSum on every path the machine has, against float64
// oracles (math.Exp, a float64 sum, a scalar maximum), for every tail
// length, in place, and with x - m past exp's float32 range.
func TestSoftmaxKernels(t *testing.T) {
	for _, isa := range SupportedISAs() {
		withISA(t, isa)
		testSoftmaxKernels(t)
	}
}

func testSoftmaxKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	if m := Max(nil); !math.IsInf(float64(m), -1) {
		t.Fatalf("%s: Max(nil) = %g, want -Inf", isa, m)
	}
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 100, 1000, 2048} {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 8)
			if i%7 == 3 {
				x[i] = -200 // a masked score: exp gives 0
			}
		}
		if n > 0 {
			x[rng.IntN(n)] = 30 // the maximum somewhere, also in the tail
			want := math.Inf(-1)
			for _, v := range x {
				want = math.Max(want, float64(v))
			}
			if got := Max(x); float64(got) != want {
				t.Fatalf("%s n=%d: Max = %g, want %g", isa, n, got, want)
			}
		}
		for _, m := range []float32{30, 0, -100} { // -100: x - m up to 130 gives +Inf
			dst := make([]float32, n)
			s := ExpShiftSum(dst, x, m)
			var want float64
			for i, v := range x {
				y := v - m
				e := math.Exp(float64(y))
				switch {
				case y < -87:
					e = 0
				case y > 88:
					e = math.Inf(1)
				}
				if got := float64(dst[i]); got != e && math.Abs(got-e) > 3e-7*e {
					t.Fatalf("%s n=%d m=%g: exp(%g) = %g, want %g", isa, n, m, y, got, e)
				}
				want += e
			}
			if math.IsInf(want, 1) {
				if !math.IsInf(float64(s), 1) {
					t.Fatalf("%s n=%d m=%g: sum %g, want +Inf", isa, n, m, s)
				}
			} else if math.Abs(float64(s)-want) > 1e-6*want {
				t.Fatalf("%s n=%d m=%g: sum %g, want %g (rel %.2g)", isa, n, m, s, want, math.Abs(float64(s)-want)/want)
			}
			y := append([]float32(nil), x...)
			if s2 := ExpShiftSum(y, y, m); s2 != s {
				t.Fatalf("%s n=%d m=%g: in place sum %g, want %g", isa, n, m, s2, s)
			}
			for i := range y {
				if y[i] != dst[i] {
					t.Fatalf("%s n=%d: in place element %d %g, want %g", isa, n, i, y[i], dst[i])
				}
			}
		}
	}
}

// SoftmaxGrad on every path against the scalar formula (exact: one
// subtraction and one product either way), for every tail length.
func TestSoftmaxGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	for _, isa := range SupportedISAs() {
		withISA(t, isa)
		for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 33, 100} {
			d, p := make([]float32, n), make([]float32, n+3)
			for i := range p {
				p[i] = rng.Float32()
			}
			for i := range d {
				d[i] = float32(rng.NormFloat64())
			}
			want := make([]float32, n)
			for i := range d {
				want[i] = p[i] * (d[i] - 0.25)
			}
			SoftmaxGrad(d, p, 0.25)
			for i := range d {
				if d[i] != want[i] {
					t.Fatalf("%s n=%d: d[%d] = %g, want %g", isa, n, i, d[i], want[i])
				}
			}
		}
	}
}

func TestExpShiftSumPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("ExpShiftSum with a short dst did not panic")
		}
	}()
	ExpShiftSum(make([]float32, 3), make([]float32, 4), 0)
}

func BenchmarkSoftmaxRow(b *testing.B) {
	x := make([]float32, 2048)
	for i := range x {
		x[i] = float32(i%97) / 10
	}
	for _, isa := range SupportedISAs() {
		b.Run(isa.String(), func(b *testing.B) {
			withISA(b, isa)
			b.SetBytes(4 * int64(len(x)))
			for i := 0; i < b.N; i++ {
				m := Max(x)
				s := ExpShiftSum(x, x, m)
				Scale(1/s, x)
				x[i%len(x)] = float32(i % 13)
			}
		})
	}
}
