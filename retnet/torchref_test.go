package retnet

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// torchPython returns a python that imports torch: the benchmark venv's
// (`make bench-deps`, current PyTorch: the code paths that are timed) or,
// failing that, Debian's (the tests' reference values, torch 1.13: the
// Transformer's unfused attention); the test is skipped when neither has it.
func torchPython(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs python with torch")
	}
	for _, python := range []string{"../.venv-bench/bin/python", "/usr/bin/python3"} {
		if err := exec.Command(python, "-c", "import torch").Run(); err == nil {
			return python
		}
	}
	t.Skip("no python with torch (.venv-bench or /usr/bin/python3)")
	return ""
}

// referenceLoss runs scripts/train_step_torch.py --verify on checkpoint
// ckpt and returns the loss it computes on tokens and the form it names.
func referenceLoss(t *testing.T, python, ckpt string, tokens []int32, flags ...string) (float64, string) {
	t.Helper()
	ids := make([]string, len(tokens))
	for i, tok := range tokens {
		ids[i] = strconv.Itoa(int(tok))
	}
	var got struct {
		Loss float64 `json:"loss"`
		Form string  `json:"form"`
	}
	verifyScript(t, python, "train_step_torch.py", ckpt, strings.Join(ids, ","), flags, &got)
	return got.Loss, got.Form
}

// verifyScript runs scripts/SCRIPT --verify ckpt --tokens tokens (one
// thread) with flags and decodes the JSON it prints into out.
func verifyScript(t *testing.T, python, script, ckpt, tokens string, flags []string, out any) {
	t.Helper()
	args := append([]string{"../scripts/" + script, "--verify", ckpt, "--tokens", tokens, "--threads", "1"}, flags...)
	cmd := exec.Command(python, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", python, strings.Join(args, " "), err, stderr.String())
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		t.Fatalf("%s printed %q: %v", script, stdout, err)
	}
}

func randomTokens(n int, seed uint64) []int32 {
	rng := rand.New(rand.NewPCG(seed, 2))
	tokens := make([]int32, n)
	for i := range tokens {
		tokens[i] = int32(rng.IntN(ByteVocab))
	}
	return tokens
}

// The PyTorch reference that `retlab bench train` times computes the same
// function as the Go RetNet: the loss of a Go checkpoint under the script
// equals the Go model's, in the parallel and the chunkwise form.
func TestTorchReferenceIsTheSameModel(t *testing.T) {
	python := torchPython(t)
	c := Config{Vocab: ByteVocab, Dim: 32, ValueDim: 64, FFNDim: 64, Layers: 2, Heads: 2}.WithDefaults()
	m, _ := New(c)
	m.InitWeights(5)
	randomize(m.Params.Flat, 6, 0.05)
	ckpt := filepath.Join(t.TempDir(), "m.safetensors")
	if err := m.Save(ckpt, nil, nil); err != nil {
		t.Fatal(err)
	}
	const T = 32
	tokens := randomTokens(T+1, 1)
	for _, chunk := range []int{512, 8} {
		if chunk < T {
			m.TrainForm, m.TrainChunk = Chunkwise, chunk
		}
		want := m.Loss(tokens[:T], tokens[1:], 1, T)
		it := strconv.Itoa
		got, form := referenceLoss(t, python, ckpt, tokens, "--V", it(c.Vocab), "--D", it(c.Dim), "--DV", it(c.ValueDim),
			"--F", it(c.FFNDim), "--L", it(c.Layers), "--H", it(c.Heads), "--chunk", it(chunk))
		if math.Abs(got-want) > 1e-4 {
			t.Errorf("%s form: PyTorch loss %.6f, Go %.6f", form, got, want)
		}
		t.Logf("%s form: PyTorch %.6f, Go %.6f", form, got, want)
	}
}

// The same for the Transformer baseline: the script's TransformerLM (torch's
// scaled_dot_product_attention) gives a Go checkpoint the Go model's loss,
// with T beyond one block of attention rows (attnBlock) so the blocked
// softmax is what is compared.
func TestTorchTransformerReferenceIsTheSameModel(t *testing.T) {
	python := torchPython(t)
	c := TransformerConfig{Vocab: ByteVocab, Dim: 32, FFNDim: 48, Layers: 2, Heads: 2}.WithDefaults()
	m, err := NewTransformer(c)
	if err != nil {
		t.Fatal(err)
	}
	m.InitWeights(5)
	randomize(m.Params.Flat, 6, 0.05)
	ckpt := filepath.Join(t.TempDir(), "t.safetensors")
	if err := m.Save(ckpt, nil, nil); err != nil {
		t.Fatal(err)
	}
	const T = attnBlock + 36
	tokens := randomTokens(T+1, 3)
	want := m.Loss(tokens[:T], tokens[1:], 1, T)
	it := strconv.Itoa
	got, _ := referenceLoss(t, python, ckpt, tokens, "--model", "transformer", "--V", it(c.Vocab), "--D", it(c.Dim),
		"--F", it(c.FFNDim), "--L", it(c.Layers), "--H", it(c.Heads))
	if math.Abs(got-want) > 1e-4 {
		t.Errorf("PyTorch loss %.6f, Go %.6f", got, want)
	}
	t.Logf("PyTorch %.6f, Go %.6f", got, want)
}

