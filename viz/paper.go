package viz

import "github.com/retlab/retlab/retnet"

// The paper's numbers, as data, for side-by-side charts. Source: Sun et al.
// 2023, "Retentive Network: A Successor to Transformer for Large Language
// Models", arXiv 2307.08621v4, as transcribed in the project spec
// (docs/retnet-spec.md, "The paper's numbers"). The paper trained on its
// own 100B-token corpus: its perplexities are not comparable in absolute
// terms with models trained here, only in trend.
const PaperSource = "Sun et al. 2023, arXiv 2307.08621v4"

// paperNonEmbedding is the non-embedding parameter count of the paper's
// Table 2 sizes, from the fairseq presets of the same shape (xl: 2048 hidden,
// 24 layers; 3b: 2560, 32; 7b: 4096, 32): the x position of Figure 5's points.
var paperNonEmbedding = map[string]int64{"1.3B": 1_220_000_000, "2.7B": 2_520_000_000, "6.7B": 6_510_000_000}

// PaperFigure5 returns Figure 5's validation perplexity against model size,
// RetNet and Transformer, as read off the plot (about ±0.1). Source is
// "paper"; NonEmbeddingParams is that of the size's preset (see above).
func PaperFigure5() []retnet.PerplexityPoint {
	rows := []struct {
		size        string
		retnet, trf float64
	}{{"1.3B", 14.8, 14.5}, {"2.7B", 13.2, 13.4}, {"6.7B", 12.8, 13.0}}
	var out []retnet.PerplexityPoint
	for _, r := range rows {
		for _, m := range []struct {
			model string
			ppl   float64
		}{{"retnet", r.retnet}, {"transformer", r.trf}} {
			out = append(out, retnet.PerplexityPoint{
				Model: m.model, Size: r.size, NonEmbeddingParams: paperNonEmbedding[r.size],
				Perplexity: m.ppl, Source: "paper", TokensTrained: 100_000_000_000,
			})
		}
	}
	return out
}

// PaperContextPerplexity is one cell of Table 8: perplexity at a context length.
type PaperContextPerplexity struct {
	Model      string
	Context    int
	Perplexity float64
}

// PaperTable8 returns Table 8: perplexity at context 512, 1024 and 2048.
func PaperTable8() []PaperContextPerplexity {
	return []PaperContextPerplexity{
		{"transformer", 512, 13.55}, {"transformer", 1024, 12.56}, {"transformer", 2048, 12.35},
		{"retnet", 512, 13.09}, {"retnet", 1024, 12.14}, {"retnet", 2048, 11.98},
	}
}

// PaperTrainingCost is one cell of Table 4: training at sequence length 8192
// on 8 A100-80GB GPUs.
type PaperTrainingCost struct {
	Size       string
	Model      string // "transformer", "transformer+flashattention", "retnet"
	MemoryGB   float64
	WordsPerS  float64
	SeqLen     int
	HardwareAt string
}

// PaperTable4 returns Table 4: training memory and throughput.
func PaperTable4() []PaperTrainingCost {
	rows := []struct {
		size       string
		mem, words [3]float64
	}{
		{"1.3B", [3]float64{74.8, 38.8, 34.5}, [3]float64{10832.4, 63965.2, 73344.8}},
		{"2.7B", [3]float64{69.6, 42.1, 42.0}, [3]float64{5186.0, 34990.2, 38921.2}},
		{"6.7B", [3]float64{69.0, 51.4, 48.0}, [3]float64{2754.4, 16230.1, 17458.6}},
		{"13B", [3]float64{61.4, 46.3, 45.9}, [3]float64{1208.9, 7945.1, 8642.2}},
	}
	models := [3]string{"transformer", "transformer+flashattention", "retnet"}
	var out []PaperTrainingCost
	for _, r := range rows {
		for i, m := range models {
			out = append(out, PaperTrainingCost{Size: r.size, Model: m, MemoryGB: r.mem[i], WordsPerS: r.words[i],
				SeqLen: 8192, HardwareAt: "8x A100-80GB"})
		}
	}
	return out
}

// PaperInferenceClaims are Figures 1 and 6: decoding a 6.7B model with 8k
// context on an A100, RetNet against Transformer.
type PaperInferenceClaims struct {
	Size                 string
	Context              int
	Hardware             string
	ThroughputX          float64 // RetNet decoding throughput / Transformer's
	MemoryX              float64 // Transformer memory / RetNet's (Figure 1 label)
	MemoryReductionPct   float64 // Figure 6 text: 70% less memory
	LatencyX             float64 // Transformer latency / RetNet's (Figure 1 label)
	LatencyFlatOverBatch string  // RetNet latency stays flat over batch sizes
}

// PaperInference returns the Figure 1/6 claims.
func PaperInference() PaperInferenceClaims {
	return PaperInferenceClaims{
		Size: "6.7B", Context: 8192, Hardware: "A100",
		ThroughputX: 8.4, MemoryX: 3.4, MemoryReductionPct: 70, LatencyX: 15.6,
		LatencyFlatOverBatch: "batch 1-8",
	}
}

// PaperTable5 returns Table 5: in-domain perplexity of 200M-parameter models.
func PaperTable5() map[string]float64 {
	return map[string]float64{"RetNet": 26.05, "H3": 29.97, "RWKV": 30.92, "Hyena": 32.08, "Linear Transformer": 40.24}
}

// PaperTable6 returns Table 6: in-domain perplexity of RetNet ablations.
func PaperTable6() map[string]float64 {
	return map[string]float64{
		"RetNet": 26.05, "no swish gate": 27.84, "no GroupNorm": 27.54, "no γ decay": 27.86,
		"single decay γ=127/128": 27.02, "head dim 64": 27.68,
	}
}
