package backendtest

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/retlab/retlab/internal/numtest"
	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/retnet/backend"
	"github.com/retlab/retlab/retnet/backend/cpu"
)

// Tol is the largest normwise relative error the suite accepts.
const Tol = 1e-4

// Config selects optional parts of the suite.
type Config struct {
	// Large adds production-sized shapes (T up to 4096, dk 256, dv 512):
	// seconds on a GPU, far too slow for the CPU emulator.
	Large bool
	// Report, if not nil, receives every comparison the suite makes (for
	// the JSON record of a GPU run, scripts/gpu-check.sh).
	Report func(Result)
	// Only, if not empty, restricts the suite to these operations
	// ("Sgemm", "ParallelRetention", ...: the subtest names).
	Only []string
}

// Result is one comparison of the suite.
type Result struct {
	Op     string  `json:"op"`      // Sgemm, ParallelRetention, ...
	Case   string  `json:"case"`    // shape and options
	RelErr float64 `json:"rel_err"` // max|got - want| / max|want|
	Tol    float64 `json:"tol"`
	Pass   bool    `json:"pass"`
}

// Kernels is the optional part of the suite: host-memory entry points to
// kernels a backend runs for its own device-resident model (the cuda
// backend's recurrent step, rotation and group norm, which cuda/lm calls on
// device buffers). They are not part of backend.Backend, since no CPU
// caller hands them over; a backend's test passes a value that also
// implements Kernels to RunAll, and the suite checks them against retnet's
// CPU code like the rest. Backends without it skip those subtests.
type Kernels interface {
	// RecurrentRetention runs s.T recurrent steps of every (sequence, head)
	// from the state S (B,H,Dv,Dk) and scale (H) (torchscale's
	// prev_key_value and scale; empty = zeros) and leaves the new state
	// there (retnet.RecurrentRetention per head). Layouts as
	// backend.Backend.ParallelRetention.
	RecurrentRetention(s backend.Shape, q, k, v, o, S, scale, logGamma []float32) error
	// NewDecoder returns a recurrent state for B sequences of H heads kept
	// on the backend's device between Steps (the decoding loop), initially
	// empty. The caller must Close it.
	NewDecoder(B, H, Dk, Dv int, logGamma []float32) (Decoder, error)
	// Rotate applies the relative-position rotation to x (rows, H*Dk) in
	// place as retnet.RotateForward (inverse: RotateBackward) does with a
	// table for positions pos0..pos0+period-1: row r is at position
	// pos0 + r%period. angle is the (Dk) buffer [theta0,theta0,theta1,...].
	Rotate(x []float32, rows, H, Dk, period, pos0 int, angle []float32, inverse bool) error
	// GroupNormGate is retnet.GroupNormGateForward: per row and head,
	// y = o/sqrt(mean(o^2)+eps), gated = silu(g) (.) y; rstd (N,H) keeps the
	// inverse RMS. gated, y, o, g are (N,H*Dv).
	GroupNormGate(gated, y, rstd, o, g []float32, N, H, Dv int, eps float64) error
}

// Decoder is a recurrent retention state for B sequences of H heads that
// stays on a backend's device between decoding steps (no copy of the state
// per token). See Kernels.NewDecoder.
type Decoder interface {
	// Step consumes one token per sequence: q, k (B,H*Dk), v (B,H*Dv); it
	// updates the state and writes o (B,H*Dv).
	Step(q, k, v, o []float32) error
	// State copies the state out: S (B,H,Dv,Dk) and scale (H).
	State(S, scale []float32) error
	// SetState replaces the state: S (B,H,Dv,Dk) and scale (H).
	SetState(S, scale []float32) error
	// Close frees the device memory; the Decoder is unusable afterwards.
	Close() error
}

// kernels returns b's Kernels, or skips the test when it has none.
func kernels(t *testing.T, b backend.Backend) Kernels {
	t.Helper()
	k, ok := b.(Kernels)
	if !ok {
		t.Skip("backend has no device kernels beyond backend.Backend")
	}
	return k
}

