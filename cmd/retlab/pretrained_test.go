package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/viz"
)

// The pretrained-model paths of the CLI on the tiny golden models
// (retnet/testdata/hf, made by the real fla and transformers code).
func TestPretrainedCLI(t *testing.T) {
	hfdir := filepath.Join(testdata, "hf")
	retnetDir := filepath.Join(hfdir, "fla-retnet-tiny")

	// logits --model reproduces PyTorch's logits of the golden input.
	f, err := retnet.ReadSafetensors(filepath.Join(retnetDir, "expected.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	ids, shape, _ := f.Int64("input_ids")
	want, _, _ := f.Float32("logits")
	var toks []string
	for _, v := range ids[:shape[1]] {
		toks = append(toks, strconv.Itoa(int(v)))
	}
	out, errs, code := runCLI(t, "logits", "--model", retnetDir, "--tokens", strings.Join(toks, ","), "--form", "chunkwise", "--chunk", "3")
	if code != 0 {
		t.Fatalf("logits: %s", errs)
	}
	var got struct{ Logits [][]float32 }
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	V := len(got.Logits[0])
	var d float64
	for i, row := range got.Logits {
		for j, v := range row {
			d = max(d, math.Abs(float64(v-want[i*V+j])))
		}
	}
	if len(got.Logits) != shape[1]-1 || d > 3e-5 {
		t.Errorf("logits --model: %d rows, max |diff| %g vs PyTorch", len(got.Logits), d)
	}

	// generate and eval go through the model's tokenizer.json.
	if out, errs, code := runCLI(t, "generate", "--checkpoint", filepath.Join(hfdir, "llama-tiny"), "--prompt", "Retention", "--tokens", "4", "--temperature", "0"); code != 0 || !strings.HasPrefix(out, "Retention") {
		t.Errorf("generate: code %d, %q, %s", code, out, errs)
	}
	out, errs, code = runCLI(t, "eval", "--model", retnetDir, "--data", filepath.Join("..", "..", "tokenizer", "testdata", "corpus.txt"), "--seq-len", "64", "--max-tokens", "500", "--json")
	if code != 0 {
		t.Fatalf("eval: %s", errs)
	}
	var rec PretrainedEval
	if err := json.Unmarshal([]byte(out), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Tokens != 500 || rec.ModelType != "retnet" || !(rec.Perplexity > 1) || rec.Machine == "" {
		t.Errorf("eval record %+v", rec)
	}

	// figures --checkpoint draws fla's retention maps (2 layers x 4 heads)
	// of the text in the model's tokens; a Transformer has none to draw.
	figOut := t.TempDir()
	if _, err := viz.EChartsPath(); err != nil {
		t.Logf("figures --checkpoint not run: %v", err)
	} else if out, errs, code = runCLI(t, "figures", "--out", figOut, "--from", t.TempDir(), "--formats", "html", "--checkpoint", retnetDir, "--text", "Retention is all you need"); code != 0 || !regexp.MustCompile(`RetentionScores: 8 panels, T=\d+`).MatchString(out) || !strings.Contains(out, "FormAgreement: 2 layers") {
		t.Errorf("figures --checkpoint %s: code %d\n%s\n%s", retnetDir, code, out, errs)
	}
	if _, errs, code = runCLI(t, "figures", "--out", figOut, "--checkpoint", filepath.Join(hfdir, "llama-tiny")); code == 0 || !strings.Contains(errs, "is a transformer: retention scores and form agreement need a RetNet") {
		t.Errorf("figures --checkpoint llama-tiny: code %d, %s", code, errs)
	}

	// A model that is not in the cache names the download command.
	t.Setenv("HF_HUB_CACHE", t.TempDir())
	_, errs, code = runCLI(t, "eval", "--model", "fla-hub/retnet-1.3B-100B", "--data", "x")
	if code == 0 {
		t.Errorf("eval of an absent file should fail")
	}
	_, errs, code = runCLI(t, "generate", "--model", "fla-hub/retnet-1.3B-100B")
	if code == 0 || !strings.Contains(errs, "huggingface-cli download fla-hub/retnet-1.3B-100B") {
		t.Errorf("generate of an absent model: code %d, %s", code, errs)
	}
}
