package retnet

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/retlab/retlab/internal/numtest"
)

func tinyTransformerConfig() TransformerConfig {
	return TransformerConfig{Vocab: 13, Dim: 8, FFNDim: 12, Layers: 2, Heads: 2}.WithDefaults()
}

// randomize perturbs every parameter (norm weights included) so that no
// gradient is accidentally zero or symmetric.
func randomize[T Float](flat []T, seed uint64, std float64) {
	rng := rand.New(rand.NewPCG(seed, 99))
	for i := range flat {
		flat[i] += T(rng.NormFloat64() * std)
	}
}

// TestGradCausalAttention checks the attention core with T larger than one
// block of query rows, so the block loop is exercised.
func TestGradCausalAttention(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 1))
	for _, nT := range []int{5, attnBlock + 7} {
		B, H, dk := 2, 2, 4
		C := H * dk
		q, k, v := numtest.Randn[float64](rng, B*nT*C, 1), numtest.Randn[float64](rng, B*nT*C, 1), numtest.Randn[float64](rng, B*nT*C, 1)
		ow := numtest.Randn[float64](rng, B*nT*C, 1)
		o, lse := make([]float64, B*nT*C), make([]float64, B*H*nT)
		var ws AttentionActs[float64]
		loss := func() float64 { CausalAttentionForward(o, lse, q, k, v, B, nT, H, dk, &ws); return dotF(o, ow) }
		loss()
		dq, dkk, dv := make([]float64, len(q)), make([]float64, len(k)), make([]float64, len(v))
		CausalAttentionBackward(dq, dkk, dv, ow, q, k, v, o, lse, B, nT, H, dk, &ws)
		gradCheck(t, "attention dq", q, dq, loss)
		gradCheck(t, "attention dk", k, dkk, loss)
		gradCheck(t, "attention dv", v, dv, loss)
	}
}

// TestCausalAttentionNaive compares the blocked core with the plain
// definition, including causality (a later token never changes an output).
func TestCausalAttentionNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	B, nT, H, dk := 2, attnBlock+9, 3, 4
	C := H * dk
	q, k, v := numtest.Randn[float64](rng, B*nT*C, 1), numtest.Randn[float64](rng, B*nT*C, 1), numtest.Randn[float64](rng, B*nT*C, 1)
	o, lse := make([]float64, B*nT*C), make([]float64, B*H*nT)
	var ws AttentionActs[float64]
	CausalAttentionForward(o, lse, q, k, v, B, nT, H, dk, &ws)
	worst := 0.0
	for b := 0; b < B; b++ {
		for h := 0; h < H; h++ {
			for i := 0; i < nT; i++ {
				s := make([]float64, i+1)
				mx := math.Inf(-1)
				for j := range s {
					for d := 0; d < dk; d++ {
						s[j] += q[(b*nT+i)*C+h*dk+d] * k[(b*nT+j)*C+h*dk+d]
					}
					s[j] /= math.Sqrt(float64(dk))
					mx = math.Max(mx, s[j])
				}
				var z float64
				for j := range s {
					s[j] = math.Exp(s[j] - mx)
					z += s[j]
				}
				if d := math.Abs(lse[(b*H+h)*nT+i] - (mx + math.Log(z))); d > 1e-12 {
					t.Fatalf("lse b=%d h=%d i=%d off by %g", b, h, i, d)
				}
				for d := 0; d < dk; d++ {
					var want float64
					for j := range s {
						want += s[j] / z * v[(b*nT+j)*C+h*dk+d]
					}
					worst = math.Max(worst, math.Abs(want-o[(b*nT+i)*C+h*dk+d]))
				}
			}
		}
	}
	if worst > 1e-12 {
		t.Errorf("blocked attention differs from the definition by %g", worst)
	}
}

func TestGradAttentionLayer(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 3))
	B, nT, D, H := 2, 5, 8, 2
	N := B * nT
	w := func() []float64 { return numtest.Randn[float64](rng, D*D, 0.5) }
	a := &Attention[float64]{D: D, H: H, Wq: w(), Wk: w(), Wv: w(), Wo: w()}
	x, ow := numtest.Randn[float64](rng, N*D, 1), numtest.Randn[float64](rng, N*D, 1)
	rot := NewRotationTable(convert[float64](Angles(D/H)), 0, nT)
	acts := newAttentionActs[float64](N, D, H)
	out := make([]float64, N*D)
	loss := func() float64 { a.Forward(out, x, B, nT, rot, &acts); return dotF(out, ow) }
	loss()
	g := &Attention[float64]{D: D, H: H, Wq: make([]float64, D*D), Wk: make([]float64, D*D), Wv: make([]float64, D*D), Wo: make([]float64, D*D)}
	dx := make([]float64, N*D)
	a.Backward(dx, g, ow, x, B, nT, rot, &acts, make([]float64, 4*N*D))
	gradCheck(t, "attention layer dx", x, dx, loss)
	gradCheck(t, "attention layer dWq", a.Wq, g.Wq, loss)
	gradCheck(t, "attention layer dWk", a.Wk, g.Wk, loss)
	gradCheck(t, "attention layer dWv", a.Wv, g.Wv, loss)
	gradCheck(t, "attention layer dWo", a.Wo, g.Wo, loss)
}

