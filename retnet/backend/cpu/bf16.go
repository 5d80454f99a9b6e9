package cpu

import (
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
)

// BF16 is a bfloat16 number: the upper 16 bits of a float32 (sign, the
// same 8 exponent bits, 7 mantissa bits), so it covers float32's range at
// about 2-3 significant decimal digits (relative spacing 2^-8). Pretrained
// models are often published in it; storing weights as BF16 halves the
// memory a decode step reads.
type BF16 uint16

// BF16From rounds f to the nearest bfloat16 (ties to even), as PyTorch's
// tensor.to(torch.bfloat16) does. NaN stays NaN; values past the largest
// bfloat16 round to infinity.
func BF16From(f float32) BF16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 { // NaN: keep it quiet and non-zero
		return BF16(b>>16 | 0x40)
	}
	return BF16((b + 0x7fff + (b>>16)&1) >> 16)
}

// Float32 returns b exactly as a float32.
func (b BF16) Float32() float32 { return math.Float32frombits(uint32(b) << 16) }

// ToBF16 rounds src into dst (BF16From for each element). It panics if
// dst is shorter than src.
func ToBF16(dst []BF16, src []float32) {
	if len(dst) < len(src) {
		panic(fmt.Sprintf("cpu: ToBF16 dst has %d elements, src %d", len(dst), len(src)))
	}
	for i, v := range src {
		dst[i] = BF16From(v)
	}
}

// FromBF16 widens src into dst exactly (every bit pattern, NaNs included).
// It panics if dst is shorter than src. With the assembly it widens 16 at
// a time (widenBF16AVX2): LinearBF16 without AVX512_BF16 widens each row of
// W with it, the whole cost of a decode step.
func FromBF16(dst []float32, src []BF16) {
	if len(dst) < len(src) {
		panic(fmt.Sprintf("cpu: FromBF16 dst has %d elements, src %d", len(dst), len(src)))
	}
	i := 0
	if n := len(src) &^ 15; isa != Generic && n > 0 {
		widenBF16AVX2(&dst[0], &src[0], n)
		i = n
	}
	for ; i < len(src); i++ {
		dst[i] = src[i].Float32()
	}
}

// HasBF16Dot reports whether LinearBF16 runs AVX512_BF16 dot products
// (VDPBF16PS, 32 bfloat16 multiply-adds an instruction) on this machine and
// the current path: CurrentISA() == AVX512, the CPU has AVX512_BF16 and
// SetBF16Dot (or RETLAB_BF16) has not turned them off. Otherwise
// LinearBF16 widens W to float32 and uses the float32 kernels: the same
// results up to float32 rounding (both round x to bfloat16 first).
func HasBF16Dot() bool { return isa == AVX512 && bf16Dot }

// bf16Dot is the SetBF16Dot setting: on by default where the CPU has
// AVX512_BF16.
var bf16Dot = hasBF16

// SetBF16Dot turns LinearBF16's AVX512_BF16 dot products on or off and
// returns the previous setting, so one process can time or test both
// paths of the bfloat16 products:
//
//	prev, err := cpu.SetBF16Dot(false) // widen W to float32 instead
//	...
//	defer cpu.SetBF16Dot(prev)
//
// Turning them on where the CPU lacks AVX512_BF16 is an error and changes
// nothing; they run only on the AVX512 path (see HasBF16Dot). Like SetISA
// it is not safe while another goroutine runs a kernel. The environment
// variable RETLAB_BF16 sets the start: dot (panics at start where
// unsupported, rather than silently widening) or widen; unset, dot where
// the CPU has it.
func SetBF16Dot(on bool) (bool, error) {
	if on && !hasBF16 {
		return bf16Dot, fmt.Errorf("cpu: AVX512_BF16 dot products are not supported on this machine (SetBF16Dot)")
	}
	prev := bf16Dot
	bf16Dot = on
	return prev, nil
}

func init() {
	switch s := strings.ToLower(strings.TrimSpace(os.Getenv("RETLAB_BF16"))); s {
	case "":
	case "dot", "widen":
		if _, err := SetBF16Dot(s == "dot"); err != nil {
			panic(fmt.Sprintf("%v (RETLAB_BF16=%s)", err, s))
		}
	default:
		panic(fmt.Sprintf("cpu: unknown RETLAB_BF16 %q (want dot or widen)", s))
	}
}

