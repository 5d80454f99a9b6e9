package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/retnet/train"
)

func textCorpus(t *testing.T) string {
	var sb strings.Builder
	for i := 0; i < 400; i++ {
		sb.WriteString("func main() { fmt.Println(\"hello, world\") }\n")
	}
	p := filepath.Join(t.TempDir(), "corpus.txt")
	if err := os.WriteFile(p, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// The train -> resume -> eval -> generate path of the CLI on a tiny run.
func TestTrainEvalGenerateCLI(t *testing.T) {
	data := textCorpus(t)
	out := filepath.Join(t.TempDir(), "run")
	common := []string{"--model", "transformer", "--size", "xs", "--data", data, "--out", out, "--batch", "2", "--seq-len", "32", "--eval-tokens", "256", "--progress-every", "1h"}
	var stdout, stderr bytes.Buffer
	if err := trainMain(context.Background(), append(common, "--steps", "6"), &stdout, &stderr); err != nil {
		t.Fatalf("train: %v\n%s", err, stderr.String())
	}
	// A second fresh run into the same directory is refused.
	if err := trainMain(context.Background(), append(common, "--steps", "6"), &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "--resume") {
		t.Errorf("second run into %s: %v", out, err)
	}
	stdout.Reset()
	if err := trainMain(context.Background(), []string{"--out", out, "--resume", "--steps", "9", "--json", "--progress-every", "1h"}, &stdout, &stderr); err != nil {
		t.Fatalf("resume: %v\n%s", err, stderr.String())
	}
	var res train.Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || res.Steps != 9 {
		t.Fatalf("resume result %s (%v)", stdout.String(), err)
	}
	log, err := train.ReadLog(filepath.Join(out, train.LogFile))
	if err != nil || len(log) != 9 {
		t.Fatalf("log: %d entries, %v", len(log), err)
	}
	ckpt := filepath.Join(out, train.CheckpointFile)
	stdout.Reset()
	if code := run([]string{"eval", "--checkpoint", ckpt, "--json"}, &stdout, &stderr); code != 0 {
		t.Fatalf("eval exit %d: %s", code, stderr.String())
	}
	var rec evalRecord
	if err := json.Unmarshal(stdout.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Model != "transformer" || rec.Size != "xs" || rec.SeqLen != 32 || rec.ValLoss <= 0 || rec.TokensTrained != 9*2*32 {
		t.Errorf("eval record %+v", rec)
	}
	stdout.Reset()
	if code := run([]string{"generate", "--checkpoint", ckpt, "--prompt", "func", "--tokens", "10"}, &stdout, &stderr); code != 0 {
		t.Fatalf("generate exit %d: %s", code, stderr.String())
	}
	if got := strings.TrimSuffix(stdout.String(), "\n"); len(got) != 4+10 || !strings.HasPrefix(got, "func") {
		t.Errorf("generate printed %q", got)
	}
	// A truncated checkpoint is a clear error, not a panic.
	b, _ := os.ReadFile(ckpt)
	bad := filepath.Join(t.TempDir(), "bad.safetensors")
	os.WriteFile(bad, b[:len(b)/3], 0o644)
	stderr.Reset()
	if code := run([]string{"eval", "--checkpoint", bad}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "bad.safetensors") {
		t.Errorf("truncated checkpoint: exit %d, %s", code, stderr.String())
	}
	// A missing data path is a clear error.
	stderr.Reset()
	if code := run([]string{"train", "--out", t.TempDir(), "--data", "/no/such/dir"}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "/no/such/dir does not exist") {
		t.Errorf("missing data: exit %d, %s", code, stderr.String())
	}
}

func TestSizesCLI(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"sizes", "--json"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var sizes []map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &sizes); err != nil {
		t.Fatal(err)
	}
	if len(sizes) < 8 {
		t.Fatalf("%d sizes", len(sizes))
	}
	for _, s := range sizes {
		for _, k := range []string{"model", "size", "params", "non_embedding_params"} {
			if _, ok := s[k]; !ok {
				t.Errorf("size record %v lacks %q", s, k)
			}
		}
	}
}

func TestBenchCLI(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"bench", "inference", "--json", "--size", "xs", "--contexts", "8,16", "--batches", "1,2", "--steps", "2"}, &stdout, &stderr); code != 0 {
		t.Fatalf("bench inference exit %d: %s", code, stderr.String())
	}
	var inf []retnet.InferenceBench
	if err := json.Unmarshal(stdout.Bytes(), &inf); err != nil || len(inf) != 2*2*2 {
		t.Fatalf("bench inference: %d records, %v", len(inf), err)
	}
	stdout.Reset()
	if code := run([]string{"bench", "train", "--json", "--size", "xs", "--T", "16,32", "--tokens-per-step", "64", "--steps", "1", "--reference=false"}, &stdout, &stderr); code != 0 {
		t.Fatalf("bench train exit %d: %s", code, stderr.String())
	}
	var tr []retnet.TrainBench
	if err := json.Unmarshal(stdout.Bytes(), &tr); err != nil || len(tr) != 4 {
		t.Fatalf("bench train: %d records, %v", len(tr), err)
	}
	for _, r := range tr {
		if r.StepMs <= 0 || r.TokensPerS <= 0 || r.Batch != 64/r.SeqLen {
			t.Errorf("record %+v", r)
		}
	}
}
