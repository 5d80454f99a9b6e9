package hf

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
)

// Model types read from config.json "model_type".
const (
	TypeRetNet      = "retnet"      // flash-linear-attention RetNetForCausalLM
	TypeTransformer = "transformer" // flash-linear-attention TransformerForCausalLM ("Transformer++")
	TypeLlama       = "llama"       // transformers LlamaForCausalLM
)

// Config is the part of a config.json the three model types share, in one
// vocabulary (the field names each type uses are in the comments). Every
// field that changes the computation is either read here or, when it asks
// for something not implemented, rejected by ReadConfig with its name.
type Config struct {
	ModelType    string  `json:"model_type"`
	Vocab        int     `json:"vocab_size"`
	Hidden       int     `json:"hidden_size"`         // D
	Layers       int     `json:"num_hidden_layers"`   // L
	Heads        int     `json:"heads"`               // num_heads (fla), num_attention_heads (llama)
	KVHeads      int     `json:"kv_heads"`            // num_kv_heads (fla; null = heads), num_key_value_heads (llama)
	Intermediate int     `json:"intermediate_size"`   // F of the SwiGLU MLP (fla: derived from hidden_ratio when null)
	KeyDim       int     `json:"key_dim"`             // retnet: hidden_size * expand_k (q width); attention: heads * head_dim
	ValueDim     int     `json:"value_dim"`           // retnet: hidden_size * expand_v (g width); attention: heads * head_dim
	HeadDim      int     `json:"head_dim"`            // attention: head_dim (llama) or hidden/heads; retnet: key_dim/heads
	NormEps      float64 `json:"norm_eps"`            // norm_eps (fla), rms_norm_eps (llama)
	RopeTheta    float64 `json:"rope_theta"`          // rotary base (fla retnet: always 10000)
	Tied         bool    `json:"tie_word_embeddings"` // lm_head shares the embedding matrix
	BOS          int     `json:"bos_token_id"`
	EOS          int     `json:"eos_token_id"`
	DType        string  `json:"torch_dtype"` // as saved; informative only (the tensors say their dtype)
}

// KeyHeadDim is the per-head q/k width (dk); ValueHeadDim the per-head v width (dv).
func (c Config) KeyHeadDim() int   { return c.KeyDim / c.Heads }
func (c Config) ValueHeadDim() int { return c.ValueDim / c.Heads }

// KVGroups is heads / kv_heads: how many query heads share one key/value head.
func (c Config) KVGroups() int { return c.Heads / c.KVHeads }

// IsRetNet reports whether the model mixes tokens by retention.
func (c Config) IsRetNet() bool { return c.ModelType == TypeRetNet }

// Params counts the parameters the config implies (the embedding once when tied).
func (c Config) Params() int64 {
	D, F, V := int64(c.Hidden), int64(c.Intermediate), int64(c.Vocab)
	kvK := int64(c.KeyDim / c.KVGroups())
	kvV := int64(c.ValueDim / c.KVGroups())
	var mix int64
	if c.IsRetNet() {
		mix = D*int64(c.KeyDim) + D*kvK + D*kvV + D*int64(c.ValueDim) + int64(c.ValueDim)*D + int64(c.ValueHeadDim())
	} else {
		mix = D*int64(c.KeyDim) + 2*D*kvK + int64(c.KeyDim)*D
	}
	layer := mix + 3*D*F + 2*D
	emb := V * D
	if !c.Tied {
		emb *= 2
	}
	return int64(c.Layers)*layer + D + emb
}

// NonEmbeddingParams is Params without the embedding and output matrices
// (how the paper's tables count).
func (c Config) NonEmbeddingParams() int64 {
	emb := int64(c.Vocab) * int64(c.Hidden)
	if !c.Tied {
		emb *= 2
	}
	return c.Params() - emb
}

// ReadConfig reads and checks a config.json.
func ReadConfig(path string) (Config, error) {
	raw, err := readBounded(path, 1<<20)
	if err != nil {
		if filepath.Base(path) == ConfigFile {
			return Config{}, fmt.Errorf("hf: %s: no %s, so this is not a Hugging Face model directory (or the download is incomplete): %w", filepath.Dir(path), ConfigFile, err)
		}
		return Config{}, err
	}
	c, err := ParseConfig(raw)
	if err != nil {
		return Config{}, fmt.Errorf("hf: %s: %w", path, err)
	}
	return c, nil
}

