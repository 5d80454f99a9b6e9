package bench

import (
	"fmt"
	"math/rand/v2"
	"runtime"

	"github.com/retlab/retlab/display"
	"github.com/retlab/retlab/internal/sweep"
	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/retnet/train"
)

// TrainConfig describes `retlab bench train`: the time and memory of
// one training step (forward, backward, gradient clipping, AdamW) against
// the sequence length, at a fixed number of tokens per step, for each
// architecture at one ladder rung (the paper's Table 4 at our scale).
type TrainConfig struct {
	Models        []string // default: retnet, transformer
	Size          string   // ladder rung (default "s")
	SeqLens       []int    // default 256, 512, 1024, 2048
	TokensPerStep int      // B = max(1, TokensPerStep/T); default 4096
	Steps         int      // timed steps after one warm-up step, median reported (default 3)
}

func (c *TrainConfig) defaults() {
	if len(c.Models) == 0 {
		c.Models = []string{retnet.KindRetNet, retnet.KindTransformer}
	}
	if c.Size == "" {
		c.Size = "s"
	}
	if len(c.SeqLens) == 0 {
		c.SeqLens = []int{256, 512, 1024, 2048}
	}
	if c.TokensPerStep <= 0 {
		c.TokensPerStep = 4096
	}
	if c.Steps <= 0 {
		c.Steps = 3
	}
}

// activationSizer is implemented by models that report their planned
// activation memory.
type activationSizer interface{ ActivationBytes() int64 }

// Train measures one record per model and sequence length. RetNet
// trains in the parallel form up to T = DefaultChunk and in the chunkwise
// form (chunks of DefaultChunk) beyond, as the paper does for long
// sequences; the Transformer's attention is always exact softmax attention
// with O(T) activation memory (see attention.go). Each point
// builds a fresh model (seeded), so peak RSS (reset per point where the OS
// allows it) covers weights, gradients, moments and activations.
func Train(cfg TrainConfig) ([]retnet.TrainBench, error) {
	cfg.defaults()
	var out []retnet.TrainBench
	sw := sweep.Start(len(cfg.Models)*len(cfg.SeqLens), "bench train")
	defer sw.Close()
	for _, kind := range cfg.Models {
		for _, T := range cfg.SeqLens {
			if err := sw.Check(); err != nil {
				return out, err
			}
			mc, _, err := retnet.LadderModel(kind, cfg.Size)
			if err != nil {
				return nil, err
			}
			B := max(1, cfg.TokensPerStep/T)
			releaseMemory()
			ResetPeakRSS()
			model, err := retnet.NewLanguageModel(mc, 1)
			if err != nil {
				return nil, err
			}
			if T > retnet.DefaultChunk {
				train.SetForm(model, "chunkwise") // RetNet: linear in T beyond one chunk
			}
			step := benchStep(model, B, T)
			// warm-up (plans activation memory), then Steps timed steps: the median
			times, err := sweep.Repeat(cfg.Steps, func() error { step(); return nil }, sweep.Wall)
			if err != nil {
				return nil, err
			}
			ms := float64(times.Median().Microseconds()) / 1e3
			rec := retnet.TrainBench{Impl: "go", Model: kind, Size: cfg.Size, SeqLen: T, Batch: B, StepMs: ms,
				TokensPerS: float64(B*T) / (ms / 1e3), PeakRSSBytes: PeakRSS()}
			if a, ok := model.(activationSizer); ok {
				rec.ActBytes = a.ActivationBytes()
			}
			out = append(out, rec)
			sw.Done(display.Metric{Name: kind + " T=" + fmt.Sprint(T) + " tok/s", Value: rec.TokensPerS})
			runtime.KeepAlive(model)
		}
	}
	return out, nil
}

// benchStep returns one training step of model (forward, backward,
// clipping, AdamW) on fixed random tokens (B sequences of T), the unit
// Train and BenchmarkTrainStep time.
func benchStep(model retnet.LanguageModel, B, T int) func() {
	opt := train.NewAdamW(len(model.Weights()), train.DefaultAdamW)
	rng := rand.New(rand.NewPCG(uint64(T), 1))
	inputs, targets := make([]int32, B*T), make([]int32, B*T)
	for i := range inputs {
		inputs[i], targets[i] = int32(rng.IntN(model.VocabSize())), int32(rng.IntN(model.VocabSize()))
	}
	return func() {
		model.ZeroGrad()
		model.ForwardBackward(inputs, targets, B, T)
		train.ClipGradNorm(model.Gradients(), 1)
		opt.Update(model.Weights(), model.Gradients(), 1e-4)
	}
}

// String summarises the sweep.
func (c TrainConfig) String() string {
	return fmt.Sprintf("bench train: %v at size %s, T=%v, %d tokens/step", c.Models, c.Size, c.SeqLens, c.TokensPerStep)
}
