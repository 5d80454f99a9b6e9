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
	args := append([]string{"../scripts/train_step_torch.py", "--verify", ckpt, "--tokens", strings.Join(ids, ","), "--threads", "1"}, flags...)
	cmd := exec.Command(python, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", python, strings.Join(args, " "), err, stderr.String())
	}
	var got struct {
		Loss float64 `json:"loss"`
		Form string  `json:"form"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("script printed %q: %v", out, err)
	}
	return got.Loss, got.Form
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