// rawConfig holds every config.json field that matters, under each
// model type's own name.
type rawConfig struct {
	ModelType  string   `json:"model_type"`
	Vocab      int      `json:"vocab_size"`
	Hidden     int      `json:"hidden_size"`
	Layers     int      `json:"num_hidden_layers"`
	Tied       *bool    `json:"tie_word_embeddings"`
	BOS        *int     `json:"bos_token_id"`
	EOS        any      `json:"eos_token_id"`
	DType      string   `json:"torch_dtype"`
	DTypeNew   string   `json:"dtype"`
	HiddenAct  string   `json:"hidden_act"`
	Inter      *int     `json:"intermediate_size"`
	HiddenRat  *float64 `json:"hidden_ratio"`
	NormEps    *float64 `json:"norm_eps"`
	RMSNormEps *float64 `json:"rms_norm_eps"`
	RopeTheta  *float64 `json:"rope_theta"`
	RopeParams *struct {
		Theta *float64 `json:"rope_theta"`
		Type  string   `json:"rope_type"`
	} `json:"rope_parameters"`
	RopeScaling any `json:"rope_scaling"`

	// fla
	NumHeads   int      `json:"num_heads"`
	NumKV      *int     `json:"num_kv_heads"`
	ExpandK    *float64 `json:"expand_k"`
	ExpandV    *float64 `json:"expand_v"`
	FeatureMap any      `json:"feature_map"`
	ShortConv  bool     `json:"use_short_conv"`
	OutGate    *bool    `json:"use_output_gate"`
	Affine     *bool    `json:"elementwise_affine"`
	Attn       any      `json:"attn"`
	AttnRes    any      `json:"attnres_block_size"`
	QKVBias    bool     `json:"qkv_bias"`
	QKNorm     bool     `json:"qk_norm"`
	Window     any      `json:"window_size"`

	// llama
	NumAttn    int  `json:"num_attention_heads"`
	NumKVLlama *int `json:"num_key_value_heads"`
	HeadDim    *int `json:"head_dim"`
	AttnBias   bool `json:"attention_bias"`
	MLPBias    bool `json:"mlp_bias"`
	Pretrain   *int `json:"pretraining_tp"`
}

