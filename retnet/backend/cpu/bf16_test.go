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
// documented bounds. The few-row products (dotRows4BF16): rows 1..5 (the
// two-row kernel and a single last row), k below, at and past multiples of
// 32 (the masked tail), n not a multiple of 4 (the widening fallback). The
// packed ones: partial register tiles, odd k (a half pair), several depth
// blocks and row blocks at small and at the default block sizes, on one
// thread and two. Every case runs both ways: on the row kernels and
// packed (packedRows moved to 1). All with padded strides, even
// and odd (the aligned-word packing and the plain loop), and W starting
// at an odd element (unaligned pairs).
func TestLinearBF16(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	few := [][3]int{{1, 7, 1}, {1, 64, 32}, {2, 13, 31}, {3, 40, 33}, {5, 77, 100}, {4, 1030, 512}, {1, 4096, 96}, {2, 9, 0}}
	packed := [][3]int{{16, 32, 64}, {17, 70, 33}, {30, 100, 1030}, {150, 45, 300}, {16, 9, 0}}
	oldDot, oldWiden := packedRowsDot, packedRowsWiden
	t.Cleanup(func() { packedRowsDot, packedRowsWiden = oldDot, oldWiden })
	for _, p := range bf16Paths() {
		for _, blocks := range [][3]int{{8, 24, 64}, {kcBlock, mcBlock, ncBlock}} {
			t.Run(fmt.Sprintf("%v/kc%d", p, blocks[0]), func(t *testing.T) {
				withISA(t, p.isa)
				withBF16Dot(t, p.dot)
				withBlocks(t, blocks[0], blocks[1], blocks[2])
				old := bf16NC
				bf16NC = min(bf16NC, blocks[2])
				t.Cleanup(func() { bf16NC = old })
				for _, th := range [][2]int{{1, 1}, {1, 1 << 30}, {2, 1}, {2, 1 << 30}} {
					withThreads(t, th[0])
					packedRowsDot, packedRowsWiden = th[1], th[1]
					for _, d := range append(few, packed...) {
						for _, pad := range [][2]int{{3, 5}, {2, 2}} {
							checkLinearBF16Case(t, rng, d[0], d[1], d[2], d[2]+pad[0], d[2]+d[2]%2+pad[1], d[1]+2, pad[1]%2)
						}
					}
				}
			})
		}
	}
}

// checkLinearBF16Case runs one LinearBF16 (W at element woff of its
// slice) and checks every element of y against float64 sums: within
// float32 summation error of bf16(x) W^T, within that plus the rounding of
// x of x W^T, and untouched outside the window.
func checkLinearBF16Case(t *testing.T, rng *rand.Rand, m, n, k, ldx, ldw, ldy, woff int) {
	t.Helper()
	x, y := numtest.Randn[float32](rng, m*ldx, 1), numtest.Randn[float32](rng, m*ldy, 1)
	wbuf := make([]BF16, woff+n*ldw)
	for i := range wbuf {
		wbuf[i] = BF16From(float32(rng.NormFloat64()))
	}
	w := wbuf[woff:]
	sentinel := append([]float32(nil), y...)
	LinearBF16(m, n, k, x, ldx, w, ldw, y, ldy)
	for i := 0; i < m; i++ {
		for j := 0; j < ldy; j++ {
			got := float64(y[i*ldy+j])
			if j >= n {
				if y[i*ldy+j] != sentinel[i*ldy+j] {
					t.Fatalf("m=%d n=%d k=%d ldw=%d: y[%d][%d] outside the window changed", m, n, k, ldw, i, j)
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
				t.Fatalf("m=%d n=%d k=%d ldw=%d: y[%d][%d] = %g, bf16(x) W^T = %g (tol %g)", m, n, k, ldw, i, j, got, rounded, sumTol)
			}
			if tol := 0x1p-8*absSum + sumTol; math.Abs(got-exact) > tol+1e-30 {
				t.Fatalf("m=%d n=%d k=%d ldw=%d: y[%d][%d] = %g, float32 x W^T = %g (tol %g)", m, n, k, ldw, i, j, got, exact, tol)
			}
		}
	}
}

// bf16Path is one path of the bfloat16 products: an ISA, and on AVX512
// whether AVX512_BF16 dot products run.
type bf16Path struct {
	isa ISA
	dot bool
}

func (p bf16Path) String() string {
	if p.dot {
		return p.isa.String() + "/dot"
	}
	return p.isa.String() + "/widen"
}

// bf16Paths lists every path of the bfloat16 products this machine runs.
func bf16Paths() []bf16Path {
	var out []bf16Path
	for _, i := range SupportedISAs() {
		out = append(out, bf16Path{i, false})
		if i == AVX512 && hasBF16 {
			out = append(out, bf16Path{i, true})
		}
	}
	return out
}

func withBF16Dot(t testing.TB, on bool) {
	t.Helper()
	old, err := SetBF16Dot(on)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { SetBF16Dot(old) })
}

