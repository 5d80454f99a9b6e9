package retnet_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/retlab/retlab/retnet"
)

// The learning rate warms up linearly, then follows a cosine down to Min.
func ExampleSchedule_LR() {
	s := retnet.Schedule{Peak: 1e-3, Min: 1e-4, Warmup: 4, Total: 12}
	for step := 0; step < 12; step += 2 {
		fmt.Printf("step %2d: %.2e\n", step, s.LR(step))
	}
	// Output:
	// step  0: 2.50e-04
	// step  2: 7.50e-04
	// step  4: 1.00e-03
	// step  6: 8.31e-04
	// step  8: 4.50e-04
	// step 10: 1.45e-04
}

// The size ladder matches the two architectures in non-embedding
// parameters rung by rung.
func ExampleLadder() {
	for _, s := range retnet.Ladder() {
		r, t := s.RetNet.Params().NonEmbedding, s.Transformer.Params().NonEmbedding
		fmt.Printf("%-2s D=%3d L=%d: RetNet %7d, Transformer %7d (%.2f%% apart)\n", s.Name, s.RetNet.Dim, s.RetNet.Layers, r, t, 100*math.Abs(float64(r-t))/float64(r))
	}
	// Output:
	// xs D= 64 L=2: RetNet  115008, Transformer  114880 (0.11% apart)
	// s  D=128 L=3: RetNet  689024, Transformer  689408 (0.06% apart)
	// m  D=192 L=4: RetNet 2066112, Transformer 2066112 (0.00% apart)
	// l  D=256 L=5: RetNet 4590336, Transformer 4589056 (0.03% apart)
}

// A Transformer decodes with a KV cache whose memory grows with the
// context; RetNet's recurrent state does not.
func ExampleTransformer_NewDecoder() {
	c := retnet.TransformerConfig{Vocab: 256, Dim: 32, FFNDim: 96, Layers: 2, Heads: 2}.WithDefaults()
	m, _ := retnet.NewTransformer(c)
	m.InitWeights(1)
	d := m.NewDecoder(1)
	d.Prefill([][]int{{'h', 'e', 'l', 'l', 'o'}})
	fmt.Println("after 5 tokens:", d.StateBytes(), "bytes")
	d.Step([]int{'!'})
	fmt.Println("after 6 tokens:", d.StateBytes(), "bytes")
	// Output:
	// after 5 tokens: 2560 bytes
	// after 6 tokens: 3072 bytes
}

// Training a tiny model on a small text for a few steps: losses fall, and
// the run leaves a checkpoint and a JSON-lines log in its directory.
func ExampleTrainer_Run() {
	dir, _ := os.MkdirTemp("", "retlab-example")
	defer os.RemoveAll(dir)
	text := filepath.Join(dir, "corpus.txt")
	os.WriteFile(text, []byte(strings.Repeat("the cat sat on the mat. ", 400)), 0o644)
	data, _ := retnet.LoadDataset(retnet.DataOptions{Path: text})
	model, _ := retnet.NewLanguageModel(retnet.TransformerConfig{Vocab: 256, Dim: 32, FFNDim: 96, Layers: 1, Heads: 2}.WithDefaults(), 1)
	tr, _ := retnet.NewTrainer(model, data, retnet.TrainConfig{Steps: 40, Batch: 4, SeqLen: 32, LR: 1e-2, EvalTokens: 1024}, filepath.Join(dir, "run"))
	tr.Progress = retnet.NoProgress // a notebook would see a live bar (the default, retnet.DisplayProgress)
	res, _ := tr.Run(context.Background())
	log, _ := retnet.ReadLog(filepath.Join(dir, "run", retnet.LogFile))
	fmt.Printf("%d log lines; loss fell from above 5 to below 1: %v\n", len(log), log[0].Loss > 5 && res.ValLoss < 1)
	// Output:
	// 40 log lines; loss fell from above 5 to below 1: true
}