// RunAll runs the standard suite on b (and the Kernels part when b
// implements Kernels).
func RunAll(t *testing.T, b backend.Backend) { RunAllConfig(t, b, Config{}) }

// RunAllConfig runs the suite on b with the options in cfg.
func RunAllConfig(t *testing.T, b backend.Backend, cfg Config) {
	for _, c := range []struct {
		name string
		fn   func(*testing.T, backend.Backend, Config)
	}{
		{"Sgemm", testSgemm}, {"ParallelRetention", testParallel}, {"ChunkwiseRetention", testChunkwise},
		{"RecurrentRetention", testRecurrent}, {"Decoder", testDecoder}, {"Rotate", testRotate},
		{"GroupNormGate", testGroupNorm}, {"Misuse", testMisuse}, {"Capabilities", testCapabilities},
	} {
		if len(cfg.Only) > 0 && !slices.Contains(cfg.Only, c.name) {
			continue
		}
		t.Run(c.name, func(t *testing.T) { c.fn(t, b, cfg) })
	}
}

// testCapabilities: what a backend declares it has, it implements (the
// model offloads on the declaration alone).
func testCapabilities(t *testing.T, b backend.Backend, _ Config) {
	if !b.Capabilities().Retention {
		return
	}
	s := backend.Shape{B: 1, T: 3, H: 1, Dk: 2, Dv: 2}
	q, o, lg := make([]float32, s.QKLen()), make([]float32, s.VLen()), []float32{-0.1}
	if err := b.ParallelRetention(s, q, q, o, o, lg); err != nil {
		t.Errorf("declares Retention, ParallelRetention: %v", err)
	}
	if err := b.ChunkwiseRetention(s, 2, q, q, o, o, lg); err != nil {
		t.Errorf("declares Retention, ChunkwiseRetention: %v", err)
	}
}

// RelErr is max|got - want| / max|want| (max|got - want| when want is 0).
// NaN anywhere gives +Inf.
func RelErr(got, want []float32) float64 {
	if len(got) != len(want) {
		panic(fmt.Sprintf("backendtest: RelErr of %d and %d values", len(got), len(want)))
	}
	var diff, norm float64
	for i := range got {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(g) || math.IsNaN(w) || math.IsInf(g, 0) {
			return math.Inf(1)
		}
		diff = math.Max(diff, math.Abs(g-w))
		norm = math.Max(norm, math.Abs(w))
	}
	if norm == 0 {
		return diff
	}
	return diff / norm
}

// check compares got with want and reports the result to cfg.Report.
func check(t *testing.T, cfg Config, what string, got, want []float32) {
	t.Helper()
	e := RelErr(got, want)
	if cfg.Report != nil {
		op, _, _ := strings.Cut(t.Name(), "/")
		if _, sub, ok := strings.Cut(t.Name(), "/"); ok {
			op = sub
		}
		cfg.Report(Result{Op: op, Case: what, RelErr: e, Tol: Tol, Pass: e <= Tol})
	}
	if !(e <= Tol) {
		i := worst(got, want)
		t.Errorf("%s: relative error %.3g > %g (worst at %d: got %g want %g)", what, e, Tol, i, got[i], want[i])
	}
}

func worst(got, want []float32) int {
	w, best := 0, -1.0
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if math.IsNaN(d) {
			return i
		}
		if d > best {
			w, best = i, d
		}
	}
	return w
}

