package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/retlab/retlab/retnet/hf"
	"github.com/retlab/retlab/retnet/load"
)

// Pretrained Hugging Face models (package retnet/hf): every command that
// takes --checkpoint also takes --model NAME (a hub name found in the
// Hugging Face cache, or a model directory); a --checkpoint that is a
// model directory is read the same way.

func init() {
	register("models", command{"list the pretrained models (fla RetNet, Transformer++, LLaMA) in the Hugging Face cache", runModels})
}

// isHFModel reports whether a --checkpoint value names a Hugging Face
// model directory or hub name rather than a safetensors file.
func isHFModel(path string) bool { return load.IsHuggingFace(path) }

// requireModel is the check every command that reads a model starts with:
// one of --checkpoint and --model must be given.
func requireModel(checkpoint, model string) error {
	if checkpoint == "" && model == "" {
		return fmt.Errorf("--checkpoint or --model is required")
	}
	return nil
}

// pickModel returns the pretrained model named by --model, or by a
// --checkpoint that is a model directory; "" when neither applies.
func pickModel(model, checkpoint string) string {
	if model != "" {
		return model
	}
	if checkpoint != "" && isHFModel(checkpoint) {
		return checkpoint
	}
	return ""
}

func runModels(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("models", stderr)
	cache := fs.String("cache", "", "Hugging Face hub cache (default: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dir := *cache
	if dir == "" {
		dir = hf.CacheDir()
	}
	found := 0
	for _, c := range hf.ListCache(dir) {
		cfg, err := hf.ReadConfig(filepath.Join(c.Dir, hf.ConfigFile))
		if err != nil {
			fmt.Fprintf(stdout, "%-40s %s (not readable: %v)\n", c.ID, c.Revision[:min(12, len(c.Revision))], err)
			continue
		}
		found++
		fmt.Fprintf(stdout, "%-40s %-12s %-11s %6.2fB params  D=%d L=%d H=%d\n", c.ID, c.Revision[:min(12, len(c.Revision))], cfg.ModelType, float64(cfg.Params())/1e9, cfg.Hidden, cfg.Layers, cfg.Heads)
	}
	if found == 0 {
		fmt.Fprintf(stdout, "no fla/LLaMA models in %s. RetLab never downloads; fetch one with e.g.\n  %s\n", dir, hf.DownloadCommand("fla-hub/retnet-1.3B-100B", ""))
	}
	return nil
}