// ParseConfig builds a Config from config.json contents.
func ParseConfig(data []byte) (Config, error) {
	var r rawConfig
	if err := json.Unmarshal(data, &r); err != nil {
		return Config{}, fmt.Errorf("not valid JSON: %w", err)
	}
	c := Config{ModelType: r.ModelType, Vocab: r.Vocab, Hidden: r.Hidden, Layers: r.Layers, Tied: r.Tied != nil && *r.Tied, DType: r.DType}
	if c.DType == "" {
		c.DType = r.DTypeNew
	}
	c.BOS, c.EOS = -1, -1
	if r.BOS != nil {
		c.BOS = *r.BOS
	}
	switch e := r.EOS.(type) {
	case float64:
		c.EOS = int(e)
	case []any:
		if len(e) > 0 {
			if f, ok := e[0].(float64); ok {
				c.EOS = int(f)
			}
		}
	}
	unsupported := func(field string, v any) error {
		return fmt.Errorf("model_type %s with %s = %v is not implemented", c.ModelType, field, v)
	}
	act := r.HiddenAct
	switch c.ModelType {
	case TypeRetNet, TypeTransformer:
		c.Heads = r.NumHeads
		c.KVHeads = c.Heads
		if r.NumKV != nil {
			c.KVHeads = *r.NumKV
		}
		c.NormEps = 1e-6
		if r.NormEps != nil {
			c.NormEps = *r.NormEps
		}
		if act == "" {
			act = "swish"
		}
		if act != "swish" {
			return Config{}, unsupported("hidden_act", act)
		}
		if r.Attn != nil {
			return Config{}, unsupported("attn (hybrid attention layers)", r.Attn)
		}
		if r.AttnRes != nil {
			return Config{}, unsupported("attnres_block_size", r.AttnRes)
		}
		if r.Affine != nil && !*r.Affine {
			return Config{}, unsupported("elementwise_affine", false)
		}
		// fla's GatedMLP: intermediate_size, else 2/3 * hidden_ratio * hidden rounded up to 256.
		if r.Inter != nil {
			c.Intermediate = *r.Inter
		} else {
			ratio := 4.0
			if c.ModelType == TypeRetNet {
				ratio = 2
			}
			if r.HiddenRat != nil {
				ratio = *r.HiddenRat
			}
			f := int(float64(c.Hidden) * ratio * 2 / 3)
			c.Intermediate = 256 * ((f + 255) / 256)
		}
	case TypeLlama:
		c.Heads = r.NumAttn
		c.KVHeads = c.Heads
		if r.NumKVLlama != nil {
			c.KVHeads = *r.NumKVLlama
		}
		c.NormEps = 1e-6
		if r.RMSNormEps != nil {
			c.NormEps = *r.RMSNormEps
		}
		if act == "" {
			act = "silu"
		}
		if act != "silu" && act != "swish" {
			return Config{}, unsupported("hidden_act", act)
		}
		if r.AttnBias {
			return Config{}, unsupported("attention_bias", true)
		}
		if r.MLPBias {
			return Config{}, unsupported("mlp_bias", true)
		}
		if r.RopeScaling != nil {
			return Config{}, unsupported("rope_scaling", r.RopeScaling)
		}
		if p := r.RopeParams; p != nil && p.Type != "" && p.Type != "default" {
			return Config{}, unsupported("rope_parameters.rope_type", p.Type)
		}
		if r.Inter != nil {
			c.Intermediate = *r.Inter
		}
	case "":
		return Config{}, fmt.Errorf("no model_type")
	default:
		return Config{}, fmt.Errorf("model_type %q: RetLab reads %q, %q (flash-linear-attention) and %q", c.ModelType, TypeRetNet, TypeTransformer, TypeLlama)
	}
	switch {
	case c.Vocab <= 0 || c.Hidden <= 0 || c.Layers <= 0 || c.Heads <= 0 || c.Intermediate <= 0:
		return Config{}, fmt.Errorf("vocab_size=%d hidden_size=%d num_hidden_layers=%d heads=%d intermediate_size=%d must all be > 0", c.Vocab, c.Hidden, c.Layers, c.Heads, c.Intermediate)
	case c.Vocab > 1<<24 || c.Hidden > 1<<16 || c.Layers > 1<<12 || c.Heads > 1<<10 || c.Intermediate > 1<<18:
		return Config{}, fmt.Errorf("vocab_size=%d hidden_size=%d num_hidden_layers=%d heads=%d intermediate_size=%d: implausibly large", c.Vocab, c.Hidden, c.Layers, c.Heads, c.Intermediate)
	case c.KVHeads <= 0 || c.Heads%c.KVHeads != 0:
		return Config{}, fmt.Errorf("heads %d is not a multiple of the key/value heads %d", c.Heads, c.KVHeads)
	}
	if c.ModelType == TypeRetNet {
		if r.ShortConv {
			return Config{}, unsupported("use_short_conv", true)
		}
		if r.FeatureMap != nil {
			return Config{}, unsupported("feature_map", r.FeatureMap)
		}
		if r.OutGate != nil && !*r.OutGate {
			return Config{}, unsupported("use_output_gate", false)
		}
		ek, ev := 1.0, 2.0
		if r.ExpandK != nil {
			ek = *r.ExpandK
		}
		if r.ExpandV != nil {
			ev = *r.ExpandV
		}
		kd, vd := float64(c.Hidden)*ek, float64(c.Hidden)*ev
		c.KeyDim, c.ValueDim = int(math.Round(kd)), int(math.Round(vd))
		if math.Abs(kd-float64(c.KeyDim)) > 1e-9 || math.Abs(vd-float64(c.ValueDim)) > 1e-9 {
			return Config{}, fmt.Errorf("hidden_size * expand_k (%g) and hidden_size * expand_v (%g) must be integers", kd, vd)
		}
		if c.KeyDim%c.Heads != 0 || c.ValueDim%c.Heads != 0 {
			return Config{}, fmt.Errorf("key dim %d and value dim %d must be divisible by num_heads %d", c.KeyDim, c.ValueDim, c.Heads)
		}
		c.HeadDim = c.KeyDim / c.Heads
		c.RopeTheta = 10000 // MultiScaleRetention's RotaryEmbedding(dim=head_k_dim): the default base
	} else {
		if c.ModelType == TypeTransformer {
			if r.QKVBias {
				return Config{}, unsupported("qkv_bias", true)
			}
			if r.QKNorm {
				return Config{}, unsupported("qk_norm", true)
			}
			if r.Window != nil {
				return Config{}, unsupported("window_size", r.Window)
			}
		}
		c.HeadDim = c.Hidden / c.Heads
		if r.HeadDim != nil && c.ModelType == TypeLlama {
			c.HeadDim = *r.HeadDim
		}
		c.KeyDim, c.ValueDim = c.Heads*c.HeadDim, c.Heads*c.HeadDim
		c.RopeTheta = 10000
		if r.RopeTheta != nil {
			c.RopeTheta = *r.RopeTheta
		} else if r.RopeParams != nil && r.RopeParams.Theta != nil {
			c.RopeTheta = *r.RopeParams.Theta
		}
	}
	if c.HeadDim <= 0 || c.HeadDim%2 != 0 {
		return Config{}, fmt.Errorf("head dim %d must be even (rotary positions)", c.HeadDim)
	}
	if c.NormEps < 0 || c.RopeTheta <= 0 {
		return Config{}, fmt.Errorf("norm eps %g and rope theta %g", c.NormEps, c.RopeTheta)
	}
	return c, nil
}
