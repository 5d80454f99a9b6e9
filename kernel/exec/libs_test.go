package exec_test

import (
	"testing"
	"time"
)

// TestRetnetAndVizThroughTheInterpreter drives the real packages as a
// notebook does: generic-instantiated aliases (retnet.Model), methods,
// and a viz figure rendered through its bundle method.
func TestRetnetAndVizThroughTheInterpreter(t *testing.T) {
	in := interp(t)
	for _, code := range []string{
		`import "github.com/retlab/retlab/retnet"`,
		`cfg := retnet.Config{Vocab: 16, Dim: 8, ValueDim: 8, FFNDim: 16, Layers: 1, Heads: 2}.WithDefaults()`,
		`m, err := retnet.New(cfg)`,
		`err`,
		`m.InitWeights(1)`,
		`logits, err := m.Logits([][]int{{1, 2, 3}}, retnet.Parallel, 0)`,
		`len(logits)`,
		`m.Kind()`,
		`dt := retnet.NewDecayTable(float32(-0.5), 4)`,
		`var tens retnet.TensorOf`,
		`import "github.com/retlab/retlab/viz"`,
		`f := viz.DecayProfiles(retnet.Gammas("torchscale", 4), viz.ProfileOptions{})`,
		`f`,
	} {
		t0 := time.Now()
		r := in.Eval(code)
		if r.Err != nil {
			t.Errorf("%q: %v", code, r.Err)
			continue
		}
		t.Logf("%-60q %8v types=%v text=%.80q", code, time.Since(t0), r.Bundle.Types(), r.Bundle.Text())
	}
	if r := in.Eval("len(logits)"); r.Err != nil || r.Values[0] != 3*16 {
		t.Fatalf("logits of 3 tokens x vocab 16: %v %v", r.Values, r.Err)
	}
	if r := in.Eval("tens.Data = []float32{1}\nlen(tens.Data)"); r.Err != nil || r.Values[0] != 1 {
		t.Fatalf("generic type bound at float32: %v %v", r.Values, r.Err)
	}
	if r := in.Eval("dt"); r.Err != nil || r.Bundle.Text() == "" {
		t.Fatalf("generic function bound at float32: %v", r.Err)
	}
	if r := in.Eval("f"); r.Err != nil || r.Bundle["text/html"] == nil || r.Bundle.Text() == "" {
		t.Fatalf("viz figure did not render: %v", r.Bundle.Types())
	}
}
