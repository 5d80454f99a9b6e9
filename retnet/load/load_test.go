package load_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/retnet/load"
)

// The references are independent of the code under test: numpy's
// torchscale RetNet (retnet/testdata/make_reference.py) and the real fla /
// transformers code (retnet/testdata/hf/make_hf_reference.py).
var (
	torchscale = filepath.Join("..", "testdata", "lm_tiny.safetensors")
	hfData     = filepath.Join("..", "testdata", "hf")
)

func reference(t *testing.T, path string) *retnet.TensorFile {
	t.Helper()
	f, err := retnet.ReadSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func tensor(t *testing.T, f *retnet.TensorFile, name string) []float32 {
	t.Helper()
	v, _, err := f.Float32(name)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// sequences reads an I64 (B,T) tensor as B token sequences.
func sequences(t *testing.T, f *retnet.TensorFile, name string) [][]int {
	t.Helper()
	v, shape, err := f.Int64(name)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]int, shape[0])
	for b := range out {
		for _, x := range v[b*shape[1] : (b+1)*shape[1]] {
			out[b] = append(out[b], int(x))
		}
	}
	return out
}

func check(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	var d float64
	for i := range got {
		d = max(d, math.Abs(float64(got[i])-float64(want[i])))
	}
	if d > tol || math.IsNaN(d) {
		t.Errorf("%s: max |diff| %.3g > %.3g", what, d, tol)
	}
}

