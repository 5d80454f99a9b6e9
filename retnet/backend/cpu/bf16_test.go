package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/retlab/retlab/internal/numtest"
)

// bf16Oracle rounds f to 8 significant bits, ties to even, in float64
// arithmetic: an independent statement of what BF16From must give for
// normal numbers.
func bf16Oracle(f float32) float32 {
	if f == 0 || math.IsInf(float64(f), 0) {
		return f
	}
	frac, exp := math.Frexp(float64(f)) // f = frac * 2^exp, 0.5 <= |frac| < 1
	scaled := math.RoundToEven(frac * 256)
	return float32(math.Ldexp(scaled/256, exp))
}

func TestBF16From(t *testing.T) {
	for _, tc := range []struct {
		f    float32
		want uint16
	}{
		{1, 0x3f80}, {-2, 0xc000}, {0, 0}, {float32(math.Inf(1)), 0x7f80},
		{1 + 0x1p-8, 0x3f80},           // tie: to even (down)
		{1 + 3*0x1p-8, 0x3f82},         // tie: to even (up)
		{1 + 0x1p-8 + 0x1p-20, 0x3f81}, // just above the tie
		{math.MaxFloat32, 0x7f80},      // past the largest bfloat16: +Inf
	} {
		if got := BF16From(tc.f); uint16(got) != tc.want {
			t.Errorf("BF16From(%g) = %#04x, want %#04x", tc.f, uint16(got), tc.want)
		}
	}
	if nan := BF16From(float32(math.NaN())).Float32(); !math.IsNaN(float64(nan)) {
		t.Errorf("BF16From(NaN) = %g", nan)
	}
	rng := rand.New(rand.NewPCG(31, 32))
	for range 100000 {
		f := float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(20)-10)))
		if got, want := BF16From(f).Float32(), bf16Oracle(f); got != want {
			t.Fatalf("BF16From(%g) = %g, oracle %g", f, got, want)
		}
	}
}

// LinearBF16 on every supported path against float64 oracles: the
// documented bounds, for rows 1..5 (the two-row kernel and a single last
// row), k below, at and past multiples of 32 (the masked tail), n not a
// multiple of 4 (the widening fallback) and padded strides.
func TestLinearBF16(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	for _, isa := range SupportedISAs() {
		withISA(t, isa)
		for _, d := range [][3]int{{1, 7, 1}, {1, 64, 32}, {2, 13, 31}, {3, 40, 33}, {5, 77, 100}, {4, 1030, 512}, {1, 4096, 96}, {2, 9, 0}} {
			m, n, k := d[0], d[1], d[2]
			ldx, ldw, ldy := k+3, k+5, n+2
			x, y := numtest.Randn[float32](rng, m*ldx, 1), numtest.Randn[float32](rng, m*ldy, 1)
			w := make([]BF16, n*ldw)
			for i := range w {
				w[i] = BF16From(float32(rng.NormFloat64()))
			}
			sentinel := append([]float32(nil), y...)
			LinearBF16(m, n, k, x, ldx, w, ldw, y, ldy)
			for i := 0; i < m; i++ {
				for j := 0; j < ldy; j++ {
					got := float64(y[i*ldy+j])
					if j >= n {
						if y[i*ldy+j] != sentinel[i*ldy+j] {
							t.Fatalf("%v %v: y[%d][%d] outside the window changed", isa, d, i, j)
						}
						continue
					}
					var exact, rounded, absSum, absSumB float64
					for p := 0; p < k; p++ {
						xv, wv := float64(x[i*ldx+p]), float64(w[j*ldw+p].Float32())
						xb := float64(BF16From(x[i*ldx+p]).Float32())
						exact += xv * wv
						rounded += xb * wv
						absSum += math.Abs(xv * wv)
						absSumB += math.Abs(xb * wv)
					}
					sumTol := 2 * float64(k+2) * 0x1p-24 * absSumB
					if math.Abs(got-rounded) > sumTol+1e-30 {
						t.Fatalf("%v %v: y[%d][%d] = %g, bf16(x) W^T = %g (tol %g)", isa, d, i, j, got, rounded, sumTol)
					}
					if tol := 0x1p-8*absSum + sumTol; math.Abs(got-exact) > tol+1e-30 {
						t.Fatalf("%v %v: y[%d][%d] = %g, float32 x W^T = %g (tol %g)", isa, d, i, j, got, exact, tol)
					}
				}
			}
		}
	}
}

func TestLinearBF16Panics(t *testing.T) {
	defer func() {
		if r, _ := recover().(string); r != "cpu: LinearBF16 W has 5 elements, (2 x 3, ld 3) needs 6" {
			t.Fatalf("panic %q", r)
		}
	}()
	LinearBF16(1, 2, 3, make([]float32, 3), 3, make([]BF16, 5), 3, make([]float32, 2), 2)
}

// BenchmarkLinearBF16 is a decode step's x W^T with bfloat16 weights beside
// the same product in float32 (Sgemm), for B rows: the memory read halves.
func BenchmarkLinearBF16(b *testing.B) {
	for _, s := range [][2]int{{4096, 4096}, {1024, 512}} {
		n, k := s[0], s[1]
		for _, m := range []int{1, 8} {
			x, y := make([]float32, m*k), make([]float32, m*n)
			wf := make([]float32, n*k)
			wb := make([]BF16, n*k)
			for i := range wf {
				wf[i] = float32(i%7) - 3
				wb[i] = BF16From(wf[i])
			}
			report := func(b *testing.B) {
				b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			}
			b.Run(fmt.Sprintf("bf16/m=%d/n=%d/k=%d", m, n, k), func(b *testing.B) {
				for b.Loop() {
					LinearBF16(m, n, k, x, k, wb, k, y, n)
				}
				report(b)
			})
			b.Run(fmt.Sprintf("f32/m=%d/n=%d/k=%d", m, n, k), func(b *testing.B) {
				for b.Loop() {
					Sgemm(false, true, m, n, k, 1, x, k, wf, k, 0, y, n)
				}
				report(b)
			})
		}
	}
}
