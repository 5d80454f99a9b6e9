package train

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/retlab/retlab/display"
	"github.com/retlab/retlab/internal/numtest"
	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/viz"
)

// AdamW against torch.optim.AdamW's update written out by hand for two
// steps of one parameter.
func TestAdamWStep(t *testing.T) {
	c := AdamWConfig{Beta1: 0.9, Beta2: 0.98, Eps: 1e-8, WeightDecay: 0.1}
	o := NewAdamW(2, c)
	w := []float32{1, -2}
	lr := 0.01
	grads := [][]float32{{0.5, -0.25}, {-1, 0.75}}
	ref := []float64{1, -2}
	m, v := []float64{0, 0}, []float64{0, 0}
	for step, g := range grads {
		o.Update(w, g, lr)
		tt := float64(step + 1)
		for i := range ref {
			ref[i] *= 1 - lr*c.WeightDecay
			m[i] = 0.9*m[i] + 0.1*float64(g[i])
			v[i] = 0.98*v[i] + 0.02*float64(g[i])*float64(g[i])
			mh := m[i] / (1 - math.Pow(0.9, tt))
			vh := v[i] / (1 - math.Pow(0.98, tt))
			ref[i] -= lr * mh / (math.Sqrt(vh) + 1e-8)
		}
		for i := range ref {
			if d := math.Abs(float64(w[i]) - ref[i]); d > 1e-6 {
				t.Errorf("step %d: w[%d] = %.8f, want %.8f", step+1, i, w[i], ref[i])
			}
		}
	}
	if o.Step != 2 {
		t.Errorf("Step = %d, want 2", o.Step)
	}
}

func TestSchedule(t *testing.T) {
	s := Schedule{Peak: 1e-3, Min: 1e-4, Warmup: 10, Total: 111}
	for _, tc := range []struct {
		step int
		want float64
	}{
		{0, 1e-4},    // (0+1)/10 of the peak
		{4, 5e-4},    // linear warm-up
		{9, 1e-3},    // end of warm-up: the peak
		{10, 1e-3},   // cosine starts at the peak
		{60, 5.5e-4}, // half way: (peak+min)/2
		{110, 1e-4},  // last step: min
		{500, 1e-4},  // beyond: min
		{35, 1e-4 + 9e-4*0.5*(1+math.Cos(math.Pi*25/100))},
	} {
		if got := s.LR(tc.step); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("LR(%d) = %g, want %g", tc.step, got, tc.want)
		}
	}
}

func TestClipGradNorm(t *testing.T) {
	g := []float32{3, 4}
	if n := ClipGradNorm(g, 10); n != 5 || g[0] != 3 {
		t.Errorf("no clip: norm %g g %v", n, g)
	}
	if n := ClipGradNorm(g, 1); n != 5 || math.Abs(float64(g[0])-0.6) > 1e-6 || math.Abs(float64(g[1])-0.8) > 1e-6 {
		t.Errorf("clip to 1: norm %g g %v", n, g)
	}
}

