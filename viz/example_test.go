package viz_test

import (
	"fmt"
	"math"
	"sort"

	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/viz"
)

// cells prints the first n heatmap cells [column, row, value] of series s.
func cells(f *viz.Figure, s, n int) {
	data := f.Option["series"].([]any)[s].(map[string]any)["data"].([]any)
	for _, d := range data[:n] {
		fmt.Println(d.(map[string]any)["value"])
	}
}

func ExampleDecayMatrices() {
	gammas := retnet.Gammas(retnet.ScheduleTorchscale, 2) // 1-2^-5, 1-2^-6
	f := viz.DecayMatrices(gammas, 3, viz.DecayOptions{Normalized: true})
	fmt.Println(f)
	cells(f, 0, 3) // head 0: D[0][0], D[1][0], D[1][1], each row divided by sqrt(row sum)
	// Output:
	// viz.DecayMatrices: 2 heads, N=3, normalized=true, log=false (700x374)
	// [0 0 1]
	// [0 1 0.690425]
	// [1 1 0.712697]
}

func ExampleDecayProfiles() {
	f := viz.DecayProfiles([]float64{0.5, 0.875}, viz.ProfileOptions{MaxDistance: 8})
	for _, s := range f.Option["series"].([]any) {
		fmt.Println(s.(map[string]any)["name"])
	}
	// Output:
	// head 0: γ=0.500, t½=1, memory=2
	// head 1: γ=0.875, t½=5.191, memory=8
}

func ExampleRetentionScores() {
	s := retnet.RetentionScores{Layer: 0, Head: 1, Gamma: 0.96875, Tokens: []string{"a", "b"},
		Scores: [][]float32{{1, 0}, {0.25, -0.75}}}
	f := viz.RetentionScores([]retnet.RetentionScores{s}, viz.ScoresOptions{})
	fmt.Println(f)
	cells(f, 0, 3) // nothing above the diagonal: the form is causal
	// Output:
	// viz.RetentionScores: 1 panels, T=2 (620x394)
	// [0 0 1]
	// [0 1 0.25]
	// [1 1 -0.75]
}

func ExamplePerplexityVsSize() {
	measured := []retnet.PerplexityPoint{{Model: "retnet", NonEmbeddingParams: 3_000_000, Perplexity: 55}}
	f := viz.PerplexityVsSize(append(measured, viz.PaperFigure5()...), viz.PerplexityOptions{})
	for _, s := range f.Option["series"].([]any) {
		fmt.Println(s.(map[string]any)["name"], len(s.(map[string]any)["data"].([]any)), "points")
	}
	// Output:
	// RetNet 1 points
	// RetNet (paper) 3 points
	// Transformer (paper) 3 points
}

func ExampleInferenceCost() {
	bench := []retnet.InferenceBench{
		{Model: "retnet", Context: 512, Batch: 1, LatencyMs: 2, TokensPerS: 500, StateBytes: 1 << 20},
		{Model: "transformer", Context: 512, Batch: 1, LatencyMs: 5, TokensPerS: 200, StateBytes: 8 << 20},
	}
	f := viz.InferenceCost(bench, viz.InferenceOptions{})
	for _, t := range f.Option["title"].([]any)[1:] {
		fmt.Println(t.(map[string]any)["text"])
	}
	// Output:
	// Memory: recurrent state / KV cache
	// Throughput
	// Latency per decode step
}

func ExampleLines() {
	// Milliseconds per token of some sweep over sequence lengths.
	fig := viz.Lines([]viz.Series{
		{Name: "parallel", Points: [][2]float64{{512, 0.04}, {2048, 0.06}, {8192, 0.16}}},
		{Name: "chunkwise", Points: [][2]float64{{512, 0.04}, {2048, 0.04}, {8192, 0.04}}, Dashed: true},
	}, viz.LinesOptions{Style: viz.Style{Title: "Cost per token"}, XName: "T", YName: "ms per token", XLog: 2})
	x := fig.Option["xAxis"].([]any)[0].(map[string]any)
	fmt.Println(fig, "- x axis", x["type"], x["min"], "..", x["max"])
	// Output:
	// viz.Lines: 2 series, 6 points (820x464) - x axis log 512 .. 8192
}

func ExampleTrainingCurves() {
	val := 2.5
	log := []retnet.LogEntry{{Step: 0, Loss: 4}, {Step: 100, Loss: 3, ValLoss: &val}}
	f := viz.TrainingCurves([]viz.Run{{Name: "base", Log: log}}, viz.TrainingOptions{Y: "ppl"})
	for _, s := range f.Option["series"].([]any) {
		m := s.(map[string]any)
		last := m["data"].([]any)[len(m["data"].([]any))-1].(map[string]any)["value"].([]any)
		fmt.Printf("%s: step %v, perplexity %.2f\n", m["name"], last[0], last[1])
	}
	// Output:
	// base train: step 100, perplexity 20.09
	// base val: step 100, perplexity 12.18
}

func ExampleLiveTraining() {
	live := viz.NewLiveTraining(viz.TrainingOptions{})
	for step := 0; step < 3; step++ {
		live.Add("base", retnet.LogEntry{Step: step, Loss: 4 / math.Sqrt(float64(step+1))})
		// In a notebook: display.Update(live) re-sends live.MIMEBundle()
		// under live.DisplayID(); the chart on the page updates in place.
	}
	fmt.Println(live.Figure())
	// Output:
	// viz.TrainingCurves: 1 runs, 3 points (820x464)
}

func ExampleFormAgreement() {
	rows := []retnet.FormAgreement{{Layer: 0, ParallelVsRecurrent: 3e-7, ParallelVsChunkwise: 2e-6, RecurrentVsChunkwise: 2e-6}}
	fmt.Println(viz.FormAgreement(rows, viz.AgreementOptions{}))
	// Output:
	// viz.FormAgreement: 1 layers, worst 2e-06 (560x420)
}

func ExampleFigure_MIMEBundle() {
	viz.BundleSVG = false // keep the example independent of Node.js
	defer func() { viz.BundleSVG = true }()
	b := viz.DecayProfiles([]float64{0.9}, viz.ProfileOptions{}).MIMEBundle()
	var types []string
	for k := range b {
		types = append(types, k)
	}
	sort.Strings(types)
	fmt.Println(types)
	// Output:
	// [text/html text/plain]
}

func ExamplePaperFigure5() {
	for _, p := range viz.PaperFigure5()[:2] {
		fmt.Println(p.Size, p.Model, p.Perplexity, p.Source)
	}
	// Output:
	// 1.3B retnet 14.8 paper
	// 1.3B transformer 14.5 paper
}
