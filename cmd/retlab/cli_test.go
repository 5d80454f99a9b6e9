package main

import (
	"bytes"
	"encoding/json"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/retlab/retlab/retnet"
)

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return o.String(), e.String(), code
}

var testdata = filepath.Join("..", "..", "retnet", "testdata")

// retlab logits on the reference checkpoint reproduces the numpy reference's
// logits and NLL for the first sequence (inputs tokens[:-1]).
func TestLogitsMatchesReference(t *testing.T) {
	exp, err := retnet.ReadSafetensors(filepath.Join(testdata, "lm_tiny_expected.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	tokens, ts, _ := exp.Int64("tokens")
	T := ts[1]
	var ids []string
	for _, v := range tokens[:T] {
		ids = append(ids, strconv.FormatInt(v, 10))
	}
	for _, form := range []string{"parallel", "recurrent", "chunkwise"} {
		out, errs, code := runCLI(t, "logits", "--checkpoint", filepath.Join(testdata, "lm_tiny.safetensors"),
			"--tokens", strings.Join(ids, ","), "--form", form, "--chunk", "5")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", form, code, errs)
		}
		var got struct {
			Logits  [][]float64 `json:"logits"`
			NLL     []float64   `json:"nll"`
			MeanNLL float64     `json:"mean_nll"`
			PPL     float64     `json:"ppl"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		want, ws, _ := exp.Float32("logits." + form)
		V := ws[2]
		if len(got.Logits) != T-1 {
			t.Fatalf("%s: %d logit rows, want %d", form, len(got.Logits), T-1)
		}
		for i, row := range got.Logits {
			for j, v := range row {
				if d := math.Abs(v - float64(want[i*V+j])); d > 1e-5 {
					t.Fatalf("%s: logits[%d][%d] = %g, reference %g", form, i, j, v, want[i*V+j])
				}
			}
		}
		wantNLL, _, _ := exp.Float32("nll." + form)
		var sum float64
		for i, v := range got.NLL {
			sum += float64(wantNLL[i])
			if d := math.Abs(v - float64(wantNLL[i])); d > 1e-5 {
				t.Fatalf("%s: nll[%d] = %g, reference %g", form, i, v, wantNLL[i])
			}
		}
		if mean := sum / float64(len(got.NLL)); math.Abs(got.MeanNLL-mean) > 1e-5 || math.Abs(got.PPL-math.Exp(mean)) > 1e-4 {
			t.Errorf("%s: mean_nll %g ppl %g, reference mean %g", form, got.MeanNLL, got.PPL, mean)
		}
	}
}

func TestDecayJSON(t *testing.T) {
	out, errs, code := runCLI(t, "decay", "--heads", "3", "--len", "4", "--schedule", "paper", "--raw")
	if code != 0 {
		t.Fatal(errs)
	}
	var got struct {
		Gamma []float64     `json:"gamma"`
		Mask  [][][]float64 `json:"mask"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	// paper schedule, H=3: 1 - exp(linspace(log 1/32, log 1/512, 3)) = 1 - 1/32, 1 - 1/128, 1 - 1/512.
	for h, want := range []float64{1 - 1.0/32, 1 - 1.0/128, 1 - 1.0/512} {
		if math.Abs(got.Gamma[h]-want) > 1e-12 {
			t.Errorf("gamma[%d] = %v, want %v", h, got.Gamma[h], want)
		}
		// raw mask: gamma^(n-m) below the diagonal (float32 of the float32 log)
		if m := got.Mask[h][3][1]; math.Abs(m-want*want) > 1e-6 || got.Mask[h][1][3] != 0 {
			t.Errorf("mask[%d][3][1] = %v, want %v; above diagonal %v", h, m, want*want, got.Mask[h][1][3])
		}
	}
}

func TestCLIErrorsNameTheProblem(t *testing.T) {
	ck := filepath.Join(testdata, "lm_tiny.safetensors")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"logits", "--checkpoint", ck, "--tokens", "1,2", "--form", "sideways"}, `unknown retention form "sideways"`},
		{[]string{"logits", "--checkpoint", ck, "--tokens", "1,x"}, `--tokens entry 1 ("x")`},
		{[]string{"logits", "--checkpoint", ck, "--tokens", "1,99"}, "token 99 at position 1 is outside the vocabulary [0,37)"},
		{[]string{"logits", "--checkpoint", ck, "--tokens", "5"}, "at least 2 ids"},
		{[]string{"logits", "--checkpoint", "/nonexistent.safetensors", "--tokens", "1,2"}, "/nonexistent.safetensors"},
		{[]string{"logits", "--checkpoint", ck, "--tokens", "1,2", "--activation", "relu"}, `--activation "relu"`},
		{[]string{"decay", "--heads", "0"}, "for flag -heads: want an integer in 1..4096"},
		{[]string{"decay", "--heads", "1", "--len", "4294967296"}, "for flag -len: want an integer in 1..65536"},
		{[]string{"train", "--out", t.TempDir(), "--batch", "1000000000"}, "for flag -batch"},
		{[]string{"eval", "--checkpoint", ck, "--batch", "1000000000"}, "for flag -batch"},
		{[]string{"train", "--out", t.TempDir(), "--lr", "Inf"}, "for flag -lr: want a finite number"},
		{[]string{"train", "--out", t.TempDir(), "--weight-decay", "NaN"}, "for flag -weight-decay: want a finite number"},
		{[]string{"train", "--out", t.TempDir(), "--batch", "4096", "--seq-len", "4096"}, "--batch 4096 x --seq-len 4096"},
		{[]string{"decay", "--schedule", "linear"}, `--schedule "linear"`},
	}
	for _, c := range cases {
		_, errs, code := runCLI(t, c.args...)
		if code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want it to say %q", c.args, code, errs, c.want)
		}
	}
}