// corpus writes a small text corpus: lines of a simple grammar, enough
// structure for a tiny model to learn quickly.
func corpus(t testing.TB, files int) string {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 1))
	words := []string{"func", "return", "if", "err", "nil", "for", "range", "var", "x", "y"}
	for f := 0; f < files; f++ {
		var sb strings.Builder
		for l := 0; l < 60; l++ {
			sb.WriteString(words[rng.IntN(len(words))])
			sb.WriteString(" := ")
			sb.WriteString(words[rng.IntN(len(words))])
			sb.WriteString("()\n")
		}
		p := filepath.Join(dir, "pkg", string(rune('a'+f%26))+strings.Repeat("x", f/26)+".go")
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadDataset(t *testing.T) {
	dir := corpus(t, 40)
	os.WriteFile(filepath.Join(dir, "blob.bin"), []byte{1, 0, 2}, 0o644)
	os.MkdirAll(filepath.Join(dir, "testdata"), 0o755)
	os.WriteFile(filepath.Join(dir, "testdata", "skip.go"), []byte("skipped"), 0o644)
	d, err := LoadDataset(DataOptions{Path: dir, ValPercent: 20})
	if err != nil {
		t.Fatal(err)
	}
	if d.Files != 40 || d.ValFiles == 0 || d.ValFiles == 40 {
		t.Errorf("files %d, held out %d: want 40 text files, some (not all) held out", d.Files, d.ValFiles)
	}
	again, _ := LoadDataset(DataOptions{Path: dir, ValPercent: 20})
	if again.Fingerprint != d.Fingerprint || string(again.Val) != string(d.Val) {
		t.Errorf("loading twice gave different splits")
	}
	// A single file is split by position.
	f := filepath.Join(dir, "pkg", "a.go")
	one, err := LoadDataset(DataOptions{Path: f, ValPercent: 10})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(f)
	if string(one.Train)+string(one.Val) != string(b) || len(one.Val) != len(b)/10 {
		t.Errorf("single file split %d+%d bytes of %d", len(one.Train), len(one.Val), len(b))
	}
}

func TestLoadDatasetErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.txt")
	os.WriteFile(empty, nil, 0o644)
	emptyDir := filepath.Join(dir, "nothing")
	os.MkdirAll(emptyDir, 0o755)
	binDir := filepath.Join(dir, "bin")
	os.MkdirAll(binDir, 0o755)
	os.WriteFile(filepath.Join(binDir, "x"), []byte{0, 1, 2}, 0o644)
	for _, tc := range []struct{ path, want string }{
		{filepath.Join(dir, "missing"), "does not exist"},
		{empty, "is empty"},
		{emptyDir, "holds no text files"},
		{binDir, "holds no text files"},
	} {
		_, err := LoadDataset(DataOptions{Path: tc.path})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) {
			t.Errorf("LoadDataset(%s) error %v, want it to name the path and say %q", tc.path, err, tc.want)
		}
	}
	// Too short for a sequence: the trainer says so.
	tiny := filepath.Join(dir, "tiny.txt")
	os.WriteFile(tiny, []byte(strings.Repeat("hello world, a short text\n", 8)), 0o644)
	d, err := LoadDataset(DataOptions{Path: tiny})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := retnet.NewTransformer(retnet.TransformerConfig{Vocab: 13, Dim: 8, FFNDim: 12, Layers: 2, Heads: 2}.WithDefaults())
	_, err = New(m, d, Config{Steps: 1, SeqLen: 64}, "")
	if err == nil || !strings.Contains(err.Error(), "need at least seq_len+1 = 65") {
		t.Errorf("short data error %v", err)
	}
}

func TestDefaultCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the Go standard library")
	}
	d, err := LoadDataset(DataOptions{MaxBytes: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Train) < 3<<20 || len(d.Val) < 50000 || !strings.Contains(d.Source, "(*.go)") {
		t.Errorf("default corpus: %s", d)
	}
	t.Log(d)
}

func tinyLMs(t testing.TB) map[string]func() retnet.LanguageModel {
	return map[string]func() retnet.LanguageModel{
		retnet.KindRetNet: func() retnet.LanguageModel {
			m, err := retnet.NewLanguageModel(retnet.Config{Vocab: retnet.ByteVocab, Dim: 32, ValueDim: 64, FFNDim: 64, Layers: 1, Heads: 2}.WithDefaults(), 1)
			if err != nil {
				t.Fatal(err)
			}
			return m
		},
		retnet.KindTransformer: func() retnet.LanguageModel {
			m, err := retnet.NewLanguageModel(retnet.TransformerConfig{Vocab: retnet.ByteVocab, Dim: 32, FFNDim: 106, Layers: 1, Heads: 2}.WithDefaults(), 1)
			if err != nil {
				t.Fatal(err)
			}
			return m
		},
	}
}

func smallTrain(steps int) Config {
	return Config{Steps: steps, Batch: 4, SeqLen: 32, LR: 1e-2, Warmup: 10, Seed: 7, EvalEvery: 50, EvalTokens: 2048, CheckpointEvery: 1000}
}

