package retnet

import (
	"fmt"
	"math"
	"strings"
)

// The model-size ladder of the perplexity-against-size experiment (the
// paper's Figure 5 at our scale): four rungs per architecture spanning 40x
// in non-embedding parameters (115K to 4.6M), byte-level vocabulary, head
// dim 32. Every rung trains on the same 1.2M tokens (1200 steps of 4 x 256),
// as the paper trains every size on the same data; the whole ladder, both
// architectures, fits in an hour on two cores.
//
// Parameter matching follows the paper: RetNet has value dim DV = 2D, so
// its retention holds 8 D^2 parameters (q, k: D^2 each; v, g: 2 D^2 each;
// out: 2 D^2) against attention's 4 D^2; RetNet's GLU FFN has width F = 2D
// (6 D^2) and the Transformer's the width that makes the blocks equal,
// F = 10D/3 (rounded), so both have ~14 D^2 per layer.

// LadderSize is one rung: both architectures at matched size, and the
// training recipe the ladder experiment uses for it.
type LadderSize struct {
	Name        string
	RetNet      Config
	Transformer TransformerConfig
	Train       Recipe // steps, batch, seq_len, lr of the ladder run
}

// Recipe is a training budget and schedule: what the ladder trains each rung
// with. Package train turns it into a train.Config (train.FromRecipe).
type Recipe struct {
	Model           string  // KindRetNet or KindTransformer ("" in Ladder: both)
	Size            string  // rung name
	Steps           int     // optimizer updates
	Batch           int     // B sequences per step
	SeqLen          int     // T tokens per sequence
	LR              float64 // peak learning rate
	Seed            uint64
	Warmup          int   // linear warm-up steps
	EvalEvery       int   // validate every N steps
	EvalTokens      int64 // validation tokens per evaluation
	CheckpointEvery int   // checkpoint every N steps
}

var ladderShapes = []struct {
	name  string
	D, L  int
	steps int
	lr    float64
	batch int
	seq   int
}{
	{"xs", 64, 2, 1200, 3e-3, 4, 256},
	{"s", 128, 3, 1200, 2e-3, 4, 256},
	{"m", 192, 4, 1200, 1.5e-3, 4, 256},
	{"l", 256, 5, 1200, 1e-3, 4, 256},
}

// Ladder returns the rungs from smallest to largest.
func Ladder() []LadderSize {
	out := make([]LadderSize, len(ladderShapes))
	for i, s := range ladderShapes {
		D, L, H := s.D, s.L, s.D/32
		r := Config{Vocab: ByteVocab, Dim: D, ValueDim: 2 * D, FFNDim: 2 * D, Layers: L, Heads: H}.WithDefaults()
		perLayer := r.LayerParamCount()
		// 4D^2 + 3FD + 2D = perLayer  =>  F = (perLayer - 4D^2 - 2D) / 3D
		F := int(math.Round(float64(perLayer-4*int64(D)*int64(D)-2*int64(D)) / float64(3*D)))
		t := TransformerConfig{Vocab: ByteVocab, Dim: D, FFNDim: F, Layers: L, Heads: H}.WithDefaults()
		out[i] = LadderSize{Name: s.name, RetNet: r, Transformer: t,
			Train: Recipe{Size: s.name, Steps: s.steps, Batch: s.batch, SeqLen: s.seq, LR: s.lr, Seed: 1,
				Warmup: 100, EvalEvery: 300, EvalTokens: 16384, CheckpointEvery: 300}}
	}
	return out
}

// LadderNames lists the rung names, smallest first.
func LadderNames() []string {
	var n []string
	for _, s := range ladderShapes {
		n = append(n, s.name)
	}
	return n
}

// LadderModel returns the config of architecture kind ("retnet" or
// "transformer") at rung name, a Config or a TransformerConfig, and the
// rung's training recipe.
func LadderModel(kind, name string) (cfg ModelConfig, train Recipe, err error) {
	for _, s := range Ladder() {
		if s.Name != name {
			continue
		}
		s.Train.Model = kind
		switch kind {
		case KindRetNet:
			return s.RetNet, s.Train, nil
		case KindTransformer:
			return s.Transformer, s.Train, nil
		}
		return nil, Recipe{}, fmt.Errorf("retnet: unknown model %q (want %s or %s)", kind, KindRetNet, KindTransformer)
	}
	return nil, Recipe{}, fmt.Errorf("retnet: unknown size %q (ladder: %s)", name, strings.Join(LadderNames(), ", "))
}

// LadderInfo is a SizeInfo plus the rung's training budget; it encodes as
// one flat JSON object.
type LadderInfo struct {
	SizeInfo
	TrainSteps  int   `json:"train_steps"`
	TrainTokens int64 `json:"train_tokens"`
	Batch       int   `json:"batch"`
	SeqLen      int   `json:"seq_len"`
}

// Sizes describes every rung of the ladder for both architectures, RetNet
// first (`retlab sizes --json`).
func Sizes() []LadderInfo {
	var out []LadderInfo
	for _, kind := range []string{KindRetNet, KindTransformer} {
		for _, s := range Ladder() {
			out = append(out, sizeInfo(kind, s))
		}
	}
	return out
}

func sizeInfo(kind string, s LadderSize) LadderInfo {
	tr := s.Train
	info := LadderInfo{TrainSteps: tr.Steps, TrainTokens: int64(tr.Steps * tr.Batch * tr.SeqLen), Batch: tr.Batch, SeqLen: tr.SeqLen}
	if kind == KindRetNet {
		c := s.RetNet
		p := c.Params()
		info.SizeInfo = SizeInfo{Model: kind, Size: s.Name, Params: p.Total, NonEmbeddingParams: p.NonEmbedding,
			Dim: c.Dim, Layers: c.Layers, Heads: c.Heads, FFNDim: c.FFNDim, ValueDim: c.ValueDim}
		return info
	}
	c := s.Transformer
	p := c.Params()
	info.SizeInfo = SizeInfo{Model: kind, Size: s.Name, Params: p.Total, NonEmbeddingParams: p.NonEmbedding,
		Dim: c.Dim, Layers: c.Layers, Heads: c.Heads, FFNDim: c.FFNDim}
	return info
}
