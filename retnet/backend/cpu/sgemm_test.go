package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/retlab/retlab/internal/numtest"
)

// gemmCase is one Sgemm call: shapes, transposes, extra stride, scalars.
type gemmCase struct {
	transA, transB bool
	m, n, k        int
	pad            int // added to every leading dimension
	alpha, beta    float32
}

func (tc gemmCase) String() string {
	return fmt.Sprintf("tA=%v tB=%v m=%d n=%d k=%d pad=%d alpha=%g beta=%g",
		tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.pad, tc.alpha, tc.beta)
}

// sentinel fills C outside the m x n window; Sgemm must leave it alone.
const sentinel = float32(-12345.5)

// checkCase runs Sgemm on random operands and compares with SgemmNaive. The
// tolerance is relative to k: |err| <= 2(k+2) eps * (|alpha| sum_p |a||b| +
// |beta c|), the bound computed by SgemmNaive on absolute values.
func checkCase(t *testing.T, rng *rand.Rand, tc gemmCase) {
	t.Helper()
	ar, ac := tc.m, tc.k
	if tc.transA {
		ar, ac = tc.k, tc.m
	}
	br, bc := tc.k, tc.n
	if tc.transB {
		br, bc = tc.n, tc.k
	}
	lda, ldb, ldc := ac+tc.pad, bc+tc.pad, tc.n+tc.pad
	a := numtest.Randn[float32](rng, ar*lda, 1)
	b := numtest.Randn[float32](rng, br*ldb, 1)
	c := make([]float32, tc.m*ldc+tc.pad) // tail beyond the last row too
	for i := range c {
		c[i] = sentinel
	}
	c0 := numtest.Randn[float32](rng, len(c), 1)
	for i := 0; i < tc.m; i++ {
		for j := 0; j < tc.n; j++ {
			c[i*ldc+j] = c0[i*ldc+j]
			if tc.beta == 0 && (i+j)%3 == 0 {
				c[i*ldc+j] = float32(math.NaN()) // beta == 0 must overwrite NaN
			}
		}
	}
	want := append([]float32(nil), c...)
	SgemmNaive(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, want, ldc)
	bound := append([]float32(nil), c...)
	for i := range bound {
		bound[i] = abs32(bound[i])
	}
	SgemmNaive(tc.transA, tc.transB, tc.m, tc.n, tc.k, abs32(tc.alpha), absSlice(a), lda, absSlice(b), ldb, abs32(tc.beta), bound, ldc)

	Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)

	eps := float64(2*(tc.k+2)) * 0x1p-23
	bad := 0
	for idx := range c {
		i, j := idx/ldc, idx%ldc
		if i >= tc.m || j >= tc.n {
			if c[idx] != sentinel {
				t.Fatalf("%v: C[%d] (row %d col %d) outside the window changed to %g", tc, idx, i, j, c[idx])
			}
			continue
		}
		diff := math.Abs(float64(c[idx]) - float64(want[idx]))
		if !(diff <= eps*float64(bound[idx])+1e-30) {
			if bad++; bad <= 3 {
				t.Errorf("%v: C[%d][%d] = %g, want %g (bound %g)", tc, i, j, c[idx], want[idx], eps*float64(bound[idx]))
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%v: %d elements wrong", tc, bad)
	}
}

func abs32(x float32) float32 { return float32(math.Abs(float64(x))) }

func absSlice(s []float32) []float32 {
	r := make([]float32, len(s))
	for i, v := range s {
		r[i] = abs32(v)
	}
	return r
}

// withBlocks shrinks the cache blocks so small matrices cross every block
// edge (several kc, mc and nc blocks plus partial register tiles).
func withBlocks(t *testing.T, kc, mc, nc int) {
	okc, omc, onc := kcBlock, mcBlock, ncBlock
	kcBlock, mcBlock, ncBlock = kc, mc, nc
	t.Cleanup(func() { kcBlock, mcBlock, ncBlock = okc, omc, onc })
}

// withISA runs the rest of the test (and its cleanups after) on path i.
func withISA(t testing.TB, i ISA) {
	t.Helper()
	old, err := SetISA(i)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { SetISA(old) })
}

