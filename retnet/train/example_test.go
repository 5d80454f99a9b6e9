package train_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/retnet/train"
)

// The learning rate warms up linearly, then follows a cosine down to Min.
func ExampleSchedule_LR() {
	s := train.Schedule{Peak: 1e-3, Min: 1e-4, Warmup: 4, Total: 12}
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

// Training a tiny model on a small text for a few steps: losses fall, and
// the run leaves a checkpoint and a JSON-lines log in its directory.
func ExampleTrainer_Run() {
	dir, _ := os.MkdirTemp("", "retlab-example")
	defer os.RemoveAll(dir)
	text := filepath.Join(dir, "corpus.txt")
	os.WriteFile(text, []byte(strings.Repeat("the cat sat on the mat. ", 400)), 0o644)
	data, _ := train.LoadDataset(train.DataOptions{Path: text})
	model, _ := retnet.NewLanguageModel(retnet.TransformerConfig{Vocab: 256, Dim: 32, FFNDim: 96, Layers: 1, Heads: 2}.WithDefaults(), 1)
	tr, _ := train.New(model, data, train.Config{Steps: 40, Batch: 4, SeqLen: 32, LR: 1e-2, EvalTokens: 1024}, filepath.Join(dir, "run"))
	tr.Progress = train.NoProgress // a notebook would see a live bar (the default, train.DisplayProgress)
	res, _ := tr.Run(context.Background())
	log, _ := train.ReadLog(filepath.Join(dir, "run", train.LogFile))
	fmt.Printf("%d log lines; loss fell from above 5 to below 1: %v\n", len(log), log[0].Loss > 5 && res.ValLoss < 1)
	// Output:
	// 40 log lines; loss fell from above 5 to below 1: true
}
