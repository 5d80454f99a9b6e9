package retnet

import (
	"fmt"
)

// Language-model checkpoints: one safetensors file holds the model's
// tensors under their checkpoint names, the config in __metadata__, and,
// when written by the trainer, the optimizer state (tensors "optim.m",
// "optim.v") and the training state (metadata key "retlab_train").
// LoadLanguageModel reads either architecture.

// OptimPrefix is the name prefix of optimizer tensors in a checkpoint.
const OptimPrefix = "optim."

// KindOf reports which architecture a parsed checkpoint holds, from its
// __metadata__ "retlab_model" (absent: RetNet, the torchscale layout).
func KindOf(f *TensorFile) string {
	if k := f.Metadata[MetaModelKey]; k != "" {
		return k
	}
	return KindRetNet
}

// LoadLanguageModel reads a checkpoint of either architecture and returns
// the model and the parsed file (for the optimizer and training state it may
// hold). Errors name the file and what is wrong with it: unreadable,
// truncated, not safetensors, an unknown model kind, a missing or
// mis-shaped tensor.
func LoadLanguageModel(path string) (LanguageModel, *TensorFile, error) {
	f, err := ReadSafetensors(path)
	if err != nil {
		return nil, nil, err
	}
	m, err := LanguageModelFrom(f)
	return m, f, err
}

// LanguageModelFrom builds the model a parsed checkpoint holds, ignoring
// optimizer tensors.
func LanguageModelFrom(f *TensorFile) (LanguageModel, error) {
	switch k := KindOf(f); k {
	case KindTransformer:
		return LoadTransformerFrom(f, []string{OptimPrefix})
	case KindRetNet:
		m, err := LoadFrom(f, LoadOptions{AllowExtra: []string{OptimPrefix}})
		if err != nil {
			return nil, err
		}
		return m, nil
	default:
		return nil, fmt.Errorf("retnet: %s: __metadata__ %s is %q, want %q or %q", f.Path, MetaModelKey, k, KindRetNet, KindTransformer)
	}
}

// NewLanguageModel returns a freshly initialised model (seeded) built from
// cfg, a Config (RetNet) or a TransformerConfig; it panics on another
// ModelConfig.
func NewLanguageModel(cfg ModelConfig, seed uint64) (LanguageModel, error) {
	switch c := cfg.(type) {
	case Config:
		m, err := New(c)
		if err != nil {
			return nil, err
		}
		m.InitWeights(seed)
		return m, nil
	case TransformerConfig:
		m, err := NewTransformer(c)
		if err != nil {
			return nil, err
		}
		m.InitWeights(seed)
		return m, nil
	}
	panic(fmt.Sprintf("retnet: NewLanguageModel config of type %T", cfg))
}
