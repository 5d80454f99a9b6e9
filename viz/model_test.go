package viz_test

import (
	"math"
	"testing"

	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/viz"
)

// TestChartsOfARealModel charts retnet's own inspection APIs: a (small,
// seeded) RetNet on a real sentence. The chart must show exactly the
// matrices the model returns, one panel per layer and head.
func TestChartsOfARealModel(t *testing.T) {
	c := retnet.Config{Vocab: 256, Dim: 32, ValueDim: 48, FFNDim: 40, Layers: 2, Heads: 4}.WithDefaults()
	m, err := retnet.New(c)
	if err != nil {
		t.Fatal(err)
	}
	m.InitWeights(7)
	text := "Retention decays the past."
	tokens := make([]int, len(text))
	labels := make([]string, len(text))
	for i := range text {
		tokens[i], labels[i] = int(text[i]), string(text[i])
	}
	scores, err := m.RetentionScores(tokens, labels)
	if err != nil {
		t.Fatal(err)
	}
	f := viz.RetentionScores(scores, viz.ScoresOptions{})
	ss := series(t, f)
	if len(ss) != c.Layers*c.Heads {
		t.Fatalf("%d panels, want layers x heads = %d", len(ss), c.Layers*c.Heads)
	}
	T := len(tokens)
	for p, s := range ss {
		want := scores[p] // the API returns layer-major, head-minor: the chart's order
		data := s["data"].([]any)
		if len(data) != T*(T+1)/2 {
			t.Fatalf("panel %d: %d cells, want %d", p, len(data), T*(T+1)/2)
		}
		for _, d := range data {
			v := d.(map[string]any)["value"].([]any)
			j, i, got := int(v[0].(float64)), int(v[1].(float64)), v[2].(float64)
			if w := float64(want.Scores[i][j]); math.Abs(got-w) > 1e-5*math.Max(1, math.Abs(w)) {
				t.Fatalf("layer %d head %d S[%d][%d]: chart %v, model %v", want.Layer, want.Head, i, j, got, w)
			}
		}
	}
	if x := f.Option["xAxis"].([]any)[0].(map[string]any)["data"].([]any); x[0] != "R" {
		t.Fatalf("axis labels %v, want the sentence's characters", x[:3])
	}
	fa, err := m.FormAgreement(tokens, 8)
	if err != nil {
		t.Fatal(err)
	}
	g := viz.FormAgreement(fa, viz.AgreementOptions{})
	for i, s := range series(t, g) {
		for l, d := range s["data"].([]any) {
			got := d.(map[string]any)["value"].(float64)
			w := []float64{fa[l].ParallelVsRecurrent, fa[l].ParallelVsChunkwise, fa[l].RecurrentVsChunkwise}[i]
			// The chart keeps 5 significant digits: relative error up to 5e-5.
			if math.Abs(got-w) > 1e-4*math.Max(w, 1e-30) {
				t.Fatalf("layer %d series %d: chart %v, model %v", l, i, got, w)
			}
		}
	}
}
