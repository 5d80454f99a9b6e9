package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/retlab/retlab/internal/numtest"
)

// SgemmBF16W against its two definitions: the naive float64-free loop
// (SgemmNaive on the widened weights, within float32 summation error) and
// Sgemm on the widened weights, which must agree bit for bit wherever Sgemm
// takes its blocked path — on every ISA, at small blocks (every edge of the
// packing) and at the default ones, on one thread and two.
func TestSgemmBF16W(t *testing.T) {
	for _, is := range SupportedISAs() {
		for _, blocks := range [][3]int{{8, 12, 32}, {24, 12, 64}, {kcBlock, mcBlock, ncBlock}} {
			t.Run(fmt.Sprintf("%v/kc%d", is, blocks[0]), func(t *testing.T) {
				withISA(t, is)
				withBlocks(t, blocks[0], blocks[1], blocks[2])
				old := bf16NC
				bf16NC = min(bf16NC, blocks[2])
				t.Cleanup(func() { bf16NC = old })
				rng := rand.New(rand.NewPCG(7, uint64(is)))
				for _, sh := range [][3]int{{1, 1, 1}, {3, 5, 7}, {6, 16, 8}, {9, 16, 8}, {13, 37, 29}, {65, 70, 300}, {128, 96, 513}} {
					for _, threads := range []int{1, 2} {
						withThreads(t, threads)
						checkBF16W(t, rng, sh[0], sh[1], sh[2])
					}
				}
			})
		}
	}
}

func checkBF16W(t *testing.T, rng *rand.Rand, m, n, k int) {
	t.Helper()
	lda, ldw, ldc := k+3, k+1, n+2
	a := numtest.Randn[float32](rng, m*lda, 1)
	wf := numtest.Randn[float32](rng, n*ldw, 1)
	w := make([]BF16, len(wf))
	ToBF16(w, wf)
	FromBF16(wf, w)                            // the weights as float32, exactly
	c := numtest.Randn[float32](rng, m*ldc, 1) // overwritten inside the window, kept outside
	keep := append([]float32(nil), c...)
	SgemmBF16W(m, n, k, a, lda, w, ldw, c, ldc)
	naive := append([]float32(nil), keep...)
	SgemmNaive(false, true, m, n, k, 1, a, lda, wf, ldw, 0, naive, ldc)
	fast := append([]float32(nil), keep...)
	Sgemm(false, true, m, n, k, 1, a, lda, wf, ldw, 0, fast, ldc)
	// Sgemm takes its blocked path for more than fewRows rows, unless tiny.
	blocked := m > fewRows && (m > smallDim || n > smallDim || k > smallDim || m*n*k > smallProduct)
	for i := 0; i < m; i++ {
		for j := 0; j < ldc; j++ {
			got := c[i*ldc+j]
			if j >= n {
				if got != keep[i*ldc+j] {
					t.Fatalf("m=%d n=%d k=%d: C[%d][%d] outside the window changed", m, n, k, i, j)
				}
				continue
			}
			var bound float64
			for p := 0; p < k; p++ {
				bound += math.Abs(float64(a[i*lda+p]) * float64(wf[j*ldw+p]))
			}
			bound *= 2 * float64(k+2) * 0x1p-24
			if d := math.Abs(float64(got) - float64(naive[i*ldc+j])); d > bound+1e-30 {
				t.Fatalf("m=%d n=%d k=%d: C[%d][%d] = %g, naive %g (|diff| %g > %g)", m, n, k, i, j, got, naive[i*ldc+j], d, bound)
			}
			if blocked && n > 1 && got != fast[i*ldc+j] {
				t.Fatalf("m=%d n=%d k=%d: C[%d][%d] = %g, Sgemm on the widened weights %g", m, n, k, i, j, got, fast[i*ldc+j])
			}
		}
	}
}

func TestSgemmBF16WPanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Error("short w: no panic")
		}
	}()
	SgemmBF16W(2, 3, 4, make([]float32, 8), 4, make([]BF16, 11), 4, make([]float32, 6), 3)
}

// FromBF16 (16 at a time with the assembly) is the exact widening, bit
// for bit, at every length and alignment, NaN payloads included.
func TestFromBF16Exact(t *testing.T) {
	for _, is := range SupportedISAs() {
		withISA(t, is)
		rng := rand.New(rand.NewPCG(9, uint64(is)))
		src := make([]BF16, 80)
		for i := range src {
			src[i] = BF16(rng.Uint32())
		}
		for off := 0; off < 3; off++ {
			for n := 0; n+off <= len(src); n++ {
				dst := make([]float32, n+1)
				dst[n] = 7
				FromBF16(dst[:n], src[off:off+n])
				for i := 0; i < n; i++ {
					if got, want := math.Float32bits(dst[i]), uint32(src[off+i])<<16; got != want {
						t.Fatalf("%v n=%d off=%d: element %d bits %08x, want %08x", is, n, off, i, got, want)
					}
				}
				if dst[n] != 7 {
					t.Fatalf("%v n=%d: wrote past the end", is, n)
				}
			}
		}
	}
}