// referenceDecode runs scripts/decode_step_torch.py --verify on checkpoint
// ckpt: the PyTorch decoder steps through prompts token by token from an
// empty state and returns the last step's logits (B,V) flattened, its
// position and the bytes its state holds.
func referenceDecode(t *testing.T, python, ckpt string, prompts [][]int, flags ...string) ([]float32, int, int64) {
	t.Helper()
	seqs := make([]string, len(prompts))
	for b, p := range prompts {
		ids := make([]string, len(p))
		for i, tok := range p {
			ids[i] = strconv.Itoa(tok)
		}
		seqs[b] = strings.Join(ids, ",")
	}
	var got struct {
		Logits     [][]float32 `json:"logits"`
		Pos        int         `json:"pos"`
		StateBytes int64       `json:"state_bytes"`
	}
	verifyScript(t, python, "decode_step_torch.py", ckpt, strings.Join(seqs, ";"), flags, &got)
	var flat []float32
	for _, row := range got.Logits {
		flat = append(flat, row...)
	}
	return flat, got.Pos, got.StateBytes
}

// goDecode steps dec through prompts token by token and returns a copy of
// the last logits (B,V).
func goDecode(t *testing.T, dec Decoder, prompts [][]int) []float32 {
	t.Helper()
	var logits []float32
	step := make([]int, len(prompts))
	for i := range prompts[0] {
		for b := range prompts {
			step[b] = prompts[b][i]
		}
		var err error
		if logits, err = dec.Step(step); err != nil {
			t.Fatal(err)
		}
	}
	return append([]float32(nil), logits...)
}

// The decode step that `retlab bench inference`'s PyTorch side times
// (scripts/decode_step_torch.py: RetNet's recurrent form, the Transformer's
// KV cache with scaled_dot_product_attention) computes the Go decoders'
// function: stepping a Go checkpoint through two sequences token by token
// gives the Go decoder's logits, position and state size.
func TestTorchDecodeStepIsTheSameModel(t *testing.T) {
	python := torchPython(t)
	prompts := promptOf(2, 21, 4)
	it := strconv.Itoa
	rc := Config{Vocab: ByteVocab, Dim: 32, ValueDim: 64, FFNDim: 64, Layers: 2, Heads: 2}.WithDefaults()
	rm, _ := New(rc)
	rm.InitWeights(5)
	randomize(rm.Params.Flat, 6, 0.05)
	tc := TransformerConfig{Vocab: ByteVocab, Dim: 32, FFNDim: 48, Layers: 2, Heads: 2}.WithDefaults()
	tm, err := NewTransformer(tc)
	if err != nil {
		t.Fatal(err)
	}
	tm.InitWeights(5)
	randomize(tm.Params.Flat, 6, 0.05)
	for _, tt := range []struct {
		model interface {
			LanguageModel
			Save(path string, extra []Tensor, meta map[string]string) error
		}
		flags []string
	}{
		{rm, []string{"--model", "retnet", "--V", it(rc.Vocab), "--D", it(rc.Dim), "--DV", it(rc.ValueDim), "--F", it(rc.FFNDim), "--L", it(rc.Layers), "--H", it(rc.Heads)}},
		{tm, []string{"--model", "transformer", "--V", it(tc.Vocab), "--D", it(tc.Dim), "--F", it(tc.FFNDim), "--L", it(tc.Layers), "--H", it(tc.Heads)}},
	} {
		ckpt := filepath.Join(t.TempDir(), "m.safetensors")
		if err := tt.model.Save(ckpt, nil, nil); err != nil {
			t.Fatal(err)
		}
		dec := tt.model.NewDecoder(len(prompts))
		want := goDecode(t, dec, prompts)
		got, pos, state := referenceDecode(t, python, ckpt, prompts, tt.flags...)
		kind := tt.flags[1]
		if pos != dec.Pos() || state != dec.StateBytes() {
			t.Errorf("%s: PyTorch decoder at pos %d holding %d bytes, Go at %d holding %d", kind, pos, state, dec.Pos(), dec.StateBytes())
		}
		d := maxAbsDiff(t, got, want)
		if d > 1e-4 {
			t.Errorf("%s: last-step logits differ by up to %g", kind, d)
		}
		t.Logf("%s: %d steps of B=%d, logits max |PyTorch - Go| = %.2g", kind, pos, len(prompts), d)
	}
}
