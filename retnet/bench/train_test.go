package bench

import (
	"testing"

	"github.com/retlab/retlab/retnet"
)

func TestBenchTrainShape(t *testing.T) {
	recs, err := Train(TrainConfig{Size: "xs", SeqLens: []int{16, 32}, TokensPerStep: 64, Steps: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 {
		t.Fatalf("%d records, want 4", len(recs))
	}
	for _, r := range recs {
		if r.Impl != "go" || r.StepMs <= 0 || r.Batch*r.SeqLen != 64 || r.PeakRSSBytes <= 0 {
			t.Errorf("record %+v", r)
		}
		if r.Model == retnet.KindTransformer && r.ActBytes <= 0 {
			t.Errorf("Transformer record without activation bytes: %+v", r)
		}
	}
}
