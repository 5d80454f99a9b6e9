package retnet

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/retlab/retlab/internal/human"
)

// Config is the shape of a RetNet decoder language model. Field names and JSON
// tags follow torchscale's RetNetConfig so a config read from a torchscale run
// (or written into a checkpoint's __metadata__) maps one to one.
type Config struct {
	Vocab    int `json:"vocab_size"`      // V
	Dim      int `json:"embed_dim"`       // D, model width; q/k width
	ValueDim int `json:"value_embed_dim"` // DV, v/g width
	FFNDim   int `json:"ffn_embed_dim"`   // F, GLU hidden width
	Layers   int `json:"layers"`          // L
	Heads    int `json:"retention_heads"` // H; head dims are dk = D/H, dv = DV/H

	Activation   string `json:"activation_fn"`      // "swish" (fairseq presets) or "gelu"
	NoEmbedScale bool   `json:"no_scale_embedding"` // false: x0 = sqrt(D) * E[tok]
	Schedule     string `json:"decay_schedule"`     // "torchscale" (default) or "paper"
	DeepNorm     bool   `json:"deepnorm"`           // residual alpha = (2L)^(1/4)

	// NormEps is the eps of every RMSNorm (torchscale layernorm_eps, 1e-6).
	NormEps float64 `json:"layernorm_eps"`
	// GroupNormEps is the eps of the per-head group norm. torchscale uses
	// layernorm_eps; it is separate here because the three retention forms
	// agree exactly only with GroupNormEps = 0 (see the spec).
	GroupNormEps float64 `json:"group_norm_eps"`
}

// Head dimensions.
func (c Config) KeyHeadDim() int   { return c.Dim / c.Heads }      // dk
func (c Config) ValueHeadDim() int { return c.ValueDim / c.Heads } // dv

// Validate reports the first inconsistency of c, naming the field.
func (c Config) Validate() error {
	switch {
	case c.Vocab <= 0:
		return fmt.Errorf("retnet: config vocab_size = %d, want > 0", c.Vocab)
	case c.Dim <= 0 || c.ValueDim <= 0 || c.FFNDim <= 0:
		return fmt.Errorf("retnet: config dims embed_dim=%d value_embed_dim=%d ffn_embed_dim=%d must be > 0", c.Dim, c.ValueDim, c.FFNDim)
	case c.Layers <= 0:
		return fmt.Errorf("retnet: config layers = %d, want > 0", c.Layers)
	case c.Heads <= 0:
		return fmt.Errorf("retnet: config retention_heads = %d, want > 0", c.Heads)
	case c.Dim%c.Heads != 0:
		return fmt.Errorf("retnet: config embed_dim %d is not divisible by retention_heads %d", c.Dim, c.Heads)
	case c.ValueDim%c.Heads != 0:
		return fmt.Errorf("retnet: config value_embed_dim %d is not divisible by retention_heads %d", c.ValueDim, c.Heads)
	case (c.Dim/c.Heads)%2 != 0:
		return fmt.Errorf("retnet: config key head dim %d (embed_dim/retention_heads) must be even for the rotation", c.Dim/c.Heads)
	case c.Activation != "swish" && c.Activation != "gelu":
		return fmt.Errorf("retnet: config activation_fn %q, want swish or gelu", c.Activation)
	case c.Schedule != ScheduleTorchscale && c.Schedule != SchedulePaper:
		return fmt.Errorf("retnet: config decay_schedule %q, want %q or %q", c.Schedule, ScheduleTorchscale, SchedulePaper)
	case c.NormEps < 0 || c.GroupNormEps < 0:
		return fmt.Errorf("retnet: config eps must be >= 0 (layernorm_eps=%g group_norm_eps=%g)", c.NormEps, c.GroupNormEps)
	}
	return nil
}

// WithDefaults fills zero-valued optional fields: swish, torchscale schedule, eps 1e-6.
// GroupNormEps is set to NormEps only when both are zero; set GroupNormEps after
// calling WithDefaults to use 0.
func (c Config) WithDefaults() Config {
	if c.Activation == "" {
		c.Activation = "swish"
	}
	if c.Schedule == "" {
		c.Schedule = ScheduleTorchscale
	}
	if c.NormEps == 0 {
		c.NormEps = 1e-6
		if c.GroupNormEps == 0 {
			c.GroupNormEps = 1e-6
		}
	}
	return c
}

