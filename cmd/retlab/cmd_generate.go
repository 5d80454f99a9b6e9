package main

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/retnet/load"
)

func init() {
	register("generate", command{"sample text from a checkpoint (RetNet: recurrent decoding; Transformer: KV cache)", runGenerate})
}

func runGenerate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("generate", stderr)
	ckpt := fs.String("checkpoint", "", "checkpoint (this or --model): a RetLab safetensors file, or a Hugging Face model directory")
	modelName := fs.String("model", "", "pretrained model: a hub name in the Hugging Face cache (e.g. fla-hub/retnet-1.3B-100B) or a model directory; the prompt is encoded with its tokenizer.json")
	prompt := fs.String("prompt", "package main\n", "prompt text (byte tokens, or the pretrained model's tokenizer)")
	n := intFlag(fs, "tokens", 256, 0, 1<<20, "tokens to generate")
	temp := floatFlag(fs, "temperature", 0.8, 0, 1000, "sampling temperature (0: greedy)")
	topK := intFlag(fs, "top-k", 0, 0, 1<<24, "sample among the K most likely tokens (0: all)")
	seed := fs.Uint64("seed", 1, "sampling seed")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := requireModel(*ckpt, *modelName); err != nil {
		return err
	}
	if *n < 0 {
		return fmt.Errorf("--tokens %d: must be >= 0", *n)
	}
	if *prompt == "" {
		return fmt.Errorf("--prompt must not be empty")
	}
	opt := retnet.GenerateOptions{Tokens: *n, Temperature: *temp, TopK: *topK, Seed: *seed}
	name := *ckpt
	if *modelName != "" {
		name = *modelName
	}
	t0 := time.Now()
	model, err := load.Model(name)
	if err != nil {
		return err
	}
	defer model.Close()
	if load.IsHuggingFace(name) {
		fmt.Fprintf(stderr, "retlab: %s opened in %v\n", name, time.Since(t0).Round(time.Millisecond))
	} else if model.VocabSize() != retnet.ByteVocab {
		return fmt.Errorf("%s has a vocabulary of %d: generate works on byte-level (256) models", name, model.VocabSize())
	}
	ids, _, err := load.Encode(model, *prompt)
	if err != nil {
		return err
	}
	t0 = time.Now()
	out, err := retnet.Generate(model, ids, opt)
	if err != nil {
		return err
	}
	dt := time.Since(t0)
	if eos := load.EOS(model); eos >= 0 {
		if i := slices.Index(out, eos); i >= 0 {
			out = out[:i]
		}
	}
	text, err := load.Decode(model, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s%s\n", *prompt, text)
	fmt.Fprintf(stderr, "%s: %d prompt + %d generated tokens in %v (%.1f tokens/s, prefill included)\n", model.Kind(), len(ids), len(out), dt.Round(time.Millisecond), float64(len(out))/dt.Seconds())
	return nil
}