func open(t *testing.T, path string) retnet.Inference {
	t.Helper()
	m, err := load.Model(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// decode runs prompts of length P through the decoder, then the remaining
// tokens one at a time, and returns the prefill logits (B,V) and the step
// logits, step-major (S,B,V).
func decode(t *testing.T, m retnet.Inference, seqs [][]int, P int) (pre, steps []float32) {
	t.Helper()
	dec := m.NewDecoder(len(seqs))
	prompts := make([][]int, len(seqs))
	for b, s := range seqs {
		prompts[b] = s[:P]
	}
	pre, err := dec.Prefill(prompts)
	if err != nil {
		t.Fatal(err)
	}
	pre = append([]float32(nil), pre...)
	for i := P; i < len(seqs[0]); i++ {
		col := make([]int, len(seqs))
		for b, s := range seqs {
			col[b] = s[i]
		}
		l, err := dec.Step(col)
		if err != nil {
			t.Fatal(err)
		}
		steps = append(steps, l...)
	}
	if dec.Pos() != len(seqs[0]) {
		t.Errorf("decoder at %d after %d tokens", dec.Pos(), len(seqs[0]))
	}
	return pre, steps
}

// A torchscale RetNet checkpoint comes back as a retnet.Retentive whose
// forms, decoder and decays are numpy's.
func TestTorchscaleCheckpoint(t *testing.T) {
	m := open(t, torchscale)
	r, ok := retnet.AsRetentive(m)
	if !ok || m.Kind() != retnet.KindRetNet {
		t.Fatalf("%s: a %T (kind %s), want a retnet.Retentive RetNet", torchscale, m, m.Kind())
	}
	f := reference(t, filepath.Join("..", "testdata", "lm_tiny_expected.safetensors"))
	seqs := sequences(t, f, "tokens")
	for _, form := range retnet.Forms {
		got, err := m.Logits(seqs, form, 5)
		if err != nil {
			t.Fatal(err)
		}
		check(t, string(form)+" logits", got, tensor(t, f, "logits."+string(form)), 1e-5)
	}
	// Prefill 4 tokens, then steps: each output is the next row of the
	// recurrent form's logits.
	want, V, T := tensor(t, f, "logits.recurrent"), m.VocabSize(), len(seqs[0])
	pre, steps := decode(t, m, seqs, 4)
	for b := range seqs {
		check(t, fmt.Sprintf("sequence %d prefill", b), pre[b*V:(b+1)*V], want[(b*T+3)*V:(b*T+4)*V], 1e-5)
		for s := 0; s < T-4; s++ {
			check(t, fmt.Sprintf("sequence %d step %d", b, s), steps[(s*len(seqs)+b)*V:(s*len(seqs)+b+1)*V], want[(b*T+4+s)*V:(b*T+5+s)*V], 1e-5)
		}
	}
	// torchscale's decay: gamma_h = 1 - 2^(-5-h) for 2 heads (the file's buffer).
	for h, g := range r.Gammas() {
		if w := 1 - math.Pow(2, -5-float64(h)); math.Abs(g-w) > 1e-6 {
			t.Errorf("head %d: gamma %g, want %g", h, g, w)
		}
		d, err := r.DecayMatrix(h, 3)
		if err != nil {
			t.Fatal(err)
		}
		w := 1 - math.Pow(2, -5-float64(h))
		check(t, fmt.Sprintf("head %d decay matrix", h), d, []float32{1, 0, 0, float32(w), 1, 0, float32(w * w), float32(w), 1}, 1e-6)
	}
}

// Hugging Face directories: fla's RetNet is a retnet.Retentive with fla's
// logits in every form, its prefill and steps, and its retention maps; the
// Transformers are a retnet.Inference with their library's logits.
func TestHuggingFaceDirectories(t *testing.T) {
	for _, name := range []string{"fla-retnet-tiny", "fla-retnet-tiny-sharded", "fla-retnet-tied", "fla-transformer-tiny", "llama-tiny"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(hfData, name)
			if !load.IsHuggingFace(dir) {
				t.Fatalf("IsHuggingFace(%s) = false", dir)
			}
			m := open(t, dir)
			f := reference(t, filepath.Join(dir, "expected.safetensors"))
			seqs := sequences(t, f, "input_ids")
			r, retentive := retnet.AsRetentive(m)
			if isRetNet := strings.Contains(name, "retnet"); retentive != isRetNet || (m.Kind() == retnet.KindRetNet) != isRetNet {
				t.Fatalf("a %T of kind %s: Retentive %v", m, m.Kind(), retentive)
			}
			forms := retnet.Forms
			if !retentive {
				forms = []retnet.Form{retnet.Parallel}
			}
			for _, form := range forms {
				got, err := m.Logits(seqs, form, 4)
				if err != nil {
					t.Fatal(err)
				}
				check(t, string(form)+" logits", got, tensor(t, f, "logits"), 3e-5)
			}
			P := len(sequences(t, f, "prefill_ids")[0])
			pre, steps := decode(t, m, seqs, P)
			check(t, "prefill", pre, tensor(t, f, "prefill_logits"), 3e-5)
			check(t, "steps", steps, tensor(t, f, "step_logits"), 3e-5)
			if !retentive {
				return
			}
			scores, err := r.RetentionScores(seqs[0], nil)
			if err != nil {
				t.Fatal(err)
			}
			T := len(seqs[0])
			for _, s := range scores {
				want := tensor(t, f, fmt.Sprintf("retention.%d", s.Layer))[s.Head*T*T : (s.Head+1)*T*T] // sequence 0
				var got []float32
				for _, row := range s.Scores {
					got = append(got, row...)
				}
				check(t, fmt.Sprintf("layer %d head %d retention scores", s.Layer, s.Head), got, want, 1e-5)
			}
		})
	}
}

// A hub name is looked up in the Hugging Face cache (HF_HUB_CACHE); text is
// encoded with the model's tokenizer.json.
func TestHubName(t *testing.T) {
	cache := t.TempDir()
	repo := filepath.Join(cache, "models--fla-hub--retnet-tiny")
	rev := "0123456789abcdef0123456789abcdef01234567"
	src, _ := filepath.Abs(filepath.Join(hfData, "fla-retnet-tiny"))
	if err := os.MkdirAll(filepath.Join(repo, "snapshots"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(repo, "refs"), 0o755)
	if err := os.Symlink(src, filepath.Join(repo, "snapshots", rev)); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(repo, "refs", "main"), []byte(rev), 0o644)
	t.Setenv("HF_HUB_CACHE", cache)
	m := open(t, "fla-hub/retnet-tiny")
	if _, ok := retnet.AsRetentive(m); !ok {
		t.Fatalf("a %T", m)
	}
	ids, labels, err := load.Encode(m, "Hello world")
	if err != nil || len(ids) != len(labels) || len(ids) < 2 {
		t.Fatalf("Encode: %v %v %v", ids, labels, err)
	}
	if text, err := load.Decode(m, ids); err != nil || text != "Hello world" {
		t.Errorf("Decode(Encode(%q)) = %q, %v", "Hello world", text, err)
	}
	if eos := load.EOS(m); eos != 2 { // config.json eos_token_id
		t.Errorf("EOS = %d, want 2", eos)
	}
	if _, err := load.Model("fla-hub/retnet-1.3B-100B"); err == nil || !strings.Contains(err.Error(), "huggingface-cli download fla-hub/retnet-1.3B-100B") {
		t.Errorf("a model missing from the cache: %v", err)
	}
}

