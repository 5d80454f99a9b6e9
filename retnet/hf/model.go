package hf

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/retlab/retlab/tokenizer"
)

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// Encode tokenizes text with the model's tokenizer, with its special
// tokens (BOS first for LLaMA-style tokenizers).
func (m *Model) Encode(text string) ([]int, error) {
	if m.Tokenizer == nil {
		return nil, fmt.Errorf("hf: %s has no %s: pass token ids instead of text", m.Dir, TokenizerFile)
	}
	return m.Tokenizer.EncodeSpecial(text), nil
}

// Decode turns ids into text, dropping special tokens.
func (m *Model) Decode(ids []int) (string, error) {
	if m.Tokenizer == nil {
		return "", fmt.Errorf("hf: %s has no %s", m.Dir, TokenizerFile)
	}
	return m.Tokenizer.Decode(ids, true)
}

// Model is a pretrained decoder LM read from a Hugging Face directory: fla's
// RetNet, fla's Transformer++ or LLaMA. All three share one block
//
//	h   = x + Mix(RMSNorm_attn(x))
//	x'  = h + down(silu(gate(z)) (.) up(z)),  z = RMSNorm_mlp(h)
//	logits = RMSNorm(x_L) lm_head^T            (lm_head = embeddings when tied)
//
// and differ in Mix: fla's multi-scale retention (see retention.go and
// docs/fla-retnet.md) or causal softmax attention with rotary positions and
// grouped key/value heads (attention.go). Embeddings are not scaled.
//
// Weights stay in the checkpoint's dtype, views of the mapped files;
// products accumulate in float32. Close releases the files.
type Model struct {
	Config Config
	Dir    string
	// Tokenizer is the directory's tokenizer.json (nil when it has none).
	Tokenizer *tokenizer.Tokenizer

	ckpt   *Checkpoint
	embed  weight // (V, D)
	head   weight // (V, D)
	norm   []float32
	layers []layer

	invFreq   []float32 // (hd/2) rotary frequencies base^(-2i/hd)
	log2Gamma []float32 // (H) retnet: log2(1 - 2^(-5-h))

	tap      func(layer int, h *retHead, head int) // RetentionMaps' hook into the retention of sequence 0
	inputTap func(layer int, x []float32)          // FormAgreement's hook: each layer's normed input (N,D)
}

type layer struct {
	attnNorm, mlpNorm []float32 // (D)
	q, k, v, o        weight    // q (KeyDim, D), k (KeyDim/g, D), v (ValueDim/g, D), o (D, ValueDim)
	g                 weight    // retnet: (ValueDim, D) output gate
	gnorm             []float32 // retnet: (dv) group norm weight, shared by the heads
	gate, up, down    weight    // (F, D), (F, D), (D, F)
}

// names maps the parts of a model type to its tensor names.
type names struct {
	embed, norm, head                              string
	layer                                          string // prefix with %d
	attnNorm, mlpNorm, q, k, v, o, g, gate, up, dn string
	gnorm                                          []string // alternatives
}

func tensorNames(modelType string) names {
	if modelType == TypeLlama {
		return names{embed: "model.embed_tokens.weight", norm: "model.norm.weight", head: "lm_head.weight", layer: "model.layers.%d.",
			attnNorm: "input_layernorm.weight", mlpNorm: "post_attention_layernorm.weight",
			q: "self_attn.q_proj.weight", k: "self_attn.k_proj.weight", v: "self_attn.v_proj.weight", o: "self_attn.o_proj.weight",
			gate: "mlp.gate_proj.weight", up: "mlp.up_proj.weight", dn: "mlp.down_proj.weight"}
	}
	return names{embed: "model.embeddings.weight", norm: "model.norm.weight", head: "lm_head.weight", layer: "model.layers.%d.",
		attnNorm: "attn_norm.weight", mlpNorm: "mlp_norm.weight",
		q: "attn.q_proj.weight", k: "attn.k_proj.weight", v: "attn.v_proj.weight", o: "attn.o_proj.weight", g: "attn.g_proj.weight",
		gnorm: []string{"attn.g_norm_swish_gate.weight", "attn.g_norm.weight"}, // fuse_norm true / false
		gate:  "mlp.gate_proj.weight", up: "mlp.up_proj.weight", dn: "mlp.down_proj.weight"}
}