// skipIfNotImplemented skips the test when err is ErrNotImplemented and
// fails it on any other error. It reports whether the caller may go on.
func skipIfNotImplemented(t *testing.T, err error) bool {
	t.Helper()
	if errors.Is(err, backend.ErrNotImplemented) {
		t.Skip("not implemented by this backend")
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

// logGammas returns H decays: torchscale's schedule, with the last head
// (when H > 1) set to gamma = 1 (log 0), the no-decay case.
func logGammas(H int) []float32 {
	lg := retnet.LogGammas(retnet.ScheduleTorchscale, H)
	if H > 1 {
		lg[H-1] = 0
	}
	return lg
}

// forHeads runs fn for every (sequence, head) of s, spread over the cores
// (the oracle of the large shapes is seconds of CPU work per head).
func forHeads(s backend.Shape, fn func(b, h int)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for bi := 0; bi < s.B; bi++ {
		for h := 0; h < s.H; h++ {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				fn(bi, h)
				<-sem
			}()
		}
	}
	wg.Wait()
}

// head is the retnet view of head h of sequence b in the batched layout.
func head(s backend.Shape, q, k, v, o []float32, lg []float32, b, h int) retnet.Head[float32] {
	qk := b*s.T*s.H*s.Dk + h*s.Dk
	vo := b*s.T*s.H*s.Dv + h*s.Dv
	return retnet.Head[float32]{Q: q[qk:], K: k[qk:], V: v[vo:], O: o[vo:], LdQK: s.H * s.Dk, LdV: s.H * s.Dv, LdO: s.H * s.Dv,
		T: s.T, Dk: s.Dk, Dv: s.Dv, LogGamma: lg[h]}
}

// inputs returns q, k, v for shape s: q, v ~ N(0,1), k ~ N(0, 1/dk) (the
// model scales keys by dk^-1/2).
func inputs(rng *rand.Rand, s backend.Shape) (q, k, v []float32) {
	return numtest.Randn[float32](rng, s.QKLen(), 1), numtest.Randn[float32](rng, s.QKLen(), 1/math.Sqrt(float64(s.Dk))), numtest.Randn[float32](rng, s.VLen(), 1)
}

func retentionShapes(cfg Config) []backend.Shape {
	s := []backend.Shape{
		{B: 1, T: 1, H: 1, Dk: 2, Dv: 2},
		{B: 2, T: 37, H: 3, Dk: 8, Dv: 6},
		{B: 1, T: 130, H: 2, Dk: 16, Dv: 24},
		{B: 1, T: 200, H: 2, Dk: 72, Dv: 136},
		{B: 3, T: 65, H: 1, Dk: 33, Dv: 129},
		{B: 1, T: 100, H: 1, Dk: 40, Dv: 300},
	}
	if cfg.Large {
		s = append(s, backend.Shape{B: 2, T: 1000, H: 4, Dk: 128, Dv: 256}, backend.Shape{B: 1, T: 4096, H: 2, Dk: 256, Dv: 512})
	}
	return s
}

func testSgemm(t *testing.T, b backend.Backend, cfg Config) {
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := [][3]int{{1, 1, 1}, {3, 5, 7}, {17, 33, 9}, {64, 64, 64}, {65, 130, 70}, {100, 37, 260}}
	if cfg.Large {
		sizes = append(sizes, [3]int{777, 1001, 513})
	}
	for _, sz := range sizes {
		m, n, k := sz[0], sz[1], sz[2]
		for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			for _, ab := range [][2]float32{{1, 0}, {0.5, 1.5}} {
				pad := rng.IntN(3) // leading dimensions larger than the rows
				ar, ac := m, k
				if tr[0] {
					ar, ac = k, m
				}
				br, bc := k, n
				if tr[1] {
					br, bc = n, k
				}
				lda, ldb, ldc := ac+pad, bc+pad, n+pad
				a, bb := numtest.Randn[float32](rng, ar*lda, 1), numtest.Randn[float32](rng, br*ldb, 1)
				c := numtest.Randn[float32](rng, m*ldc, 1)
				if ab[1] == 0 {
					for i := range c {
						c[i] = float32(math.NaN()) // beta = 0 must not read C
					}
				}
				want := append([]float32(nil), c...)
				cpu.SgemmNaive(tr[0], tr[1], m, n, k, ab[0], a, lda, bb, ldb, ab[1], want, ldc)
				b.Sgemm(tr[0], tr[1], m, n, k, ab[0], a, lda, bb, ldb, ab[1], c, ldc)
				name := fmt.Sprintf("m=%d n=%d k=%d trans=%v alpha,beta=%v ld=%d,%d,%d", m, n, k, tr, ab, lda, ldb, ldc)
				// Compare the matrix, then check the gaps between rows are untouched.
				var gotM, wantM []float32
				for i := 0; i < m; i++ {
					gotM = append(gotM, c[i*ldc:i*ldc+n]...)
					wantM = append(wantM, want[i*ldc:i*ldc+n]...)
					for j := n; j < ldc; j++ {
						if g, w := c[i*ldc+j], want[i*ldc+j]; g != w && !(g != g && w != w) {
							t.Errorf("%s: C[%d][%d] outside the product changed from %g to %g", name, i, j, w, g)
						}
					}
				}
				check(t, cfg, name, gotM, wantM)
			}
		}
	}
}

