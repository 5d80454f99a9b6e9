package hf

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"

	"github.com/retlab/retlab/internal/atomicfile"
	"github.com/retlab/retlab/retnet/backend/cpu"
)

// Random-weight models shaped like published ones: speed and memory at a
// real size can be measured without the weights (which this machine cannot
// download). The files are what save_pretrained would write for that
// config, in BF16, with fla's initialisation (normal(0, 0.02), norms 1);
// the numbers they produce are meaningless, their cost is not.

// RandomShapes are config.json contents shaped like public models. The
// 1.3B shapes follow fla's RetNetConfig/TransformerConfig defaults for
// hidden 2048 and 24 layers (the fla-hub 1.3B models' sizes: 1.35B and
// 1.36B parameters); head counts of the Transformer are an assumption.
var RandomShapes = map[string]map[string]any{
	"fla-retnet-1.3B": {"model_type": TypeRetNet, "architectures": []string{"RetNetForCausalLM"},
		"vocab_size": 32000, "hidden_size": 2048, "num_hidden_layers": 24, "num_heads": 8, "num_kv_heads": nil,
		"expand_k": 1, "expand_v": 2, "hidden_ratio": 2, "intermediate_size": nil, "hidden_act": "swish",
		"norm_eps": 1e-6, "tie_word_embeddings": false, "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "bfloat16",
		"use_short_conv": false, "feature_map": nil, "use_output_gate": true, "fuse_norm": true, "attn": nil},
	"fla-transformer-1.3B": {"model_type": TypeTransformer, "architectures": []string{"TransformerForCausalLM"},
		"vocab_size": 32000, "hidden_size": 2048, "num_hidden_layers": 24, "num_heads": 32, "num_kv_heads": nil,
		"hidden_ratio": 4, "intermediate_size": nil, "hidden_act": "swish", "rope_theta": 10000.0,
		"norm_eps": 1e-6, "tie_word_embeddings": false, "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "bfloat16"},
	// The same Transformer as a LLaMA checkpoint (F = 5632 as fla derives it), which PyTorch can run
	// on a CPU (transformers' LlamaForCausalLM): the side-by-side reference of `retlab bench pretrained`.
	"llama-1.3B": {"model_type": TypeLlama, "architectures": []string{"LlamaForCausalLM"},
		"vocab_size": 32000, "hidden_size": 2048, "num_hidden_layers": 24, "num_attention_heads": 32, "num_key_value_heads": 32,
		"intermediate_size": 5632, "hidden_act": "silu", "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "max_position_embeddings": 2048,
		"tie_word_embeddings": false, "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "bfloat16", "attention_bias": false, "mlp_bias": false},
}

// WriteRandom writes a model directory for the config (config.json and
// one BF16 model.safetensors) with seeded random weights, streaming each
// tensor (memory: the largest tensor). The safetensors file is written to a
// temporary name, fsynced and renamed, so an interrupted run leaves no
// partial model.
func WriteRandom(dir string, config map[string]any, seed uint64) error {
	raw, err := json.MarshalIndent(config, "", "  ")
	if err != nil {
		return err
	}
	cfg, err := ParseConfig(raw)
	if err != nil {
		return fmt.Errorf("hf: random model config: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	specs := layout(cfg, &Model{})
	sort.Slice(specs, func(i, j int) bool { return specs[i].name < specs[j].name })
	type entry struct {
		DType   string   `json:"dtype"`
		Shape   []int    `json:"shape"`
		Offsets [2]int64 `json:"data_offsets"`
	}
	header := map[string]any{"__metadata__": map[string]string{"format": "pt"}}
	var off int64
	for _, s := range specs {
		n := int64(2)
		for _, d := range s.shape {
			n *= int64(d)
		}
		header[s.name] = entry{"BF16", s.shape, [2]int64{off, off + n}}
		off += n
	}
	hb, err := json.Marshal(header)
	if err != nil {
		return err
	}
	for len(hb)%8 != 0 {
		hb = append(hb, ' ')
	}
	rng := rand.New(rand.NewPCG(seed, 0x68662d72616e64))
	err = atomicfile.Write(filepath.Join(dir, WeightsFile), func(f *os.File) error {
		w := bufio.NewWriterSize(f, 4<<20)
		binary.Write(w, binary.LittleEndian, uint64(len(hb)))
		w.Write(hb)
		var buf []byte
		for _, s := range specs {
			n := 1
			for _, d := range s.shape {
				n *= d
			}
			if cap(buf) < 2*n {
				buf = make([]byte, 2*n)
			}
			b := buf[:2*n]
			for i := 0; i < n; i++ {
				v := float32(1)
				if s.vec == nil {
					v = float32(0.02 * rng.NormFloat64())
				}
				binary.LittleEndian.PutUint16(b[2*i:], uint16(cpu.BF16From(v)))
			}
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		return w.Flush()
	})
	if err != nil {
		return fmt.Errorf("hf: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), append(raw, '\n'), 0o644); err != nil {
		return err
	}
	return nil
}
