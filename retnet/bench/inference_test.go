package bench

import (
	"math"
	"testing"

	"github.com/retlab/retlab/retnet"
)

// The records cover every model x batch x context once, whatever the
// number of passes, each with a measured latency; RetNet's state does not
// grow with the context, the Transformer's KV cache grows linearly.
func TestBenchInferenceShape(t *testing.T) {
	ctx := []int{8, 16, 32}
	recs, err := Inference(InferenceConfig{Size: "xs", Contexts: ctx, Batches: []int{1, 2}, Steps: 2, Passes: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2*2*len(ctx) {
		t.Fatalf("%d records, want %d", len(recs), 2*2*len(ctx))
	}
	state := map[string]map[int]int64{retnet.KindRetNet: {}, retnet.KindTransformer: {}}
	for _, r := range recs {
		if r.LatencyMs <= 0 || math.IsInf(r.LatencyMs, 0) || r.TokensPerS <= 0 || r.StateBytes <= 0 || r.Size != "xs" {
			t.Errorf("record %+v", r)
		}
		if r.Batch == 2 {
			state[r.Model][r.Context] = r.StateBytes
		}
	}
	if r := state[retnet.KindRetNet]; r[8] != r[32] {
		t.Errorf("RetNet state grows with the context: %v", r)
	}
	// 2 (K,V) x L x B x context x D x 4 bytes.
	c := retnet.Ladder()[0].Transformer
	for _, n := range ctx {
		if want := int64(2 * c.Layers * 2 * n * c.Dim * 4); state[retnet.KindTransformer][n] != want {
			t.Errorf("Transformer KV cache at %d tokens: %d bytes, want %d", n, state[retnet.KindTransformer][n], want)
		}
	}
}

// RetNet's decode latency is flat in the context (max/min <= 1.2 over
// 256..8192) while the Transformer's grows. Timing on a shared machine is
// noisy, so a failing measurement is retried; an O(n) step fails every try.
func TestBenchInferenceFlatRetNet(t *testing.T) {
	if testing.Short() {
		t.Skip("times decoding at contexts up to 8192")
	}
	ctx := []int{256, 1024, 4096, 8192}
	var ratio, growth float64
	for try := 0; try < 3; try++ {
		recs, err := Inference(InferenceConfig{Size: "xs", Contexts: ctx, Batches: []int{1}, Steps: 48})
		if err != nil {
			t.Fatal(err)
		}
		ratio = FlatnessRatio(recs, retnet.KindRetNet, 1)
		lat := map[int]float64{}
		for _, r := range recs {
			if r.Model == retnet.KindTransformer {
				lat[r.Context] = r.LatencyMs
			}
		}
		growth = lat[8192] / lat[256]
		t.Logf("try %d: RetNet max/min %.3f, Transformer 8192/256 %.2f", try, ratio, growth)
		if ratio <= 1.2 && growth > 1.5 {
			return
		}
	}
	t.Errorf("RetNet latency max/min %.3f (want <= 1.2), Transformer growth %.2f (want > 1.5)", ratio, growth)
}