func testParallel(t *testing.T, b backend.Backend, cfg Config) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, s := range retentionShapes(cfg) {
		q, k, v := inputs(rng, s)
		lg := logGammas(s.H)
		got := make([]float32, s.VLen())
		if !skipIfNotImplemented(t, b.ParallelRetention(s, q, k, v, got, lg)) {
			return
		}
		want := make([]float32, s.VLen())
		forHeads(s, func(bi, h int) {
			work := make([]float32, retnet.ParallelWorkSize(s.T))
			retnet.ParallelRetention(head(s, q, k, v, want, lg, bi, h), nil, work)
		})
		check(t, cfg, fmt.Sprintf("%+v", s), got, want)
	}
}

func testChunkwise(t *testing.T, b backend.Backend, cfg Config) {
	rng := rand.New(rand.NewPCG(5, 6))
	chunks := map[int][]int{1: {1, 4}, 37: {1, 5, 16, 37}, 130: {64, 100}, 200: {64, 100, 512}, 65: {7, 64}, 100: {16, 100}}
	for _, s := range retentionShapes(cfg) {
		cs := chunks[s.T]
		if cs == nil {
			cs = []int{64, 512}
		}
		q, k, v := inputs(rng, s)
		lg := logGammas(s.H)
		for _, C := range cs {
			got := make([]float32, s.VLen())
			if !skipIfNotImplemented(t, b.ChunkwiseRetention(s, C, q, k, v, got, lg)) {
				return
			}
			want := make([]float32, s.VLen())
			forHeads(s, func(bi, h int) {
				work := make([]float32, retnet.ChunkwiseWorkSize(C, s.Dv))
				retnet.ChunkwiseRetention(head(s, q, k, v, want, lg, bi, h), C, nil, work)
			})
			check(t, cfg, fmt.Sprintf("%+v chunk %d", s, C), got, want)
		}
	}
}

// recurrentOracle runs retnet.RecurrentRetention on every (sequence, head)
// of the batched layout, updating S (B,H,Dv,Dk) and scale (H) in place.
func recurrentOracle(s backend.Shape, q, k, v, o, S, scale, lg []float32) {
	newScale := make([]float32, s.H)
	for bi := 0; bi < s.B; bi++ {
		for h := 0; h < s.H; h++ {
			bh := bi*s.H + h
			sc := scale[h]
			retnet.RecurrentRetention(head(s, q, k, v, o, lg, bi, h), S[bh*s.Dk*s.Dv:(bh+1)*s.Dk*s.Dv], &sc)
			newScale[h] = sc
		}
	}
	copy(scale, newScale)
}

// startState returns a state as if n tokens had been consumed: scale =
// sum_{d<n} gamma^d, S random of the magnitude such a state has.
func startState(rng *rand.Rand, s backend.Shape, lg []float32, n int) (S, scale []float32) {
	scale = make([]float32, s.H)
	for h := range scale {
		g := float32(math.Exp(float64(lg[h])))
		for i := 0; i < n; i++ {
			scale[h] = scale[h]*g + 1
		}
	}
	if n == 0 {
		return make([]float32, s.StateLen()), scale
	}
	return numtest.Randn[float32](rng, s.StateLen(), 0.3), scale
}

