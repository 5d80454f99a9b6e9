package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/viz"
)

func TestFiguresFlags(t *testing.T) {
	var out, errb bytes.Buffer
	if rc := run([]string{"figures"}, &out, &errb); rc != 2 || !strings.Contains(errb.String(), "--out") {
		t.Fatalf("no --out: rc %d, stderr %q", rc, errb.String())
	}
	errb.Reset()
	if rc := run([]string{"figures", "--out", t.TempDir(), "--formats", "gif"}, &out, &errb); rc != 1 || !strings.Contains(errb.String(), "gif") {
		t.Fatalf("bad format: rc %d, stderr %q", rc, errb.String())
	}
}

// TestFiguresFromResults writes a small results directory and checks every
// figure it allows comes out in every format.
func TestFiguresFromResults(t *testing.T) {
	if testing.Short() {
		t.Skip("renders figures with node and Chromium")
	}
	for _, need := range []func() (string, error){viz.EChartsPath, viz.NodeModulesPath, viz.ChromiumPath} {
		if _, err := need(); err != nil {
			if os.Getenv("RETLAB_REQUIRE_BROWSER") == "1" {
				t.Fatal(err)
			}
			t.Skip(err)
		}
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip(err)
	}
	res := t.TempDir()
	write := func(name string, v any) {
		p := filepath.Join(res, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		b, _ := json.Marshal(v)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var inf []retnet.InferenceBench
	for _, c := range []int{64, 128, 256} {
		for _, b := range []int{1, 4} {
			inf = append(inf, retnet.InferenceBench{Model: "retnet", Context: c, Batch: b, LatencyMs: 1, TokensPerS: float64(b) * 1000, StateBytes: 1 << 16})
			inf = append(inf, retnet.InferenceBench{Model: "transformer", Context: c, Batch: b, LatencyMs: float64(c) / 64, TokensPerS: float64(b) * 64000 / float64(c), StateBytes: int64(c * b << 10)})
		}
	}
	write("inference.json", inf)
	write("perplexity.json", []retnet.PerplexityPoint{{Model: "retnet", NonEmbeddingParams: 1e6, Perplexity: 70}, {Model: "transformer", NonEmbeddingParams: 1e6, Perplexity: 69}})
	write("form-agreement.json", []retnet.FormAgreement{{Layer: 0, ParallelVsRecurrent: 1e-6, ParallelVsChunkwise: 2e-6, RecurrentVsChunkwise: 1e-6}})
	write("retention-scores.json", []retnet.RetentionScores{{Layer: 0, Head: 0, Gamma: 0.9, Scores: [][]float32{{1, 0}, {0.5, 0.5}}}})
	var log bytes.Buffer
	for s := 0; s < 10; s++ {
		b, _ := json.Marshal(retnet.LogEntry{Step: s, Tokens: int64(s * 512), Loss: 5 - 0.1*float64(s)})
		log.Write(append(b, '\n'))
	}
	os.MkdirAll(filepath.Join(res, "train", "base"), 0o755)
	os.WriteFile(filepath.Join(res, "train", "base", "log.jsonl"), log.Bytes(), 0o644)

	// A real (small, seeded) model: its scores and form agreement replace the files'.
	c := retnet.Config{Vocab: 256, Dim: 16, ValueDim: 24, FFNDim: 20, Layers: 2, Heads: 2}.WithDefaults()
	model, err := retnet.New(c)
	if err != nil {
		t.Fatal(err)
	}
	model.InitWeights(3)
	ckpt := filepath.Join(res, "tiny.safetensors")
	if err := model.Save(ckpt, nil, nil); err != nil {
		t.Fatal(err)
	}

	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	if rc := run([]string{"figures", "--out", out, "--from", res, "--formats", "svg,png,pdf,html", "--heads", "4", "--len", "16", "--checkpoint", ckpt, "--text", "hello, retention"}, &stdout, &stderr); rc != 0 {
		t.Fatalf("rc %d: %s", rc, stderr.String())
	}
	t.Log(strings.TrimSpace(stdout.String()))
	if !strings.Contains(stdout.String(), "RetentionScores: 4 panels, T=16") {
		t.Errorf("retention scores should come from the checkpoint (2 layers x 2 heads, 16 bytes):\n%s", stdout.String())
	}
	for _, name := range []string{"decay-matrices", "decay-matrices-raw", "decay-profiles", "perplexity-vs-size", "inference-vs-context",
		"inference-vs-batch", "form-agreement", "retention-scores", "training-loss", "training-loss-tokens"} {
		for _, ext := range []string{".svg", ".png", ".pdf", ".html"} {
			st, err := os.Stat(filepath.Join(out, name+ext))
			if err != nil || st.Size() < 1000 {
				t.Errorf("%s%s: %v (size %v)", name, ext, err, st)
			}
		}
	}
}