func withThreads(t *testing.T, n int) {
	old := SetThreads(n)
	t.Cleanup(func() { SetThreads(old) })
}

var (
	sweepDims = []int{0, 1, 2, 3, 5, 6, 7, 11, 13, 16, 17, 23, 31, 37, 48, 53}
	scalars   = []float32{0, 1, -0.7}
)

// sweep runs n random cases with dims drawn from sweepDims plus all four
// transposes, paddings 0..3 and every alpha/beta pair.
func sweep(t *testing.T, seed uint64, n int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := 0; i < n; i++ {
		tc := gemmCase{
			transA: i&1 != 0, transB: i&2 != 0,
			m:     sweepDims[rng.IntN(len(sweepDims))],
			n:     sweepDims[rng.IntN(len(sweepDims))],
			k:     sweepDims[rng.IntN(len(sweepDims))],
			pad:   rng.IntN(4),
			alpha: scalars[(i/4)%3], beta: scalars[(i/12)%3],
		}
		checkCase(t, rng, tc)
	}
}

func TestSgemmSweepSmallBlocks(t *testing.T) {
	for _, isa := range SupportedISAs() {
		for _, threads := range []int{1, 3} {
			t.Run(fmt.Sprintf("%v/threads=%d", isa, threads), func(t *testing.T) {
				withISA(t, isa)
				withThreads(t, threads)
				withBlocks(t, 16, 12, 32)
				sweep(t, 1, 720)
			})
		}
	}
}

func TestSgemmSweepDefaultBlocks(t *testing.T) {
	for _, isa := range SupportedISAs() {
		t.Run(isa.String(), func(t *testing.T) {
			withISA(t, isa)
			sweep(t, 2, 360)
		})
	}
}

// TestSgemmBlockEdges uses the real block sizes with dims just around them
// (mcBlock, kcBlock, ncBlock, register tiles) and the retention shapes.
func TestSgemmBlockEdges(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	cases := []gemmCase{
		{m: 1, n: 1003, k: 300, pad: 1, alpha: 0.5, beta: 1},                  // gemv paths, split
		{m: 1, n: 1003, k: 300, pad: 1, alpha: 0.5, beta: 0, transB: true},    // among goroutines
		{m: 1003, n: 1, k: 300, pad: 1, alpha: 0.5, beta: -0.7, transB: true}, //
		{m: mcBlock + 1, n: 2*nr + 1, k: kcBlock + 1, alpha: 1, beta: 0},
		{m: mcBlock - 1, n: nr - 1, k: kcBlock - 1, pad: 3, alpha: -0.7, beta: 1, transA: true},
		{m: 2*mcBlock + mr + 1, n: 33, k: 2*kcBlock + 3, alpha: 1, beta: -0.7, transB: true},
		{m: 7, n: ncBlock + nr + 3, k: 19, pad: 1, alpha: 1, beta: 1, transA: true, transB: true},
		{m: 257, n: 129, k: 128, alpha: 1, beta: 0, transB: true}, // q k^T
		{m: 131, n: 256, k: 257, alpha: 1, beta: 0},               // S v
		{m: 193, n: 512, k: 512, alpha: 1, beta: 0, transB: true}, // x W^T
		{m: 1, n: 300, k: 77, pad: 2, alpha: 0.5, beta: 1},        // gemv paths
		{m: 1, n: 300, k: 77, pad: 2, alpha: 0.5, beta: 0, transB: true},
		{m: 300, n: 1, k: 77, pad: 2, alpha: 0.5, beta: -0.7, transB: true},
		{m: 300, n: 1, k: 77, pad: 2, alpha: 0.5, beta: 1, transA: true},
		{m: 1, n: 1, k: 1000, alpha: 1, beta: 0},
	}
	if testing.Short() {
		cases = cases[:9]
	}
	for _, isa := range SupportedISAs() {
		withISA(t, isa)
		for _, threads := range []int{1, 2} {
			withThreads(t, threads)
			for _, tc := range cases {
				checkCase(t, rng, tc)
			}
		}
	}
}

