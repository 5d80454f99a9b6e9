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
	"github.com/retlab/retlab/retnet/train"
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
	var rec evalRecord
	if err := json.Unmarshal([]byte(out), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.EvalTokens != 500 || rec.ModelType != "retnet" || !(rec.Perplexity > 1) || rec.Machine == "" {
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

// One eval call takes checkpoints of every kind the same way (load.Open,
// the model's tokens, retnet.Perplexity): a RetLab trainer checkpoint and
// fla's RetNet directory side by side give one record each, equal to what
// each gives alone and, for RetLab's, to the trainer's validation
// (train.Evaluate) on the same split.
func TestEvalAnyCheckpoint(t *testing.T) {
	corpus := filepath.Join("..", "..", "tokenizer", "testdata", "corpus.txt")
	own := trainedCheckpoint(t, retnet.KindRetNet, corpus, false) // seq_len 16, data corpus.txt
	hfDir := filepath.Join(testdata, "hf", "fla-retnet-tiny")
	eval := func(args ...string) []evalRecord {
		t.Helper()
		out, errs, code := runCLI(t, append([]string{"eval", "--max-tokens", "64", "--batch", "3", "--json"}, args...)...)
		if code != 0 {
			t.Fatalf("eval %v: %s", args, errs)
		}
		var recs []evalRecord
		if strings.HasPrefix(strings.TrimSpace(out), "{") {
			recs = make([]evalRecord, 1)
			err := json.Unmarshal([]byte(out), &recs[0])
			if err != nil {
				t.Fatal(err)
			}
			return recs
		}
		if err := json.Unmarshal([]byte(out), &recs); err != nil {
			t.Fatal(err)
		}
		return recs
	}
	both := eval("--checkpoint", own+","+hfDir, "--data", corpus)
	if len(both) != 2 {
		t.Fatalf("%d records for two checkpoints", len(both))
	}
	r, h := both[0], both[1]
	if r.Model != retnet.KindRetNet || r.ModelType != retnet.KindRetNet || r.DType != "F32" || r.Checkpoint != own || r.SeqLen != 16 || r.EvalTokens != 64 || r.Data != corpus || r.Machine == "" {
		t.Errorf("RetLab checkpoint's record %+v", r)
	}
	if r.BitsPerByte != r.ValLoss/math.Ln2 {
		t.Errorf("byte tokens: %g bits/byte, want loss/ln 2 = %g", r.BitsPerByte, r.ValLoss/math.Ln2)
	}
	if h.Model != retnet.KindRetNet || h.ModelType != "retnet" || h.Revision != "fla-retnet-tiny" || h.Checkpoint != hfDir || h.SeqLen != 512 || h.EvalTokens != 64 || !(h.Perplexity > 1) || !(h.BitsPerByte > 0) {
		t.Errorf("Hugging Face model's record %+v", h)
	}
	alone := eval("--checkpoint", own, "--data", corpus)[0]
	model := eval("--model", hfDir, "--data", corpus)[0]
	if alone.ValLoss != r.ValLoss || model.ValLoss != h.ValLoss {
		t.Errorf("alone: %g and %g, side by side: %g and %g", alone.ValLoss, model.ValLoss, r.ValLoss, h.ValLoss)
	}
	m, _, err := retnet.LoadLanguageModel(own)
	if err != nil {
		t.Fatal(err)
	}
	data, err := train.LoadDataset(train.DataOptions{Path: corpus})
	if err != nil {
		t.Fatal(err)
	}
	if ev, err := train.Evaluate(m, data, 3, 16, 64); err != nil || ev.Loss != r.ValLoss || ev.Tokens != r.EvalTokens {
		t.Errorf("train.Evaluate: %+v, %v; eval gave %g over %d tokens", ev, err, r.ValLoss, r.EvalTokens)
	}
	// torchscale's reference RetNet has 37 tokens, too few for text's bytes:
	// an error naming the token, not a panic.
	if _, errs, code := runCLI(t, "eval", "--checkpoint", filepath.Join(testdata, "lm_tiny.safetensors"), "--data", corpus); code == 0 || !strings.Contains(errs, "outside the vocabulary [0,37)") {
		t.Errorf("eval of a 37-token model on bytes: code %d, %s", code, errs)
	}
	// A model with a tokenizer needs text to score.
	if _, errs, code := runCLI(t, "eval", "--model", hfDir); code == 0 || !strings.Contains(errs, "--data is required") {
		t.Errorf("eval --model without --data: code %d, %s", code, errs)
	}
}
