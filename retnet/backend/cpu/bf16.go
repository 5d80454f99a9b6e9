package cpu

import (
	"fmt"
	"math"
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
// the current path (CurrentISA() == AVX512 and the CPU has AVX512_BF16).
// Otherwise LinearBF16 widens W to float32 a row at a time and uses Dot:
// the same results up to float32 rounding, about as fast when decoding
// (reading W is the cost), slower for many rows.
func HasBF16Dot() bool { return isa == AVX512 && hasBF16 }

// LinearBF16 is the linear layer y = x W^T with bfloat16 weights, for
// inference (a decode step, a short prompt):
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
// Large n is split across Threads() goroutines. It panics if a dimension
// is negative or a slice is too short for its dimensions and stride.
func LinearBF16(m, n, k int, x []float32, ldx int, w []BF16, ldw int, y []float32, ldy int) {
	checkLinearBF16(m, n, k, x, ldx, w, ldw, y, ldy)
	if m == 0 || n == 0 {
		return
	}
	xb := bf16Pool.get(m * k)
	for i := 0; i < m; i++ {
		ToBF16(xb[i*k:(i+1)*k], x[i*ldx:i*ldx+k])
	}
	l := linearBF16{m: m, k: k, xb: xb, w: w, ldw: ldw, y: y, ldy: ldy}
	t := Threads()
	if work := 2 * float64(m) * float64(n) * float64(k) / minGemvFlopsPerThread; work < float64(t) {
		t = max(1, int(work))
	}
	size := roundUp(ceilDiv(n, t), 4)
	var wg sync.WaitGroup
	for lo := size; lo < n; lo += size {
		wg.Add(1)
		go func(lo int) {
			defer wg.Done()
			l.columns(lo, min(n, lo+size))
		}(lo)
	}
	l.columns(0, min(n, size))
	wg.Wait()
	bf16Pool.put(xb)
}

// linearBF16 is one LinearBF16 call: xb is x rounded, (m,k) contiguous.
type linearBF16 struct {
	m, k int
	xb   []BF16
	w    []BF16
	ldw  int
	y    []float32
	ldy  int
}

// columns computes y[:, lo:hi].
func (l *linearBF16) columns(lo, hi int) {
	m, k := l.m, l.k
	j := lo
	if HasBF16Dot() && k > 0 {
		var out [8]float32
		for ; j+4 <= hi; j += 4 {
			_ = l.w[(j+3)*l.ldw+k-1] // the four rows of W are in bounds
			for i := 0; i < m; i += 2 {
				rows := min(2, m-i)
				dotRows4BF16(&l.xb[i*k], k, rows, &l.w[j*l.ldw], l.ldw, k, &out[0])
				for r := 0; r < rows; r++ {
					copy(l.y[(i+r)*l.ldy+j:(i+r)*l.ldy+j+4], out[r*4:r*4+4])
				}
			}
		}
	}
	if j == hi {
		return
	}
	// Widen the rest of W a row at a time and dot in float32.
	xf := f32Pool.get(m*k + k)
	wf := xf[m*k:]
	FromBF16(xf[:m*k], l.xb)
	for ; j < hi; j++ {
		FromBF16(wf, l.w[j*l.ldw:j*l.ldw+k])
		for i := 0; i < m; i++ {
			l.y[i*l.ldy+j] = Dot(xf[i*k:(i+1)*k], wf)
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