// TestGradTransformer checks every parameter tensor of the whole model
// (float64) against finite differences of the mean cross-entropy.
func TestGradTransformer(t *testing.T) {
	for _, act := range []string{"swish", "gelu"} {
		c := tinyTransformerConfig()
		c.Activation = act
		m, err := newTransformer[float64](c)
		if err != nil {
			t.Fatal(err)
		}
		m.InitWeights(3)
		randomize(m.Params.Flat, 4, 0.3)
		B, nT := 2, 6
		rng := rand.New(rand.NewPCG(5, 5))
		inputs, targets := make([]int32, B*nT), make([]int32, B*nT)
		for i := range inputs {
			inputs[i], targets[i] = int32(rng.IntN(c.Vocab)), int32(rng.IntN(c.Vocab))
		}
		targets[3] = -1 // ignored position
		m.ZeroGrad()
		l0 := m.ForwardBackward(inputs, targets, B, nT)
		if l1 := m.Loss(inputs, targets, B, nT); math.Abs(l0-l1) > 1e-12 {
			t.Fatalf("ForwardBackward loss %g, Loss %g", l0, l1)
		}
		grads := m.grads.Tensors(c)
		for i, p := range m.Params.Tensors(c) {
			gradCheck(t, act+" "+p.Name, p.Data, grads[i].Data, func() float64 { return m.Loss(inputs, targets, B, nT) })
		}
	}
}

// TestTransformerFloat32MatchesFloat64 runs the same weights in both
// element types: the float32 model is the float64 one up to rounding.
func TestTransformerFloat32MatchesFloat64(t *testing.T) {
	c := tinyTransformerConfig()
	m32, _ := NewTransformer(c)
	m32.InitWeights(1)
	m64, _ := newTransformer[float64](c)
	for i, v := range m32.Params.Flat {
		m64.Params.Flat[i] = float64(v)
	}
	B, nT := 2, 70
	rng := rand.New(rand.NewPCG(1, 2))
	in, tg := make([]int32, B*nT), make([]int32, B*nT)
	for i := range in {
		in[i], tg[i] = int32(rng.IntN(c.Vocab)), int32(rng.IntN(c.Vocab))
	}
	l32 := m32.ForwardBackward(in, tg, B, nT)
	l64 := m64.ForwardBackward(in, tg, B, nT)
	if math.Abs(l32-l64) > 1e-5 {
		t.Errorf("loss float32 %g float64 %g", l32, l64)
	}
	g32, g64 := m32.Gradients(), m64.Gradients()
	var worst, scale float64
	for i := range g32 {
		worst = math.Max(worst, math.Abs(float64(g32[i])-g64[i]))
		scale = math.Max(scale, math.Abs(g64[i]))
	}
	if worst > 1e-4*scale {
		t.Errorf("gradients float32 vs float64 differ by %g (largest gradient %g)", worst, scale)
	}
}

// TestKVCacheMatchesForward: prefilling part of a sequence and stepping
// through the rest gives the full forward pass's logits at every position.
func TestKVCacheMatchesForward(t *testing.T) {
	c := tinyTransformerConfig()
	m, _ := NewTransformer(c)
	m.InitWeights(2)
	randomize(m.Params.Flat, 3, 0.2)
	B, nT, prompt := 2, 90, 7
	rng := rand.New(rand.NewPCG(3, 3))
	seqs := make([][]int, B)
	acts := NewTransformerActs(c, B, nT)
	for b := range seqs {
		seqs[b] = make([]int, nT)
		for i := range seqs[b] {
			seqs[b][i] = rng.IntN(c.Vocab)
			acts.Tokens[b*nT+i] = int32(seqs[b][i])
		}
	}
	m.Forward(acts)
	V := c.Vocab
	want := func(b, pos int) []float32 { return acts.Logits[(b*nT+pos)*V : (b*nT+pos+1)*V] }
	// Logits (retnet.Inference) is the same forward from [][]int; bad
	// batches are errors naming the sequence or token.
	if l, err := m.Logits(seqs, Chunkwise, 5); err != nil || numtest.MaxAbsDiff(l, acts.Logits) != 0 {
		t.Errorf("Logits differs from Forward (%v)", err)
	}
	if _, err := m.Logits([][]int{{1, 2}, {3}}, Parallel, 0); err == nil || !strings.Contains(err.Error(), "sequence 1 has 1 tokens") {
		t.Errorf("Logits of unequal lengths: %v", err)
	}
	if _, err := m.Logits([][]int{{1, c.Vocab}}, Parallel, 0); err == nil || !strings.Contains(err.Error(), "outside the vocabulary") {
		t.Errorf("Logits of an out-of-vocabulary token: %v", err)
	}
	for _, withPrefill := range []bool{true, false} {
		d := m.NewDecoder(B)
		var got []float32
		var err error
		start := 0
		if withPrefill {
			p := make([][]int, B)
			for b := range p {
				p[b] = seqs[b][:prompt]
			}
			got, err = d.Prefill(p)
			start = prompt
		} else {
			got, err = d.Step([]int{seqs[0][0], seqs[1][0]})
			start = 1
		}
		if err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for pos := start; ; pos++ {
			for b := 0; b < B; b++ {
				worst = math.Max(worst, numtest.MaxAbsDiff(got[b*V:(b+1)*V], want(b, pos-1)))
			}
			if pos == nT {
				break
			}
			if got, err = d.Step([]int{seqs[0][pos], seqs[1][pos]}); err != nil {
				t.Fatal(err)
			}
		}
		if worst > 2e-5 {
			t.Errorf("prefill=%v: KV-cache logits differ from the full forward by %g", withPrefill, worst)
		}
		if d.Pos() != nT {
			t.Errorf("Pos = %d, want %d", d.Pos(), nT)
		}
		if want := int64(2 * c.Layers * B * nT * c.Dim * 4); d.StateBytes() != want {
			t.Errorf("StateBytes = %d, want %d", d.StateBytes(), want)
		}
	}
}

