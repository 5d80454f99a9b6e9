package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

// ExpScaled (AVX2 body, scalar tail) agrees with math.Exp to float32
// precision across the range, gives 0 below -87 and +Inf above 88 like
// Expf32, works in place and for every tail length.
func TestExpScaled(t *testing.T) {
	for _, isa := range SupportedISAs() {
		withISA(t, isa)
		testExpScaled(t)
	}
}

func testExpScaled(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 64, 1000} {
		for _, c := range []float32{1, -1, 0.5} {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(rng.Float64()*200 - 100)
				if i%5 == 0 {
					x[i] = float32(rng.NormFloat64() * 3)
				}
			}
			dst := make([]float32, n)
			ExpScaled(dst, x, c)
			for i, v := range x {
				y := c * v
				want := math.Exp(float64(y))
				got := float64(dst[i])
				switch {
				case y < -87:
					if got != 0 {
						t.Fatalf("n=%d c=%g exp(%g) = %g, want 0", n, c, y, got)
					}
				case y > 88:
					if !math.IsInf(got, 1) {
						t.Fatalf("n=%d c=%g exp(%g) = %g, want +Inf", n, c, y, got)
					}
				default:
					if math.Abs(got-want) > 3e-7*want {
						t.Fatalf("n=%d c=%g exp(%g) = %g, want %g (rel %.2g)", n, c, y, got, want, math.Abs(got-want)/want)
					}
				}
				if s := Expf32(y); math.Abs(float64(s)-got) > 3e-7*math.Abs(float64(s)) && !(math.IsInf(float64(s), 1) && math.IsInf(got, 1)) {
					t.Fatalf("exp(%g): vector %g, Expf32 %g", y, got, s)
				}
			}
			ExpScaled(x, x, c) // in place
			for i := range x {
				if x[i] != dst[i] {
					t.Fatalf("in place: element %d %g, want %g", i, x[i], dst[i])
				}
			}
		}
	}
}

// Expf32 against math.Exp over the range where exp is finite and not
// subnormal, and at its ends.
func TestExpf32(t *testing.T) {
	worst := 0.0
	for x := -87.0; x <= 0; x += 0.0137 {
		got, want := float64(Expf32(float32(x))), math.Exp(float64(float32(x)))
		worst = math.Max(worst, math.Abs(got-want)/want)
	}
	if worst > 3e-7 {
		t.Errorf("Expf32 relative error %g, want <= 3e-7", worst)
	}
	if Expf32(-100) != 0 || Expf32(0) != 1 {
		t.Errorf("Expf32(-100)=%g Expf32(0)=%g", Expf32(-100), Expf32(0))
	}
}

func BenchmarkExpScaled(b *testing.B) {
	x, dst := make([]float32, 4096), make([]float32, 4096)
	for i := range x {
		x[i] = float32(i%200) / 10
	}
	b.Run("vector", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			ExpScaled(dst, x, -1)
		}
		b.ReportMetric(float64(len(x))*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gexp/s")
	})
	b.Run("scalar", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for j, v := range x {
				dst[j] = Expf32(-v)
			}
		}
		b.ReportMetric(float64(len(x))*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gexp/s")
	})
}