func testRecurrent(t *testing.T, bb backend.Backend, cfg Config) {
	b := kernels(t, bb)
	rng := rand.New(rand.NewPCG(7, 8))
	shapes := []backend.Shape{{B: 1, T: 1, H: 1, Dk: 2, Dv: 2}, {B: 2, T: 9, H: 3, Dk: 8, Dv: 6}, {B: 3, T: 5, H: 2, Dk: 128, Dv: 40}, {B: 2, T: 4, H: 2, Dk: 33, Dv: 17}}
	if cfg.Large {
		shapes = append(shapes, backend.Shape{B: 8, T: 16, H: 4, Dk: 256, Dv: 512})
	}
	for _, s := range shapes {
		for _, n0 := range []int{0, 11} {
			q, k, v := inputs(rng, s)
			lg := logGammas(s.H)
			S, scale := startState(rng, s, lg, n0)
			gotS, gotScale := append([]float32(nil), S...), append([]float32(nil), scale...)
			got := make([]float32, s.VLen())
			if !skipIfNotImplemented(t, b.RecurrentRetention(s, q, k, v, got, gotS, gotScale, lg)) {
				return
			}
			want := make([]float32, s.VLen())
			recurrentOracle(s, q, k, v, want, S, scale, lg)
			name := fmt.Sprintf("%+v from %d tokens", s, n0)
			check(t, cfg, name+" o", got, want)
			check(t, cfg, name+" S", gotS, S)
			check(t, cfg, name+" scale", gotScale, scale)
		}
	}
}

