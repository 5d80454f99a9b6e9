package retnet

import (
	"fmt"
	"math"
)

// RotationTable holds sin/cos of n*theta_i for positions pos0..pos0+T-1 and
// the dk/2 frequencies of one head: the relative-position rotation shared by
// queries and keys (torchscale's theta_shift, interleaved pairs, no xPos scale).
type RotationTable[T Float] struct {
	Pos0 int // position of row 0
	T    int // rows
	Half int // dk/2 frequencies
	Sin  []T // (T, dk/2)
	Cos  []T // (T, dk/2)
}

// NewRotationTable computes the table for positions pos0..pos0+T-1 from the
// angle buffer (dk, [theta0,theta0,theta1,theta1,...]). As in torchscale the
// product n*theta is formed in float32 before sin/cos.
func NewRotationTable[T Float](angle []T /* (dk) */, pos0, n int) *RotationTable[T] {
	rt := &RotationTable[T]{}
	rt.Reset(angle, pos0, n)
	return rt
}

// Reset recomputes rt in place for new positions, reusing its storage when
// large enough.
func (rt *RotationTable[T]) Reset(angle []T, pos0, n int) {
	half := len(angle) / 2
	if cap(rt.Sin) < n*half {
		rt.Sin, rt.Cos = make([]T, n*half), make([]T, n*half)
	}
	rt.Pos0, rt.T, rt.Half = pos0, n, half
	rt.Sin, rt.Cos = rt.Sin[:n*half], rt.Cos[:n*half]
	rt.fill(angle)
}

func (rt *RotationTable[T]) fill(angle []T) {
	for t := 0; t < rt.T; t++ {
		n := T(rt.Pos0 + t)
		for i := 0; i < rt.Half; i++ {
			a := float64(n * angle[2*i]) // n*theta in T (float32 as torchscale)
			rt.Sin[t*rt.Half+i] = T(math.Sin(a))
			rt.Cos[t*rt.Half+i] = T(math.Cos(a))
		}
	}
}

// RotateForward rotates, in place, every head of x (rows of H*dk values,
// row t at position Pos0 + t mod T — rows are (B,T) flattened, so row r uses
// table row r % T): each pair (x_2i, x_2i+1) becomes
// (x_2i cos - x_2i+1 sin, x_2i+1 cos + x_2i sin). It panics on a size mismatch.
func RotateForward[T Float](x []T /* (B,T,H*dk) */, rt *RotationTable[T], rows, H int) {
	dk := 2 * rt.Half
	if len(x) < rows*H*dk || rows%rt.T != 0 {
		panic(fmt.Sprintf("retnet: RotateForward x has %d elements for %d rows of %d heads x %d (table T=%d)", len(x), rows, H, dk, rt.T))
	}
	rotate(x, rt, rows, H, 1)
}

// RotateBackward applies the inverse rotation (the transpose) to dx in place:
// the gradient of RotateForward.
func RotateBackward[T Float](dx []T /* (B,T,H*dk) */, rt *RotationTable[T], rows, H int) {
	rotate(dx, rt, rows, H, -1)
}

func rotate[T Float](x []T, rt *RotationTable[T], rows, H int, sign T) {
	half := rt.Half
	C := H * 2 * half
	forRowBlocks(rows, C, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			t := r % rt.T
			sin, cos := rt.Sin[t*half:(t+1)*half], rt.Cos[t*half:(t+1)*half]
			row := x[r*C : (r+1)*C]
			for h := 0; h < H; h++ {
				hd := row[h*2*half : (h+1)*2*half]
				for i := 0; i < half; i++ {
					s, c := sign*sin[i], cos[i]
					x0, x1 := hd[2*i], hd[2*i+1]
					hd[2*i] = x0*c - x1*s
					hd[2*i+1] = x1*c + x0*s
				}
			}
		}
	})
}