// ParamCounts is the number of float parameters of a model, split like the
// paper's tables (which count without the embeddings).
type ParamCounts struct {
	Total        int64 `json:"params"`
	NonEmbedding int64 `json:"non_embedding_params"`
	Embedding    int64 `json:"embedding_params"` // input embedding + output projection
}

// LayerParamCount is the number of parameters in one decoder block.
func (c Config) LayerParamCount() int64 {
	D, DV, F := int64(c.Dim), int64(c.ValueDim), int64(c.FFNDim)
	retention := 2*D*D + 2*DV*D + D*DV // q, k, v, g, out
	ffn := 3 * F * D                   // fc1, gate, fc2
	norms := 2 * D                     // retention_layer_norm, final_layer_norm
	return retention + ffn + norms
}

// Params counts the parameters of the model c describes (buffers excluded).
func (c Config) Params() ParamCounts {
	emb := 2 * int64(c.Vocab) * int64(c.Dim)
	non := int64(c.Layers)*c.LayerParamCount() + int64(c.Dim) // + final layer_norm
	return ParamCounts{Total: emb + non, NonEmbedding: non, Embedding: emb}
}

// DefaultVocab is the vocabulary of presets (byte-level tokens).
const DefaultVocab = 256

// presetShapes are fairseq's retnet_* architectures: q/k head dim 256,
// value dim = FFN dim ~= 1.69 D, swish, sqrt(D) embedding scale.
var presetShapes = map[string]struct{ D, DV, L, H int }{
	"base":   {512, 864, 6, 2},
	"medium": {1024, 1728, 16, 4},
	"xl":     {2048, 3456, 24, 8},
	"3b":     {2560, 4280, 32, 10},
	"7b":     {4096, 6912, 32, 16},
	"13b":    {5120, 8560, 40, 20},
	"65b":    {8192, 13824, 64, 32},
}

// PresetNames lists the paper presets from smallest to largest.
func PresetNames() []string {
	names := make([]string, 0, len(presetShapes))
	for n := range presetShapes {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return presetShapes[names[i]].D < presetShapes[names[j]].D })
	return names
}

// Preset returns the named paper preset (base, medium, xl, 3b, 7b, 13b, 65b)
// with the given vocabulary size (use DefaultVocab for byte-level tokens).
func Preset(name string, vocab int) (Config, error) {
	s, ok := presetShapes[strings.ToLower(name)]
	if !ok {
		return Config{}, fmt.Errorf("retnet: unknown preset %q (have %s)", name, strings.Join(PresetNames(), ", "))
	}
	c := Config{Vocab: vocab, Dim: s.D, ValueDim: s.DV, FFNDim: s.DV, Layers: s.L, Heads: s.H}.WithDefaults()
	return c, c.Validate()
}

// Warnings lists facts about c a researcher should know before trusting a
// run, e.g. decays that round to exactly 1 in float32 (no decay at all).
func (c Config) Warnings() []string {
	var w []string
	g := Gammas(c.Schedule, c.Heads)
	var ones []int
	for h, v := range g {
		if float32(v) == 1 {
			ones = append(ones, h)
		}
	}
	if len(ones) > 0 {
		w = append(w, fmt.Sprintf("decay gamma rounds to 1 in float32 for %d of %d heads (heads %d..%d): those heads do not decay", len(ones), c.Heads, ones[0], ones[len(ones)-1]))
	}
	if c.Heads > 0 && c.Dim%c.Heads == 0 && c.Dim/c.Heads > 512 {
		w = append(w, fmt.Sprintf("key head dim %d is unusually large", c.Dim/c.Heads))
	}
	return w
}

// String is a one-line summary.
func (c Config) String() string {
	p := c.Params()
	return fmt.Sprintf("RetNet(V=%d D=%d DV=%d F=%d L=%d H=%d %s, %s params, %s non-embedding)",
		c.Vocab, c.Dim, c.ValueDim, c.FFNDim, c.Layers, c.Heads, c.Activation, human.Count(p.Total), human.Count(p.NonEmbedding))
}

// MarshalMetadata encodes c as the string map stored in a safetensors
// __metadata__ (every value a string, as the format requires).
func (c Config) MarshalMetadata() map[string]string {
	b, _ := json.Marshal(c)
	return map[string]string{"format": "pt", "retlab_config": string(b)}
}

// ByteVocab is the vocabulary of byte-level tokens.
const ByteVocab = 256
