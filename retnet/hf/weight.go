package hf

import (
	"encoding/binary"
	"fmt"
	"math"
	"sync"
	"unsafe"

	"github.com/retlab/retlab/internal/parallel"
	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/retnet/backend/cpu"
)

// weight is a (rows, cols) matrix in its file dtype, a view of the mapped
// file: F32 is used as it lies, BF16 and F16 are widened to float32 one
// block of rows at a time inside the product (float32 accumulation), so a
// BF16 model holds its weights in BF16 and never a float32 copy.
type weight struct {
	name       string
	rows, cols int
	dtype      string
	f32        []float32 // F32
	u16        []uint16  // BF16 or F16 bits

	// bf16Dot runs BF16 products as cpu.LinearBF16 does: activations
	// rounded to bfloat16, products exact, float32 sums, AVX512_BF16 dot
	// products where the CPU has them. Off: the weights are widened and the
	// activations stay float32 (slower, matches a float32 computation).
	bf16Dot bool
}

// newWeight wraps a checkpoint tensor of shape (rows, cols).
func newWeight(t Tensor, rows, cols int) (weight, error) {
	w := weight{name: t.Name, rows: rows, cols: cols, dtype: t.DType}
	n := rows * cols
	switch t.DType {
	case "F32":
		w.f32 = viewOrCopy[float32](t.Data, n, func(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) })
	case "BF16", "F16":
		w.u16 = viewOrCopy[uint16](t.Data, n, binary.LittleEndian.Uint16)
	default:
		return w, fmt.Errorf("hf: %s: tensor %q has dtype %s, want F32, BF16 or F16", t.File, t.Name, t.DType)
	}
	return w, nil
}

// viewOrCopy reinterprets b as n little-endian elements when it is aligned
// (safetensors writers align the data; this machine is little-endian), and
// decodes a copy otherwise.
func viewOrCopy[E float32 | uint16](b []byte, n int, dec func([]byte) E) []E {
	var z E
	size := int(unsafe.Sizeof(z))
	if len(b) != n*size {
		panic(fmt.Sprintf("hf: tensor of %d bytes viewed as %d elements of %d bytes", len(b), n, size))
	}
	if n == 0 {
		return nil
	}
	if uintptr(unsafe.Pointer(&b[0]))%uintptr(size) == 0 && littleEndian {
		return unsafe.Slice((*E)(unsafe.Pointer(&b[0])), n)
	}
	out := make([]E, n)
	for i := range out {
		out[i] = dec(b[i*size:])
	}
	return out
}

var littleEndian = func() bool { x := uint16(1); return *(*byte)(unsafe.Pointer(&x)) == 1 }()

// Bytes is the memory the weight occupies (its file bytes).
func (w *weight) Bytes() int64 {
	if w.f32 != nil {
		return int64(len(w.f32)) * 4
	}
	return int64(len(w.u16)) * 2
}

// rowsTo widens rows [r0, r1) into dst ((r1-r0)*cols float32).
func (w *weight) rowsTo(dst []float32, r0, r1 int) {
	if w.f32 != nil {
		copy(dst, w.f32[r0*w.cols:r1*w.cols])
		return
	}
	src := w.u16[r0*w.cols : r1*w.cols]
	dst = dst[:len(src)]
	if w.dtype == "BF16" {
		cpu.FromBF16(dst, unsafe.Slice((*cpu.BF16)(unsafe.Pointer(unsafe.SliceData(src))), len(src)))
		return
	}
	for i, h := range src {
		dst[i] = retnet.HalfToFloat32(h)
	}
}

// row returns row r as float32 (a view for F32, else widened into buf).
func (w *weight) row(buf []float32, r int) []float32 {
	if w.f32 != nil {
		return w.f32[r*w.cols : (r+1)*w.cols]
	}
	w.rowsTo(buf[:w.cols], r, r+1)
	return buf[:w.cols]
}

// blockFloats is the float32 scratch of one block of widened rows (~128 KB,
// so a block stays in L2 while the tokens stream past it).
const blockFloats = 256 << 10

var scratchPool = sync.Pool{New: func() any { s := make([]float32, blockFloats); return &s }}

// linear computes out (N, rows) = x (N, cols) W^T with float32 accumulation.
// F32 weights go straight to the sgemm, BF16 ones to cpu.LinearBF16
// (bfloat16 activations, any number of rows: BF16 dot products where the
// CPU has them) or, with float32 activations, cpu.SgemmBF16W (widened
// inside the sgemm's packing); the rest (F16, or a few rows with float32
// activations) are widened block by block, blocks spread over the CPU
// threads.
func (w *weight) linear(out, x []float32, N int) {
	if len(x) < N*w.cols || len(out) < N*w.rows {
		panic(fmt.Sprintf("hf: linear %s (%d,%d) with x %d floats, out %d floats, N=%d", w.name, w.rows, w.cols, len(x), len(out), N))
	}
	if w.f32 != nil {
		cpu.Sgemm(false, true, N, w.rows, w.cols, 1, x, w.cols, w.f32, w.cols, 0, out, w.rows)
		return
	}
	if w.dtype == "BF16" {
		wb := unsafe.Slice((*cpu.BF16)(unsafe.Pointer(unsafe.SliceData(w.u16))), len(w.u16))
		if w.bf16Dot {
			cpu.LinearBF16(N, w.rows, w.cols, x, w.cols, wb, w.cols, out, w.rows)
			return
		}
		if N > 4 {
			// Widened while packed, each weight once, x packed once per
			// block of the sgemm (not once per widened block, as below).
			cpu.SgemmBF16W(N, w.rows, w.cols, x, w.cols, wb, w.cols, out, w.rows)
			return
		}
	}
	w.linearWidened(out, x, N)
}

// linearWidened is linear for any 16-bit weights: blocks of rows widened
// to float32 in turn (each into a pooled ~1 MB scratch), each block's
// product on one thread, blocks spread over the threads. x is packed again
// for every block; BF16 weights with more than 4 rows take
// cpu.SgemmBF16W instead (BenchmarkLinear compares the two).
func (w *weight) linearWidened(out, x []float32, N int) {
	br := max(1, min(w.rows, blockFloats/w.cols)) // rows per block
	if w.cols > blockFloats {
		panic(fmt.Sprintf("hf: weight %s has %d columns, more than a block", w.name, w.cols))
	}
	blocks := (w.rows + br - 1) / br
	scratch := make([]*[]float32, parallel.Workers(blocks))
	parallel.For(blocks, func(worker, b int) {
		if scratch[worker] == nil {
			scratch[worker] = scratchPool.Get().(*[]float32)
		}
		r0 := b * br
		r1 := min(w.rows, r0+br)
		blk := (*scratch[worker])[:(r1-r0)*w.cols]
		w.rowsTo(blk, r0, r1)
		if N <= 4 { // decoding without BF16 dot products: dots beat packing for a sgemm
			for n := 0; n < N; n++ {
				xn := x[n*w.cols : (n+1)*w.cols]
				o := out[n*w.rows:]
				for r := r0; r < r1; r++ {
					o[r] = cpu.Dot(xn, blk[(r-r0)*w.cols:(r-r0+1)*w.cols])
				}
			}
			return
		}
		cpu.SgemmSerial(false, true, N, r1-r0, w.cols, 1, x, w.cols, blk, w.cols, 0, out[r0:], w.rows)
	})
	for _, s := range scratch {
		if s != nil {
			scratchPool.Put(s)
		}
	}
}