// TestSgemmThreadsBitwise checks the claim in SetThreads: the split of C among
// goroutines does not change a single bit of the result.
func TestSgemmThreadsBitwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, sh := range [][3]int{{301, 187, 300}, {13, 900, 70}, {700, 20, 33}, {1, 3000, 100}, {3000, 1, 100}} {
		m, n, k := sh[0], sh[1], sh[2]
		a, b := numtest.Randn[float32](rng, m*k, 1), numtest.Randn[float32](rng, n*k, 1)
		var first []float32
		for _, th := range []int{1, 2, 3, 4, 7} {
			withThreads(t, th)
			c := make([]float32, m*n)
			Sgemm(false, true, m, n, k, 1, a, k, b, k, 0, c, n)
			if first == nil {
				first = c
				continue
			}
			for i := range c {
				if c[i] != first[i] {
					t.Fatalf("%dx%dx%d threads=%d: C[%d] = %g, threads=1 gave %g", m, n, k, th, i, c[i], first[i])
				}
			}
		}
	}
}

// TestSgemmConcurrent runs several Sgemm calls at once (they share the worker
// pool and the workspace free list).
func TestSgemmConcurrent(t *testing.T) {
	withThreads(t, 2)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, 5))
			for i := 0; i < 3; i++ {
				checkCase(t, rng, gemmCase{m: 97, n: 130, k: 150, transB: true, alpha: 1, beta: 0.5})
			}
		}(uint64(g))
	}
	wg.Wait()
}

func TestSgemmNoAlloc(t *testing.T) {
	m, n, k := 200, 200, 200
	a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	for _, th := range []int{1, 2} {
		withThreads(t, th)
		Sgemm(false, true, m, n, k, 1, a, k, b, k, 0, c, n) // warm the pools
		allocs := testing.AllocsPerRun(20, func() {
			Sgemm(false, true, m, n, k, 1, a, k, b, k, 0, c, n)
		})
		if allocs > 0 {
			t.Errorf("threads=%d: %v allocations per Sgemm, want 0", th, allocs)
		}
	}
}

func TestSgemmPanics(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func()
		msg  string
	}{
		{"short A", func() {
			Sgemm(false, false, 2, 2, 2, 1, make([]float32, 3), 2, make([]float32, 4), 2, 0, make([]float32, 4), 2)
		}, "A has 3 elements"},
		{"small ldb", func() {
			Sgemm(false, true, 2, 3, 2, 1, make([]float32, 4), 2, make([]float32, 6), 1, 0, make([]float32, 6), 3)
		}, "B leading dimension"},
		{"negative", func() { Sgemm(false, false, -1, 2, 2, 1, nil, 2, nil, 2, 0, nil, 2) }, "negative dims"},
		{"Dot", func() { Dot(make([]float32, 3), make([]float32, 4)) }, "Dot length mismatch"},
		{"Axpy", func() { Axpy(1, make([]float32, 3), make([]float32, 2)) }, "Axpy length mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				s, _ := r.(string)
				if !strings.HasPrefix(s, "cpu: ") || !strings.Contains(s, tc.msg) {
					t.Fatalf("panic %v, want a \"cpu: ...%s...\" message", r, tc.msg)
				}
			}()
			tc.f()
		})
	}
}

func TestSplitGrid(t *testing.T) {
	for _, tc := range []struct{ m, n, k, t, tiles int }{
		{1024, 1024, 1024, 2, 2},
		{8, 8, 8, 4, 1},        // too little work to split
		{4096, 128, 512, 2, 2}, // tall: split rows
		{5, 4096, 512, 4, 4},   // flat: split columns
	} {
		tm, tn, bm, bn := splitGrid(tc.m, tc.n, tc.k, tc.t)
		if tm*tn != tc.tiles || bm%mr != 0 && tm > 1 || bn%nr != 0 && tn > 1 || tm*bm < tc.m || tn*bn < tc.n {
			t.Errorf("splitGrid(%d,%d,%d,%d) = %d x %d tiles of %d x %d, want %d tiles covering C",
				tc.m, tc.n, tc.k, tc.t, tm, tn, bm, bn, tc.tiles)
		}
	}
}