func TestKVCacheErrors(t *testing.T) {
	m, _ := NewTransformer(tinyTransformerConfig())
	d := m.NewDecoder(2)
	for _, tc := range []struct {
		run  func() error
		want string
	}{
		{func() error { _, err := d.Prefill([][]int{{1}}); return err }, "1 sequences for a decoder of batch 2"},
		{func() error { _, err := d.Prefill([][]int{{1, 2}, {3}}); return err }, "equal lengths"},
		{func() error { _, err := d.Prefill([][]int{{}, {}}); return err }, "empty prompt"},
		{func() error { _, err := d.Step([]int{1, 99}); return err }, "outside the vocabulary"},
		{func() error { _, err := d.Step([]int{1}); return err }, "1 tokens"},
	} {
		if err := tc.run(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want it to mention %q", err, tc.want)
		}
	}
}

func TestTransformerCheckpointRoundTrip(t *testing.T) {
	c := tinyTransformerConfig()
	m, _ := NewTransformer(c)
	m.InitWeights(9)
	p := filepath.Join(t.TempDir(), "t.safetensors")
	if err := m.Save(p, []Tensor{{Name: "optim.m", Shape: []int{2}, Data: []float32{1, 2}}}, map[string]string{"x": "y"}); err != nil {
		t.Fatal(err)
	}
	f, err := ReadSafetensors(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTransformerFrom(f, nil); err == nil || !strings.Contains(err.Error(), `unexpected tensor "optim.m"`) {
		t.Errorf("extra tensor error %v", err)
	}
	got, err := LoadTransformerFrom(f, []string{"optim."})
	if err != nil {
		t.Fatal(err)
	}
	if got.Config != c || numtest.MaxAbsDiff(got.Params.Flat, m.Params.Flat) != 0 {
		t.Errorf("round trip changed the model: %+v", got.Config)
	}
	if got := m.Counts().Total; got != int64(len(m.Weights())) {
		t.Errorf("Counts().Total = %d, have %d weights", got, len(m.Weights()))
	}
}

// FuzzLanguageModelFrom: arbitrary checkpoint bytes (seeded with real
// checkpoints of both kinds, training state included) give an error or a
// model, never a panic or an allocation beyond what the file holds.
func FuzzLanguageModelFrom(f *testing.F) {
	dir := f.TempDir()
	tm, _ := NewTransformer(tinyTransformerConfig())
	p := filepath.Join(dir, "t.safetensors")
	if err := tm.Save(p, []Tensor{{Name: "optim.m", Shape: []int{1}, Data: []float32{1}}}, map[string]string{"retlab_train": `{"step":3}`}); err != nil {
		f.Fatal(err)
	}
	data, _ := os.ReadFile(p)
	f.Add(data)
	f.Add(data[:len(data)/3])
	rm := tinyModel(f, 1e-6)
	p = filepath.Join(dir, "r.safetensors")
	if err := rm.Save(p, nil, nil); err != nil {
		f.Fatal(err)
	}
	data, _ = os.ReadFile(p)
	f.Add(data)
	f.Fuzz(func(t *testing.T, b []byte) {
		tf, err := ParseSafetensors(b, "fuzz")
		if err != nil {
			return
		}
		if m, err := LanguageModelFrom(tf); err == nil && int64(len(m.Weights()))*4 > int64(len(b)) {
			t.Fatalf("model of %d weights from %d bytes", len(m.Weights()), len(b))
		}
	})
}