// Load opens a model directory or a cached hub name (see Resolve) and
// builds the model. Every tensor the config implies must be present with its
// shape; tensors it does not imply are an error (they would be ignored
// silently otherwise), except rotary buffers some writers store.
func Load(model string) (*Model, error) {
	dir, err := Resolve(model, "")
	if err != nil {
		return nil, err
	}
	c, err := Open(dir)
	if err != nil {
		return nil, err
	}
	m, err := FromCheckpoint(c)
	if err != nil {
		c.Close()
		return nil, err
	}
	return m, nil
}

// spec is one tensor of the layout a config implies: its name (alt: a
// second accepted name), shape, and the model field it fills.
type spec struct {
	name, alt string
	shape     []int
	mat       *weight    // 2-D
	vec       *[]float32 // 1-D
}

// layout lists the tensors of the model cfg describes, pointing into m
// (m may be a throwaway Model when only names and shapes are wanted).
func layout(cfg Config, m *Model) []spec {
	nm := tensorNames(cfg.ModelType)
	D, F, V := cfg.Hidden, cfg.Intermediate, cfg.Vocab
	g := cfg.KVGroups()
	s := []spec{{name: nm.embed, shape: []int{V, D}, mat: &m.embed}}
	if !cfg.Tied {
		s = append(s, spec{name: nm.head, shape: []int{V, D}, mat: &m.head})
	}
	s = append(s, spec{name: nm.norm, shape: []int{D}, vec: &m.norm})
	if len(m.layers) != cfg.Layers {
		m.layers = make([]layer, cfg.Layers)
	}
	for l := range m.layers {
		p := fmt.Sprintf(nm.layer, l)
		L := &m.layers[l]
		s = append(s,
			spec{name: p + nm.attnNorm, shape: []int{D}, vec: &L.attnNorm},
			spec{name: p + nm.mlpNorm, shape: []int{D}, vec: &L.mlpNorm},
			spec{name: p + nm.q, shape: []int{cfg.KeyDim, D}, mat: &L.q},
			spec{name: p + nm.k, shape: []int{cfg.KeyDim / g, D}, mat: &L.k},
			spec{name: p + nm.v, shape: []int{cfg.ValueDim / g, D}, mat: &L.v},
			spec{name: p + nm.o, shape: []int{D, cfg.ValueDim}, mat: &L.o},
			spec{name: p + nm.gate, shape: []int{F, D}, mat: &L.gate},
			spec{name: p + nm.up, shape: []int{F, D}, mat: &L.up},
			spec{name: p + nm.dn, shape: []int{D, F}, mat: &L.down})
		if cfg.IsRetNet() {
			s = append(s,
				spec{name: p + nm.g, shape: []int{cfg.ValueDim, D}, mat: &L.g},
				spec{name: p + nm.gnorm[0], alt: p + nm.gnorm[1], shape: []int{cfg.ValueHeadDim()}, vec: &L.gnorm})
		}
	}
	return s
}

// FromCheckpoint builds the model of an open checkpoint (which it then owns).
func FromCheckpoint(c *Checkpoint) (*Model, error) {
	cfg := c.Config
	m := &Model{Config: cfg, Dir: c.Dir, ckpt: c}
	used := map[string]bool{}
	if cfg.Tied {
		used[tensorNames(cfg.ModelType).head] = true // a tied head stored anyway is the same matrix
	}
	for _, sp := range layout(cfg, m) {
		name := sp.name
		if sp.alt != "" && !c.Has(name) && c.Has(sp.alt) {
			name = sp.alt
		}
		used[name] = true
		if err := c.Expect(name, sp.shape...); err != nil {
			return nil, err
		}
		if sp.vec != nil {
			v, _, err := c.Float32(name)
			if err != nil {
				return nil, err
			}
			*sp.vec = v
			continue
		}
		t, err := c.Tensor(name)
		if err != nil {
			return nil, err
		}
		if *sp.mat, err = newWeight(t, sp.shape[0], sp.shape[1]); err != nil {
			return nil, err
		}
	}
	if cfg.Tied {
		m.head = m.embed
	}
	if extra := c.Unexpected(used); len(extra) > 0 {
		var keep []string
		for _, n := range extra {
			if !strings.HasSuffix(n, "rotary_emb.inv_freq") {
				keep = append(keep, n)
			}
		}
		if len(keep) > 0 {
			return nil, fmt.Errorf("hf: %s: tensor %q (and %d more) is not part of a %s model as %s describes it", c.Dir, keep[0], len(keep)-1, cfg.ModelType, ConfigFile)
		}
	}
	var err error
	hd := cfg.HeadDim
	m.invFreq = make([]float32, hd/2)
	for i := range m.invFreq {
		e := float32(2*i) / float32(hd)
		m.invFreq[i] = 1 / float32(math.Pow(cfg.RopeTheta, float64(e)))
	}
	m.SetBF16Activations(true)
	if tp := filepath.Join(c.Dir, TokenizerFile); fileExists(tp) {
		if m.Tokenizer, err = tokenizer.Load(tp); err != nil {
			return nil, err
		}
		if n := m.Tokenizer.VocabSize(); n > cfg.Vocab {
			return nil, fmt.Errorf("hf: %s has %d tokens, more than vocab_size %d in %s", tp, n, cfg.Vocab, ConfigFile)
		}
	}
	if cfg.IsRetNet() {
		m.log2Gamma = make([]float32, cfg.Heads)
		for h := range m.log2Gamma {
			m.log2Gamma[h] = float32(math.Log2(float64(1 - float32(math.Pow(2, -5-float64(h))))))
		}
	}
	return m, nil
}

