package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/retnet/backend/cuda"
	"github.com/retlab/retlab/retnet/backend/cuda/lm"
)

func init() {
	benchKinds["gpu-lm"] = benchGPULM
}

// benchGPULM times a whole RetNet LM on the GPU (package cuda/lm): the
// chunkwise forward over T tokens and recurrent decode steps, with random
// weights of a paper preset. Wall-clock times include the token upload and
// the logits download, as a generation loop sees them.
func benchGPULM(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench gpu-lm", stderr)
	asJSON := fs.Bool("json", false, "print a JSON array of records (cuda.KernelBench)")
	preset := fs.String("preset", "medium", "model preset (base, medium, xl, ...)")
	vocab := intFlag(fs, "vocab", retnet.DefaultVocab, 1, 1<<20, "vocabulary size")
	T := intFlag(fs, "T", 2048, 1, 1<<20, "tokens of the chunkwise forward")
	chunk := intFlag(fs, "chunk", 64, 1, 1<<16, "chunk size of the forward")
	batches := fs.String("batches", "1,64", "batch sizes of the decode steps")
	steps := intFlag(fs, "steps", 20, 1, 1<<16, "decode steps timed per batch size")
	repeats := intFlag(fs, "repeats", 3, 1, 1000, "forward passes timed (fastest reported)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	Bs, err := parseInts("batches", *batches)
	if err != nil {
		return err
	}
	c, err := retnet.Preset(*preset, *vocab)
	if err != nil {
		return err
	}
	b, err := cuda.Open()
	if err != nil {
		return err
	}
	defer b.Close()
	m, err := retnet.New(c)
	if err != nil {
		return err
	}
	m.InitWeights(1)
	g, err := lm.New(b, m)
	if err != nil {
		return err
	}
	defer g.Close()
	dev := b.Info().Device
	rng := rand.New(rand.NewPCG(1, 2))
	tokens := func(B, n int) [][]int {
		out := make([][]int, B)
		for i := range out {
			out[i] = make([]int, n)
			for j := range out[i] {
				out[i][j] = rng.IntN(c.Vocab)
			}
		}
		return out
	}
	var recs []cuda.KernelBench
	note := fmt.Sprintf("preset %s (D=%d, DV=%d, L=%d, H=%d, V=%d), wall clock incl. token upload and logits download", *preset, c.Dim, c.ValueDim, c.Layers, c.Heads, c.Vocab)
	x := tokens(1, *T)
	best := time.Duration(1<<63 - 1)
	for i := 0; i <= *repeats; i++ {
		t0 := time.Now()
		if _, err := g.Logits(x, retnet.Chunkwise, *chunk); err != nil {
			return err
		}
		if d := time.Since(t0); i > 0 && d < best {
			best = d
		}
	}
	ms := best.Seconds() * 1e3
	recs = append(recs, cuda.KernelBench{Impl: b.Name(), Op: "lm_forward", B: 1, T: *T, H: c.Heads, Dk: c.KeyHeadDim(), Dv: c.ValueHeadDim(),
		Chunk: min(*chunk, *T), Ms: ms, MsMedian: ms, Device: dev, Note: fmt.Sprintf("%s; %.0f tokens/s", note, float64(*T)/best.Seconds())})
	fmt.Fprintf(stderr, "lm_forward T=%d: %.2f ms\n", *T, ms)
	for _, B := range Bs {
		d, err := g.NewDecoder(B)
		if err != nil {
			return err
		}
		if _, err := d.Prefill(tokens(B, 16)); err != nil {
			d.Close()
			return err
		}
		next := make([]int, B)
		t0 := time.Now()
		for s := 0; s < *steps; s++ {
			if _, err := d.Step(next); err != nil {
				d.Close()
				return err
			}
		}
		per := time.Since(t0).Seconds() / float64(*steps)
		recs = append(recs, cuda.KernelBench{Impl: b.Name(), Op: "lm_decode_step", B: B, T: 1, H: c.Heads, Dk: c.KeyHeadDim(), Dv: c.ValueHeadDim(),
			Ms: per * 1e3, MsMedian: per * 1e3, Device: dev,
			Note: fmt.Sprintf("%s; %.0f tokens/s, state %.1f MiB", note, float64(B)/per, float64(d.StateBytes())/(1<<20))})
		fmt.Fprintf(stderr, "lm_decode_step B=%d: %.3f ms\n", B, per*1e3)
		if err := d.Close(); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(recs)
	}
	for _, r := range recs {
		fmt.Fprintf(stdout, "%-15s B=%-3d T=%-5d %10.3f ms  %s\n", r.Op, r.B, r.T, r.Ms, r.Note)
	}
	return nil
}
