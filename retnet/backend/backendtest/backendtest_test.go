package backendtest_test

import (
	"math"
	"testing"

	_ "github.com/retlab/retlab/retnet" // registers "cpu"
	"github.com/retlab/retlab/retnet/backend"
	"github.com/retlab/retlab/retnet/backend/backendtest"
)

// The cpu backend runs the suite: Sgemm against the naive product, the
// optional operations skip (ErrNotImplemented).
func TestCPU(t *testing.T) {
	b, err := backend.Open("cpu")
	if err != nil {
		t.Fatal(err)
	}
	backendtest.RunAll(t, b)
}

func TestRelErr(t *testing.T) {
	for _, c := range []struct {
		got, want []float32
		rel       float64
	}{
		{[]float32{1, 2}, []float32{1, 2}, 0},
		{[]float32{1, 2.5}, []float32{1, 2}, 0.25},
		{[]float32{0.5}, []float32{0}, 0.5},
		{[]float32{float32(math.NaN())}, []float32{1}, math.Inf(1)},
	} {
		if got := backendtest.RelErr(c.got, c.want); got != c.rel {
			t.Errorf("RelErr(%v, %v) = %g, want %g", c.got, c.want, got, c.rel)
		}
	}
}
