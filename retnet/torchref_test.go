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

// The PyTorch reference that `retlab bench train` times computes the same
// function as the Go RetNet: the loss of a Go checkpoint under the script
// equals the Go model's, in the parallel and the chunkwise form.
func TestTorchReferenceIsTheSameModel(t *testing.T) {
	if testing.Short() {
		t.Skip("runs python3 with torch")
	}
	python := "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import torch").Run(); err != nil {
		t.Skipf("no torch for %s: %v", python, err)
	}
	c := Config{Vocab: ByteVocab, Dim: 32, ValueDim: 64, FFNDim: 64, Layers: 2, Heads: 2}.WithDefaults()
	m, _ := New(c)
	m.InitWeights(5)
	randomize(m.Params.Flat, 6, 0.05)
	ckpt := filepath.Join(t.TempDir(), "m.safetensors")
	if err := m.Save(ckpt, nil, nil); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const T = 32
	tokens := make([]int32, T+1)
	ids := make([]string, T+1)
	for i := range tokens {
		tokens[i] = int32(rng.IntN(ByteVocab))
		ids[i] = strconv.Itoa(int(tokens[i]))
	}
	for _, chunk := range []int{512, 8} {
		if chunk < T {
			m.TrainForm, m.TrainChunk = Chunkwise, chunk
		}
		want := m.Loss(tokens[:T], tokens[1:], 1, T)
		it := strconv.Itoa
		out, err := exec.Command(python, "../scripts/train_step_torch.py", "--verify", ckpt, "--tokens", strings.Join(ids, ","),
			"--V", it(c.Vocab), "--D", it(c.Dim), "--DV", it(c.ValueDim), "--F", it(c.FFNDim), "--L", it(c.Layers), "--H", it(c.Heads),
			"--chunk", it(chunk), "--threads", "1").Output()
		if err != nil {
			t.Fatalf("script: %v", err)
		}
		var got struct {
			Loss float64 `json:"loss"`
			Form string  `json:"form"`
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("script printed %q: %v", out, err)
		}
		if math.Abs(got.Loss-want) > 1e-4 {
			t.Errorf("%s form: PyTorch loss %.6f, Go %.6f", got.Form, got.Loss, want)
		}
		t.Logf("%s form: PyTorch %.6f, Go %.6f", got.Form, got.Loss, want)
	}
}