// SetBF16Activations chooses how BF16 weights are multiplied: on (the
// default), activations are rounded to bfloat16 inside each product, as
// PyTorch's bfloat16 inference does, and the products run as AVX512_BF16
// dot products with float32 sums where the CPU has them (cpu.LinearBF16,
// decode steps and prompts alike: about twice the speed of float32
// weights); off, the weights are widened to float32 and activations keep
// float32 precision, which reproduces a float32 computation on the same
// weights to ~1e-5. F32 and F16 weights always compute in float32.
func (m *Model) SetBF16Activations(on bool) {
	for _, w := range m.weights() {
		w.bf16Dot = on
	}
}

// weights lists every matrix of the model.
func (m *Model) weights() []*weight {
	ws := []*weight{&m.embed, &m.head}
	for l := range m.layers {
		L := &m.layers[l]
		ws = append(ws, &L.q, &L.k, &L.v, &L.o, &L.g, &L.gate, &L.up, &L.down)
	}
	return ws
}

// Close unmaps the checkpoint files; the model must not be used after.
func (m *Model) Close() error { return m.ckpt.Close() }

// Kind is "retnet" for fla's RetNet and "transformer" for fla's
// Transformer++ and LLaMA (the labels RetLab's charts and benchmarks use).
func (m *Model) Kind() string {
	if m.Config.IsRetNet() {
		return "retnet"
	}
	return "transformer"
}

// VocabSize is V.
func (m *Model) VocabSize() int { return m.Config.Vocab }

// WeightBytes is the memory the weights occupy: their file bytes.
func (m *Model) WeightBytes() int64 {
	n := int64(len(m.norm)) * 4
	for i, w := range m.weights() {
		if i == 1 && m.Config.Tied {
			continue // the head is the embedding
		}
		n += w.Bytes()
	}
	for _, L := range m.layers {
		n += int64(len(L.attnNorm)+len(L.mlpNorm)+len(L.gnorm)) * 4
	}
	return n
}

// DType is the weights' dtype (that of the embedding matrix).
func (m *Model) DType() string { return m.embed.dtype }

// String is a one-line summary.
func (m *Model) String() string {
	c := m.Config
	return fmt.Sprintf("%s %s (V=%d D=%d L=%d H=%d kv=%d F=%d, %s params, %s)", c.ModelType, m.Dir, c.Vocab, c.Hidden, c.Layers, c.Heads, c.KVHeads, c.Intermediate, m.SizeLabel(), m.DType())
}

// SizeLabel is the parameter count as records label a size: 1.35B, 340.00M,
// or the plain count below a million.
func (m *Model) SizeLabel() string { return count(m.Config.Params()) }

func count(n int64) string {
	switch {
	case n >= 1e9:
		return strconv.FormatFloat(float64(n)/1e9, 'f', 2, 64) + "B"
	case n >= 1e6:
		return strconv.FormatFloat(float64(n)/1e6, 'f', 2, 64) + "M"
	}
	return strconv.FormatInt(n, 10)
}

// Files lists the safetensors files the weights come from.
func (m *Model) Files() []string { return m.ckpt.Files() }