// SgemmSerial gives Sgemm's results bit for bit on one goroutine.
func TestSgemmSerialEqualsSgemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, d := range [][3]int{{1, 300, 200}, {300, 1, 200}, {130, 257, 300}, {7, 9, 5}} {
		m, n, k := d[0], d[1], d[2]
		a, b := make([]float32, m*k), make([]float32, k*n)
		for i := range a {
			a[i] = float32(rng.NormFloat64())
		}
		for i := range b {
			b[i] = float32(rng.NormFloat64())
		}
		c1, c2 := make([]float32, m*n), make([]float32, m*n)
		Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c1, n)
		SgemmSerial(false, false, m, n, k, 1, a, k, b, n, 0, c2, n)
		for i := range c1 {
			if c1[i] != c2[i] {
				t.Fatalf("%v: element %d: %g vs %g", d, i, c1[i], c2[i])
			}
		}
	}
}

// A few rows against a transposed B (decoding B tokens through x W^T) take
// the unpacked path (rowsDot); it must agree with the oracle, strides and
// beta included, for odd m, a ragged k (and k < 8) and n not a multiple of 4.
func TestSgemmFewRowsTransB(t *testing.T) {
	for _, isa := range SupportedISAs() {
		withISA(t, isa)
		testFewRowsTransB(t)
	}
}

func testFewRowsTransB(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, tc := range [][2]int{{1, 130}, {2, 130}, {3, 5}, {4, 128}, {5, 130}, {7, 136}, {fewRows, 130}, {fewRows + 1, 130}, {2, 8}, {1, 8}, {1, 24}, {2, 24}, {1, 40}, {2, 1000}, {1, 1000}} {
		m, k, n := tc[0], tc[1], 77
		lda, ldb, ldc := k+3, k+5, n+2
		a, b := make([]float32, m*lda), make([]float32, n*ldb)
		for i := range a {
			a[i] = float32(rng.NormFloat64())
		}
		for i := range b {
			b[i] = float32(rng.NormFloat64())
		}
		c, want := make([]float32, m*ldc), make([]float32, m*ldc)
		for i := range c {
			c[i] = float32(rng.NormFloat64())
			want[i] = c[i]
		}
		Sgemm(false, true, m, n, k, 0.5, a, lda, b, ldb, 2, c, ldc)
		SgemmNaive(false, true, m, n, k, 0.5, a, lda, b, ldb, 2, want, ldc)
		for i := range c {
			if d := c[i] - want[i]; d > 1e-3 || d < -1e-3 {
				t.Fatalf("%v m=%d k=%d element %d: %g, want %g", CurrentISA(), m, k, i, c[i], want[i])
			}
		}
	}
}

// BenchmarkSgemmFewRows times x W^T for a few rows of x: decoding B tokens
// through a weight W (n x k). 1024x512 is the fewRows threshold's shape,
// 384x192 a projection of the ladder's "m" RetNet.
func BenchmarkSgemmFewRows(b *testing.B) {
	for _, s := range [][2]int{{1024, 512}, {384, 192}, {4096, 1024}} {
		for _, m := range []int{1, 2, 4, 8} {
			n, k := s[0], s[1]
			b.Run(fmt.Sprintf("m=%d/n=%d/k=%d", m, n, k), func(b *testing.B) {
				a, w, c := make([]float32, m*k), make([]float32, n*k), make([]float32, m*n)
				for i := 0; i < b.N; i++ {
					Sgemm(false, true, m, n, k, 1, a, k, w, k, 0, c, n)
				}
				b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