// LinearBF16 is the linear layer y = x W^T with bfloat16 weights, for
// inference (a decode step, a prompt, scoring text):
//
//	y[i][j] = sum_p bf16(x[i][p]) * w[j][p]    i < m, j < n, p < k
//
// x (m,k) float32 with row stride ldx; w (n,k) bfloat16 [out, in] with row
// stride ldw; y (m,n) float32 with row stride ldy, overwritten. x is
// rounded to bfloat16 first (BF16From), so that both operands of every
// product are bfloat16: the products are exact in float32 and the sums are
// float32 (VDPBF16PS accumulates pairs of products into float32 lanes).
//
// Accuracy, tested against float64 oracles (TestLinearBF16): against the
// float32 product x W^T with the same (bfloat16) weights the error is the
// rounding of x, |err| <= 2^-8 sum_p |x[i][p] w[j][p]| plus float32
// summation error; against bfloat16-rounded x it is float32 summation error
// only, <= 2(k+2) 2^-24 sum_p |bf16(x) w|. Subnormal bfloat16 inputs count
// as zero on the AVX512_BF16 path (the instruction flushes them).
//
// A few rows (below packedRows: 128 with AVX512_BF16, 17 without) run row
// kernels that read each row of W once (dotRows4BF16, or widening a row
// of W and Dot); more run a blocked product like Sgemm's, with VDPBF16PS
// on bfloat16 pairs (bf16_gemm.go) or SgemmBF16W on the rounded x. With
// AVX512_BF16 it is about twice the speed of the float32 products on the
// same weights: half the bytes for a decode step, twice the multiply-adds
// an instruction for a prompt (BenchmarkLinearBF16). Large products are
// split across Threads() goroutines. It panics if a dimension is negative
// or a slice is too short for its dimensions and stride.
func LinearBF16(m, n, k int, x []float32, ldx int, w []BF16, ldw int, y []float32, ldy int) {
	checkLinearBF16(m, n, k, x, ldx, w, ldw, y, ldy)
	if m == 0 || n == 0 {
		return
	}
	// x rounded, (m, kx): rows padded to an even length (a zero), so that
	// the packed path reads its pairs as aligned 32-bit words.
	kx := k + k%2
	xb := bf16Pool.get(m * kx)
	for i := 0; i < m; i++ {
		ToBF16(xb[i*kx:i*kx+k], x[i*ldx:i*ldx+k])
		if kx > k {
			xb[i*kx+k] = 0
		}
	}
	defer bf16Pool.put(xb)
	if m >= packedRows() && k > 0 {
		linearPacked(m, n, k, xb, kx, w, ldw, y, ldy)
		return
	}
	// The row kernels, columns of y spread over the worker pool.
	g := gemm{m: m, n: n, k: k, alpha: 1, xb: xb, lda: kx, wb: w, ldb: ldw, c: y, ldc: ldy}
	g.parallelGemv(linearBF16Rows, Threads())
}

// bf16Rows computes y[:, lo:hi] of a LinearBF16 of fewer than packedRows()
// rows (the linearBF16Rows kind): g.xb is x rounded (m, g.lda), g.wb is W.
func (g *gemm) bf16Rows(lo, hi int) {
	m, k, kx := g.m, g.k, g.lda
	j := lo
	if HasBF16Dot() && k > 0 {
		var out [8]float32
		for ; j+4 <= hi; j += 4 {
			_ = g.wb[(j+3)*g.ldb+k-1] // the four rows of W are in bounds
			for i := 0; i < m; i += 2 {
				rows := min(2, m-i)
				dotRows4BF16(&g.xb[i*kx], kx, rows, &g.wb[j*g.ldb], g.ldb, k, &out[0])
				for r := 0; r < rows; r++ {
					copy(g.c[(i+r)*g.ldc+j:(i+r)*g.ldc+j+4], out[r*4:r*4+4])
				}
			}
		}
	}
	if j == hi {
		return
	}
	// Widen the rest of W a row at a time and dot in float32.
	xf := f32Pool.get(m*kx + k)
	wf := xf[m*kx:]
	FromBF16(xf[:m*kx], g.xb)
	for ; j < hi; j++ {
		FromBF16(wf, g.wb[j*g.ldb:j*g.ldb+k])
		for i := 0; i < m; i++ {
			g.c[i*g.ldc+j] = Dot(xf[i*kx:i*kx+k], wf)
		}
	}
	f32Pool.put(xf)
}

func checkLinearBF16(m, n, k int, x []float32, ldx int, w []BF16, ldw int, y []float32, ldy int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("cpu: LinearBF16 negative dims m=%d n=%d k=%d", m, n, k))
	}
	need := func(name string, rows, cols, ld, have int) {
		if rows == 0 || cols == 0 {
			return
		}
		if ld < cols {
			panic(fmt.Sprintf("cpu: LinearBF16 %s leading dimension %d < %d columns", name, ld, cols))
		}
		if want := (rows-1)*ld + cols; have < want {
			panic(fmt.Sprintf("cpu: LinearBF16 %s has %d elements, (%d x %d, ld %d) needs %d", name, have, rows, cols, ld, want))
		}
	}
	need("x", m, k, ldx, len(x))
	need("W", n, k, ldw, len(w))
	need("y", m, n, ldy, len(y))
}

// scratch is a pool of reusable slices, so LinearBF16 does not allocate
// once warm.
type scratch[T any] struct{ p sync.Pool }

func (s *scratch[T]) get(n int) []T {
	if v, ok := s.p.Get().(*[]T); ok && cap(*v) >= n {
		return (*v)[:n]
	}
	return make([]T, n)
}

func (s *scratch[T]) put(v []T) { s.p.Put(&v) }

var (
	bf16Pool scratch[BF16]
	f32Pool  scratch[float32]
)
