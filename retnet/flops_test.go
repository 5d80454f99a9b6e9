package retnet

import "testing"

// The parallel form's executed work: two row tiles at T = 2*ParallelTile
// compute 128x128 and 128x256 blocks of q k^T and S V, 3/4 of the full
// T x T; the other forms execute their nominal work.
func TestRetentionFLOPsExecuted(t *testing.T) {
	B, T, D, DV, H := 2, 2*ParallelTile, 64, 128, 4
	dk, dv := float64(D/H), float64(DV/H)
	proj := 2*float64(B*T*D)*float64(2*D+2*DV) + 2*float64(B*T*DV*D)
	P := float64(ParallelTile)
	core := 2 * float64(B*H) * (P*P + P*2*P) * (dk + dv)
	if got, want := RetentionFLOPsExecuted(Parallel, B, T, D, DV, H, 0), proj+core; got != want {
		t.Errorf("parallel executed = %g, want %g", got, want)
	}
	if got, full := RetentionFLOPsExecuted(Parallel, B, T, D, DV, H, 0), RetentionFLOPs(Parallel, B, T, D, DV, H, 0); got >= full {
		t.Errorf("executed %g not below nominal %g", got, full)
	}
	for _, f := range []Form{Chunkwise, Recurrent} {
		if a, b := RetentionFLOPsExecuted(f, B, T, D, DV, H, 64), RetentionFLOPs(f, B, T, D, DV, H, 64); a != b {
			t.Errorf("%s: executed %g != nominal %g", f, a, b)
		}
	}
}