// Loss falls on a small corpus within a few hundred steps, for both
// architectures, and the training log holds every step.
func TestTrainLossFalls(t *testing.T) {
	data, err := LoadDataset(DataOptions{Path: corpus(t, 30)})
	if err != nil {
		t.Fatal(err)
	}
	steps := 150
	if testing.Short() {
		steps = 60
	}
	for kind, mk := range tinyLMs(t) {
		out := t.TempDir()
		tr, err := New(mk(), data, smallTrain(steps), out)
		if err != nil {
			t.Fatal(err)
		}
		res, err := tr.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		log, err := ReadLog(filepath.Join(out, LogFile))
		if err != nil {
			t.Fatal(err)
		}
		if len(log) != steps || log[0].Step != 1 || log[steps-1].ValLoss == nil {
			t.Fatalf("%s: log has %d entries (want %d, the last with val_loss)", kind, len(log), steps)
		}
		first := log[0].Loss
		// ln 256 = 5.55 at the start; the grammar has ~2 nats/byte to learn.
		if first < 5 || res.ValLoss > 0.6*first {
			t.Errorf("%s: loss %.3f -> validation %.3f after %d steps, want a drop below 60%%", kind, first, res.ValLoss, steps)
		}
		t.Logf("%s: loss %.3f -> %.3f (validation %.3f) in %d steps, %.0f tok/s", kind, first, res.Loss, res.ValLoss, steps, res.TokensPerS)
	}
}

// cancelAt is a Sink that cancels the run after a given step, as
// Ctrl-C would.
type cancelAt struct {
	step   int
	cancel context.CancelFunc
}

func (c *cancelAt) Update(p retnet.LogEntry) {
	if p.Step == c.step {
		c.cancel()
	}
}
func (c *cancelAt) Message(string) {}

// An interrupted and resumed run reproduces an uninterrupted one exactly:
// same losses at every step, same final weights.
func TestResumeBitExact(t *testing.T) {
	data, err := LoadDataset(DataOptions{Path: corpus(t, 10)})
	if err != nil {
		t.Fatal(err)
	}
	const steps, stop = 24, 9
	for kind, mk := range tinyLMs(t) {
		cfg := smallTrain(steps)
		cfg.EvalEvery, cfg.CheckpointEvery = 5, 4 // checkpoint 8 precedes the stop
		fullDir, partDir := t.TempDir(), t.TempDir()
		full, _ := New(mk(), data, cfg, fullDir)
		if _, err := full.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		part, _ := New(mk(), data, cfg, partDir)
		ctx, cancel := context.WithCancel(context.Background())
		part.Progress = &cancelAt{stop, cancel}
		if _, err := part.Run(ctx); !errors.Is(err, display.ErrInterrupted) {
			t.Fatalf("%s: interrupted run returned %v", kind, err)
		}
		// A crash would leave log lines after the checkpoint; simulate one.
		resumed, err := Resume(filepath.Join(partDir, CheckpointFile), data, partDir, 0)
		if err != nil {
			t.Fatal(err)
		}
		if resumed.Step != stop {
			t.Fatalf("%s: resumed at step %d, want %d", kind, resumed.Step, stop)
		}
		if _, err := resumed.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		a, _ := ReadLog(filepath.Join(fullDir, LogFile))
		b, _ := ReadLog(filepath.Join(partDir, LogFile))
		if len(a) != steps || len(b) != steps {
			t.Fatalf("%s: logs have %d and %d entries, want %d", kind, len(a), len(b), steps)
		}
		for i := range a {
			if a[i].Step != b[i].Step || a[i].Loss != b[i].Loss || (a[i].ValLoss == nil) != (b[i].ValLoss == nil) ||
				(a[i].ValLoss != nil && *a[i].ValLoss != *b[i].ValLoss) {
				t.Fatalf("%s: step %d: uninterrupted loss %v, resumed %v", kind, a[i].Step, a[i].Loss, b[i].Loss)
			}
		}
		if d := numtest.MaxAbsDiff(full.Model.Weights(), resumed.Model.Weights()); d != 0 {
			t.Errorf("%s: final weights differ by %g", kind, d)
		}
	}
}

