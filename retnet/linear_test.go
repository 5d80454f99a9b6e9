package retnet

import (
	"math/rand/v2"
	"testing"
)

// linearJoint gives the same outputs as one LinearForward per weight,
// whether it fuses (adjacent weights, few rows) or not (separate
// allocations, many rows), and joined recognises adjacency.
func TestLinearJoint(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const IC = 24
	ocs := []int{8, 12, 4}
	flat := make([]float32, IC*(8+12+4))
	for i := range flat {
		flat[i] = float32(rng.NormFloat64())
	}
	var views, copies [][]float32
	off := 0
	for _, oc := range ocs {
		v := flat[off : off+oc*IC : off+oc*IC]
		views = append(views, v)
		copies = append(copies, append([]float32(nil), v...))
		off += oc * IC
	}
	if j := joined(views); len(j) != len(flat) || &j[0] != &flat[0] {
		t.Fatal("joined did not recognise back-to-back views of one slice")
	}
	if joined(copies) != nil || joined([][]float32{views[1], views[0]}) != nil {
		t.Fatal("joined accepted weights that are not back to back")
	}
	for _, N := range []int{1, 3, jointRows, jointRows + 1} {
		inp := make([]float32, N*IC)
		for i := range inp {
			inp[i] = float32(rng.NormFloat64())
		}
		for _, ws := range [][][]float32{views, copies} {
			var scratch []float32
			outs := make([][]float32, len(ocs))
			for j, oc := range ocs {
				outs[j] = make([]float32, N*oc)
			}
			linearJoint(&scratch, inp, N, IC, outs, ws)
			for j, oc := range ocs {
				want := make([]float32, N*oc)
				matmulLoop(false, true, N, oc, IC, 1, inp, IC, copies[j], IC, 0, want, oc)
				for i := range want {
					if d := outs[j][i] - want[i]; d > 1e-5 || d < -1e-5 {
						t.Fatalf("N=%d weight %d element %d: %g, want %g", N, j, i, outs[j][i], want[i])
					}
				}
			}
		}
	}
}