func testDecoder(t *testing.T, bb backend.Backend, cfg Config) {
	b := kernels(t, bb)
	rng := rand.New(rand.NewPCG(9, 10))
	shapes := []backend.Shape{{B: 1, T: 1, H: 1, Dk: 2, Dv: 2}, {B: 4, T: 1, H: 3, Dk: 16, Dv: 12}, {B: 2, T: 1, H: 2, Dk: 256, Dv: 33}}
	if cfg.Large {
		shapes = append(shapes, backend.Shape{B: 64, T: 1, H: 8, Dk: 256, Dv: 512})
	}
	for _, s := range shapes {
		lg := logGammas(s.H)
		d, err := b.NewDecoder(s.B, s.H, s.Dk, s.Dv, lg)
		if !skipIfNotImplemented(t, err) {
			return
		}
		S, scale := make([]float32, s.StateLen()), make([]float32, s.H)
		for step := 0; step < 6; step++ {
			if step == 3 { // replace the state mid-way
				S, scale = startState(rng, s, lg, 20)
				if err := d.SetState(S, scale); err != nil {
					t.Fatal(err)
				}
			}
			q, k, v := inputs(rng, s)
			got := make([]float32, s.VLen())
			if err := d.Step(q, k, v, got); err != nil {
				t.Fatal(err)
			}
			want := make([]float32, s.VLen())
			recurrentOracle(s, q, k, v, want, S, scale, lg)
			check(t, cfg, fmt.Sprintf("%+v step %d o", s, step), got, want)
		}
		gotS, gotScale := make([]float32, s.StateLen()), make([]float32, s.H)
		if err := d.State(gotS, gotScale); err != nil {
			t.Fatal(err)
		}
		check(t, cfg, fmt.Sprintf("%+v S", s), gotS, S)
		check(t, cfg, fmt.Sprintf("%+v scale", s), gotScale, scale)
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func testRotate(t *testing.T, bb backend.Backend, cfg Config) {
	b := kernels(t, bb)
	rng := rand.New(rand.NewPCG(11, 12))
	for _, c := range []struct{ B, T, H, Dk, pos0 int }{{1, 1, 1, 2, 0}, {2, 37, 3, 8, 0}, {3, 17, 2, 256, 5000}, {1, 300, 1, 64, 1}} {
		rows := c.B * c.T
		angle := retnet.Angles(c.Dk)
		rt := retnet.NewRotationTable(angle, c.pos0, c.T)
		for _, inverse := range []bool{false, true} {
			x := numtest.Randn[float32](rng, rows*c.H*c.Dk, 1)
			got, want := append([]float32(nil), x...), append([]float32(nil), x...)
			if !skipIfNotImplemented(t, b.Rotate(got, rows, c.H, c.Dk, c.T, c.pos0, angle, inverse)) {
				return
			}
			if inverse {
				retnet.RotateBackward(want, rt, rows, c.H)
			} else {
				retnet.RotateForward(want, rt, rows, c.H)
			}
			check(t, cfg, fmt.Sprintf("%+v inverse=%v", c, inverse), got, want)
		}
	}
}

func testGroupNorm(t *testing.T, bb backend.Backend, cfg Config) {
	b := kernels(t, bb)
	rng := rand.New(rand.NewPCG(13, 14))
	for _, c := range []struct {
		N, H, Dv int
		eps      float64
	}{{1, 1, 1, 1e-6}, {37, 3, 24, 1e-6}, {5, 2, 129, 0}, {8, 4, 512, 1e-6}} {
		n := c.N * c.H * c.Dv
		o, g := numtest.Randn[float32](rng, n, 1), numtest.Randn[float32](rng, n, 2)
		gated, y, rstd := make([]float32, n), make([]float32, n), make([]float32, c.N*c.H)
		if !skipIfNotImplemented(t, b.GroupNormGate(gated, y, rstd, o, g, c.N, c.H, c.Dv, c.eps)) {
			return
		}
		wg, wy, wr := make([]float32, n), make([]float32, n), make([]float32, c.N*c.H)
		retnet.GroupNormGateForward(wg, wy, wr, o, g, c.N, c.H, c.Dv, c.eps)
		name := fmt.Sprintf("%+v", c)
		check(t, cfg, name+" gated", gated, wg)
		check(t, cfg, name+" y", y, wy)
		check(t, cfg, name+" rstd", rstd, wr)
	}
}

// testMisuse checks the contract that slices too short for the shape panic
// (once the backend implements the operation).
func testMisuse(t *testing.T, b backend.Backend, _ Config) {
	s := backend.Shape{B: 1, T: 4, H: 1, Dk: 2, Dv: 2}
	q, k, v, o := make([]float32, s.QKLen()), make([]float32, s.QKLen()), make([]float32, s.VLen()), make([]float32, s.VLen())
	lg := []float32{-0.1}
	mustPanic := func(name string, implemented error, fn func() error) {
		t.Helper()
		if errors.Is(implemented, backend.ErrNotImplemented) {
			return
		}
		defer func() {
			if recover() == nil {
				t.Errorf("%s with a short slice did not panic", name)
			}
		}()
		_ = fn()
	}
	mustPanic("ParallelRetention", b.ParallelRetention(s, q, k, v, o, lg), func() error {
		return b.ParallelRetention(s, q[:3], k, v, o, lg)
	})
	mustPanic("ChunkwiseRetention", b.ChunkwiseRetention(s, 2, q, k, v, o, lg), func() error {
		return b.ChunkwiseRetention(s, 2, q, k, v, o[:1], lg)
	})
	if kb, ok := b.(Kernels); ok {
		S, scale := make([]float32, s.StateLen()), make([]float32, s.H)
		mustPanic("RecurrentRetention", kb.RecurrentRetention(s, q, k, v, o, S, scale, lg), func() error {
			return kb.RecurrentRetention(s, q, k, v, o, S[:1], scale, lg)
		})
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Sgemm with a short A did not panic")
			}
		}()
		b.Sgemm(false, false, 70, 70, 70, 1, make([]float32, 10), 70, make([]float32, 4900), 70, 0, make([]float32, 4900), 70)
	}()
}