// Two runs with the same seed are identical; another seed differs.
func TestTrainDeterministic(t *testing.T) {
	data, err := LoadDataset(DataOptions{Path: corpus(t, 10)})
	if err != nil {
		t.Fatal(err)
	}
	mk := tinyLMs(t)[retnet.KindTransformer]
	run := func(seed uint64) []float32 {
		cfg := smallTrain(8)
		cfg.Seed = seed
		tr, _ := New(mk(), data, cfg, "")
		if _, err := tr.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		return tr.Model.Weights()
	}
	a, b, c := run(1), run(1), run(2)
	if numtest.MaxAbsDiff(a, b) != 0 {
		t.Errorf("same seed, different weights")
	}
	if numtest.MaxAbsDiff(a, c) == 0 {
		t.Errorf("different seeds, same weights")
	}
}

func TestCheckpointErrors(t *testing.T) {
	data, _ := LoadDataset(DataOptions{Path: corpus(t, 10)})
	dir := t.TempDir()
	tr, _ := New(tinyLMs(t)[retnet.KindTransformer](), data, smallTrain(2), dir)
	if _, err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(filepath.Join(dir, CheckpointFile))
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		return p
	}
	corrupt := append([]byte(nil), good...)
	copy(corrupt[8:], "{\"nonsense")
	for _, tc := range []struct{ path, want string }{
		{write("trunc.safetensors", good[:len(good)/2]), "trunc.safetensors"},
		{write("short.safetensors", good[:5]), "not a safetensors file"},
		{write("corrupt.safetensors", corrupt), "bad safetensors file"},
		{filepath.Join(dir, "missing.safetensors"), "no such file"},
	} {
		_, _, err := retnet.LoadLanguageModel(tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadLanguageModel(%s): %v, want an error mentioning %q", filepath.Base(tc.path), err, tc.want)
		}
		if _, err := Resume(tc.path, data, dir, 0); err == nil {
			t.Errorf("Resume(%s) accepted a bad checkpoint", filepath.Base(tc.path))
		}
	}
	// Another dataset than the checkpoint's is refused.
	other, _ := LoadDataset(DataOptions{Path: corpus(t, 11)})
	if _, err := Resume(filepath.Join(dir, CheckpointFile), other, dir, 0); err == nil || !strings.Contains(err.Error(), "fingerprint") {
		t.Errorf("resume on other data: %v", err)
	}
}

// FuzzStateOf: any __metadata__ training state gives a State or an error,
// never a panic (the model half of a checkpoint is fuzzed in package retnet).
func FuzzStateOf(f *testing.F) {
	f.Add(`{"step":3}`)
	f.Add(`{"config":{"steps":"x"}}`)
	f.Fuzz(func(t *testing.T, js string) {
		StateOf(&retnet.TensorFile{Path: "fuzz", Metadata: map[string]string{MetaKey: js}})
	})
}

// A viz live chart is a progress sink as it stands.
var _ Sink = (*viz.LiveTraining)(nil)

// recordSink keeps every entry and message it is given.
type recordSink struct {
	entries []retnet.LogEntry
	msgs    []string
}

func (r *recordSink) Update(e retnet.LogEntry) { r.entries = append(r.entries, e) }
func (r *recordSink) Message(m string)         { r.msgs = append(r.msgs, m) }

// The sink gets exactly the records the log holds (through Tee, to each
// sink), so a chart of the live run and one of its log file are the same.
func TestSinkGetsTheLoggedEntries(t *testing.T) {
	data, err := LoadDataset(DataOptions{Path: corpus(t, 10)})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	tr, err := New(tinyLMs(t)[retnet.KindTransformer](), data, smallTrain(6), out)
	if err != nil {
		t.Fatal(err)
	}
	a, b := &recordSink{}, &recordSink{}
	tr.Progress = Tee(a, b)
	if _, err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	log, err := ReadLog(filepath.Join(out, LogFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*recordSink{a, b} {
		if len(s.entries) != len(log) || len(s.msgs) == 0 {
			t.Fatalf("sink got %d entries and %d messages, log has %d entries", len(s.entries), len(s.msgs), len(log))
		}
		for i, e := range s.entries {
			if e.Step != log[i].Step || e.Loss != log[i].Loss || e.TotalSteps != 6 || (e.ValLoss == nil) != (log[i].ValLoss == nil) {
				t.Errorf("entry %d: sink %+v, log %+v", i, e, log[i])
			}
		}
	}
}