// SetBF16Dot refuses what the CPU cannot run and can always turn the dot
// products off.
func TestSetBF16Dot(t *testing.T) {
	withBF16Dot(t, false)
	if HasBF16Dot() {
		t.Fatal("HasBF16Dot after SetBF16Dot(false)")
	}
	_, err := SetBF16Dot(true)
	if hasBF16 != (err == nil) {
		t.Fatalf("SetBF16Dot(true) on a CPU with AVX512_BF16 %v: err %v", hasBF16, err)
	}
	if want := hasBF16 && isa == AVX512; HasBF16Dot() != want {
		t.Fatalf("HasBF16Dot() = %v, want %v", HasBF16Dot(), want)
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

// BenchmarkLinearBF16 is x W^T with bfloat16 weights for m rows (tokens):
// 1, 4, 8 (decode steps, the few-row kernel) and 16 to 512 (prefill and
// scoring, the packed one), on each path: "dot" (AVX512_BF16, where the CPU
// has it), "widen" (LinearBF16 without it: W widened to float32), "exact"
// (SgemmBF16W: float32 activations, what the models run with
// SetBF16Activations(false)) and "f32" (Sgemm on float32 weights, the
// product without bfloat16). The first shape is the MLP of the 1.3B
// configurations (5632 x 2048), where a decode step spends most of its
// time. Each iteration takes the next of enough copies of W to exceed a 32
// MiB L3, so W streams from memory as in decoding a model of gigabytes;
// GB/s counts the weight bytes read per product.
func BenchmarkLinearBF16(b *testing.B) {
	for _, s := range [][2]int{{5632, 2048}, {2048, 2048}} {
		n, k := s[0], s[1]
		copies := max(2, ceilDiv(96<<20, 2*n*k)) // bfloat16 copies, > L3
		wb := make([][]BF16, copies)
		wf := make([][]float32, copies)
		for c := range wb {
			wb[c] = make([]BF16, n*k)
			for i := range wb[c] {
				wb[c][i] = BF16From(float32((i+c)%97-48) / 64)
			}
			wf[c] = make([]float32, n*k)
			FromBF16(wf[c], wb[c])
		}
		for _, m := range []int{1, 4, 8, 16, 32, 128, 512} {
			x, y := make([]float32, m*k), make([]float32, m*n)
			for i := range x {
				x[i] = float32(i%13-6) / 8
			}
			run := func(b *testing.B, bytesPerWeight int, f func(c int)) {
				f(0)
				c := 0
				for b.Loop() {
					c = (c + 1) % copies
					f(c)
				}
				sec := b.Elapsed().Seconds()
				b.ReportMetric(2*float64(m*n*k)*float64(b.N)/sec/1e9, "GFLOP/s")
				b.ReportMetric(float64(bytesPerWeight*n*k)*float64(b.N)/sec/1e9, "GB/s")
			}
			name := fmt.Sprintf("m=%d/n=%d/k=%d", m, n, k)
			for _, dot := range []bool{true, false} {
				path := map[bool]string{true: "dot", false: "widen"}[dot]
				b.Run(path+"/"+name, func(b *testing.B) {
					if dot && !hasBF16 {
						b.Skip("no AVX512_BF16")
					}
					withBF16Dot(b, dot)
					run(b, 2, func(c int) { LinearBF16(m, n, k, x, k, wb[c], k, y, n) })
				})
			}
			if m > 8 {
				b.Run("exact/"+name, func(b *testing.B) {
					run(b, 2, func(c int) { SgemmBF16W(m, n, k, x, k, wb[c], k, y, n) })
				})
			}
			b.Run("f32/"+name, func(b *testing.B) {
				run(b, 4, func(c int) { Sgemm(false, true, m, n, k, 1, x, k, wf[c], k, 0, y, n) })
			})
		}
	}
}
