package viz_test

import (
	"image"
	"math"
	"os"
	"os/exec"
	"testing"

	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/viz"

	"github.com/retlab/retlab/internal/testutil"
)

// needTools skips a test that needs Node.js, ECharts, playwright-core and
// Chromium when -short is set or one is missing; with
// RETLAB_REQUIRE_BROWSER=1 (set by `make test`) a missing tool fails instead,
// so CI cannot pass by skipping.
func needTools(t *testing.T) (node, nodeModules, chromium string) {
	t.Helper()
	if testing.Short() {
		t.Skip("browser/export check: skipped under -short")
	}
	miss := func(err error) {
		if os.Getenv("RETLAB_REQUIRE_BROWSER") == "1" {
			t.Fatalf("RETLAB_REQUIRE_BROWSER=1 but: %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	if _, err := viz.EChartsPath(); err != nil {
		miss(err)
	}
	var err error
	if node, err = exec.LookPath("node"); err != nil {
		miss(err)
	}
	if nodeModules, err = viz.NodeModulesPath(); err != nil {
		miss(err)
	}
	if chromium, err = viz.ChromiumPath(); err != nil {
		miss(err)
	}
	return node, nodeModules, chromium
}

// sampleFigures is one figure of every chart type, on small fixed data.
func sampleFigures() map[string]*viz.Figure {
	figs := map[string]*viz.Figure{}
	figs["decay-matrices"] = viz.DecayMatrices(retnet.Gammas(retnet.ScheduleTorchscale, 4), 48, viz.DecayOptions{Normalized: true, LogScale: true})
	figs["decay-profiles"] = viz.DecayProfiles(retnet.Gammas(retnet.ScheduleTorchscale, 4), viz.ProfileOptions{})
	var sc []retnet.RetentionScores
	toks := []string{"The", "cat", "sat", "on", "the", "mat", ".", "It"}
	for l := 0; l < 2; l++ {
		for h := 0; h < 2; h++ {
			g := 1 - math.Exp2(float64(-5-h))
			S := make([][]float32, len(toks))
			for i := range S {
				S[i] = make([]float32, len(toks))
				for j := 0; j <= i; j++ {
					S[i][j] = float32(math.Sin(float64(i*j+l+h)) * math.Pow(g, float64(i-j)))
				}
			}
			sc = append(sc, retnet.RetentionScores{Layer: l, Head: h, Gamma: g, Tokens: toks, Scores: S})
		}
	}
	figs["retention-scores"] = viz.RetentionScores(sc, viz.ScoresOptions{})
	// One small panel: the long subtitle must wrap or widen, never clip.
	figs["retention-scores-1"] = viz.RetentionScores(sc[:1], viz.ScoresOptions{LogScale: true, MaxCells: 4})
	measured := []retnet.PerplexityPoint{
		{Model: "retnet", NonEmbeddingParams: 2e6, Perplexity: 60}, {Model: "retnet", NonEmbeddingParams: 8e6, Perplexity: 41},
		{Model: "transformer", NonEmbeddingParams: 2e6, Perplexity: 58}, {Model: "transformer", NonEmbeddingParams: 8e6, Perplexity: 42},
	}
	figs["perplexity-vs-size"] = viz.PerplexityVsSize(append(measured, viz.PaperFigure5()...), viz.PerplexityOptions{})
	var inf []retnet.InferenceBench
	for _, c := range []int{128, 256, 512, 1024, 2048} {
		inf = append(inf, retnet.InferenceBench{Model: "retnet", Context: c, Batch: 1, LatencyMs: 3, TokensPerS: 333, StateBytes: 1 << 20})
		inf = append(inf, retnet.InferenceBench{Model: "transformer", Context: c, Batch: 1, LatencyMs: 2 + float64(c)/200,
			TokensPerS: 1000 / (2 + float64(c)/200), StateBytes: int64(c) * 8192})
	}
	figs["inference-cost"] = viz.InferenceCost(inf, viz.InferenceOptions{})
	figs["training-curves"] = viz.TrainingCurves(sampleRuns(200), viz.TrainingOptions{})
	figs["form-agreement"] = viz.FormAgreement([]retnet.FormAgreement{
		{Layer: 0, ParallelVsRecurrent: 1e-6, ParallelVsChunkwise: 3e-6, RecurrentVsChunkwise: 2e-6},
		{Layer: 1, ParallelVsRecurrent: 2e-6, ParallelVsChunkwise: 0, RecurrentVsChunkwise: 5e-7}}, viz.AgreementOptions{})
	return figs
}

func sampleRuns(steps int) []viz.Run {
	var runs []viz.Run
	for r, name := range []string{"retnet-base", "transformer-base"} {
		var log []retnet.LogEntry
		for s := 0; s <= steps; s += 5 {
			e := retnet.LogEntry{Step: s, Tokens: int64(s) * 4096, Loss: 2 + 8*math.Exp(-float64(s)/40) + 0.1*math.Sin(float64(s)) + 0.1*float64(r)}
			if s%50 == 0 {
				v := e.Loss + 0.05
				e.ValLoss = &v
			}
			log = append(log, e)
		}
		runs = append(runs, viz.Run{Name: name, Log: log})
	}
	return runs
}

// inkFraction is testutil.Ink, failing the test on a read error.
func inkFraction(t *testing.T, path string) (image.Rectangle, float64, int) {
	t.Helper()
	b, ink, colours, err := testutil.Ink(path)
	if err != nil {
		t.Fatal(err)
	}
	return b, ink, colours
}
