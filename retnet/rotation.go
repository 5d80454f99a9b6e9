package retnet

import (
	"fmt"
	"math"
)

// RotationTable holds sin/cos of n*theta_i for positions pos0..pos0+T-1 and
// the dk/2 frequencies of one head: the relative-position rotation shared by
// queries and keys (torchscale's theta_shift, interleaved pairs, no xPos scale).
type RotationTable struct {
	Pos0 int       // position of row 0
	T    int       // rows
	Half int       // dk/2 frequencies
	Sin  []float32 // (T, dk/2)
	Cos  []float32 // (T, dk/2)
}

// NewRotationTable computes the table for positions pos0..pos0+T-1 from the
// angle buffer (dk, [theta0,theta0,theta1,theta1,...]). As in torchscale the
// product n*theta is formed in float32 before sin/cos.
func NewRotationTable(angle []float32 /* (dk) */, pos0, T int) *RotationTable {
	half := len(angle) / 2
	rt := &RotationTable{Pos0: pos0, T: T, Half: half, Sin: make([]float32, T*half), Cos: make([]float32, T*half)}
	rt.fill(angle)
	return rt
}

// Reset recomputes rt in place for new positions, reusing its storage when
// large enough.
func (rt *RotationTable) Reset(angle []float32, pos0, T int) {
	half := len(angle) / 2
	if cap(rt.Sin) < T*half {
		rt.Sin, rt.Cos = make([]float32, T*half), make([]float32, T*half)
	}
	rt.Pos0, rt.T, rt.Half = pos0, T, half
	rt.Sin, rt.Cos = rt.Sin[:T*half], rt.Cos[:T*half]
	rt.fill(angle)
}

func (rt *RotationTable) fill(angle []float32) {
	for t := 0; t < rt.T; t++ {
		n := float32(rt.Pos0 + t)
		for i := 0; i < rt.Half; i++ {
			a := float64(n * angle[2*i])
			rt.Sin[t*rt.Half+i] = float32(math.Sin(a))
			rt.Cos[t*rt.Half+i] = float32(math.Cos(a))
		}
	}
}

// RotateForward rotates, in place, every head of x (rows of H*dk values,
// row t at position Pos0 + t mod T — rows are (B,T) flattened, so row r uses
// table row r % T): each pair (x_2i, x_2i+1) becomes
// (x_2i cos - x_2i+1 sin, x_2i+1 cos + x_2i sin). It panics on a size mismatch.
func RotateForward(x []float32 /* (B,T,H*dk) */, rt *RotationTable, rows, H int) {
	dk := 2 * rt.Half
	if len(x) < rows*H*dk || rows%rt.T != 0 {
		panic(fmt.Sprintf("retnet: RotateForward x has %d elements for %d rows of %d heads x %d (table T=%d)", len(x), rows, H, dk, rt.T))
	}
	rotate(x, rt, rows, H, 1)
}

// RotateBackward applies the inverse rotation (the transpose) to dx in place:
// the gradient of RotateForward.
func RotateBackward(dx []float32 /* (B,T,H*dk) */, rt *RotationTable, rows, H int) {
	rotate(dx, rt, rows, H, -1)
}

func rotate(x []float32, rt *RotationTable, rows, H int, sign float32) {
	half := rt.Half
	C := H * 2 * half
	for r := 0; r < rows; r++ {
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
}