// Byte-level models encode and decode text one token per byte and have no
// end-of-sequence token.
func TestEncodeBytes(t *testing.T) {
	m := open(t, torchscale) // vocabulary 37: too small for bytes
	if _, _, err := load.Encode(m, "ab"); err == nil || !strings.Contains(err.Error(), "vocabulary of 37") {
		t.Errorf("Encode with V=37: %v", err)
	}
	if text, err := load.Decode(m, []int{104, 105}); err != nil || text != "hi" {
		t.Errorf("Decode of bytes = %q, %v", text, err)
	}
	if _, err := load.Decode(m, []int{104, 300}); err == nil || !strings.Contains(err.Error(), "id 300 at position 1") {
		t.Errorf("Decode of a non-byte id: %v", err)
	}
	if load.EOS(m) != -1 {
		t.Errorf("EOS of a byte-level model = %d, want -1", load.EOS(m))
	}
}

func TestErrors(t *testing.T) {
	empty := t.TempDir()
	for _, c := range []struct{ path, want string }{
		{"", "no checkpoint named"},
		{empty, "a directory without config.json"},
		{filepath.Join(empty, "absent.safetensors"), "absent.safetensors"},
	} {
		if _, err := load.Model(c.path); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("load.Model(%q): %v, want an error containing %q", c.path, err, c.want)
		}
	}
	// retnet.Load, which returns the concrete *retnet.Model, points here.
	dir := filepath.Join(hfData, "fla-retnet-tiny")
	if _, err := retnet.Load(dir, retnet.LoadOptions{}); err == nil || !strings.Contains(err.Error(), "open it with load.Model") {
		t.Errorf("retnet.Load of a model directory: %v", err)
	}
}

// Open returns a safetensors checkpoint's file beside the model (none for a
// Hugging Face directory), and Describe's counts are those of the tensors
// the checkpoints hold (the numpy reference's, fla's save_pretrained).
func TestOpenDescribe(t *testing.T) {
	numel := func(f *retnet.TensorFile) (n int64) { // the weights: all but torchscale's retnet_rel_pos buffers
		for _, name := range f.Names() {
			if strings.HasPrefix(name, "retnet_rel_pos.") {
				continue
			}
			shape, _, _ := f.Shape(name)
			k := int64(1)
			for _, d := range shape {
				k *= int64(d)
			}
			n += k
		}
		return n
	}
	m, f, err := load.Open(torchscale)
	if err != nil || f == nil || f.Path != torchscale {
		t.Fatalf("Open(%s): file %v, %v", torchscale, f, err)
	}
	if in := load.Describe(m); in.ModelType != retnet.KindRetNet || in.DType != "F32" || in.Tokenizer || in.Revision != "" || in.Params.Total != numel(f) {
		t.Errorf("torchscale: %+v, the file holds %d parameters", in, numel(f))
	}
	dir := filepath.Join(hfData, "fla-retnet-tiny")
	h, f, err := load.Open(dir)
	if err != nil || f != nil {
		t.Fatalf("Open(%s): file %v, %v", dir, f, err)
	}
	defer h.Close()
	weights := reference(t, filepath.Join(dir, "model.safetensors"))
	const V, D = 1200, 32 // config.json: vocab_size, hidden_size; untied embeddings
	in := load.Describe(h)
	if in.ModelType != "retnet" || in.DType != "F32" || !in.Tokenizer || in.Revision != "fla-retnet-tiny" || in.Size == "" ||
		in.Params.Total != numel(weights) || in.Params.Embedding != 2*V*D || in.Params.NonEmbedding != numel(weights)-2*V*D {
		t.Errorf("fla RetNet: %+v, the file holds %d parameters", in, numel(weights))
	}
}
