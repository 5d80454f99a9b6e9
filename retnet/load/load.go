// Package load opens a model checkpoint of any kind RetLab reads and
// returns it as a retnet.Inference:
//
//   - a Hugging Face model directory (config.json + safetensors, one file or
//     shards) or a hub name ORG/NAME[@REV] found in the local Hugging Face
//     cache: fla's RetNet, fla's Transformer++, LLaMA (package retnet/hf);
//   - a safetensors file written by RetLab or converted from torchscale:
//     torchscale's RetNet or RetLab's Transformer (retnet.LoadLanguageModel).
//
// It sits above both retnet and retnet/hf (hf imports retnet, so retnet
// cannot import hf): retnet.Load keeps returning the concrete *retnet.Model,
// and says to come here when it is given a model directory.
//
//	m, _ := load.Model("fla-hub/retnet-1.3B-100B") // or "run/checkpoint.safetensors"
//	defer m.Close()
//	ids, labels, _ := load.Encode(m, "Retention is all you need") // load.Decode turns ids back
//	logits, _ := m.Logits([][]int{ids}, retnet.Chunkwise, 0)
//	if r, ok := retnet.AsRetentive(m); ok {        // a RetNet of either flavour
//		scores, _ := r.RetentionScores(ids, labels)  // per layer and head
//	}
//	res, _ := retnet.Perplexity(ctx, m, ids, 512, 8, nil) // any model, one scorer
//
// Open also returns a safetensors checkpoint's file (RetLab's training
// state is in its metadata), and Describe what a record names of a model;
// `retlab eval` takes every checkpoint through these.
package load

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/retnet/hf"
)

// IsHuggingFace reports whether path names a Hugging Face model: an
// existing directory holding config.json, or, when nothing exists at path, a
// hub name ORG/NAME[@REV] (looked up in the cache by Model).
func IsHuggingFace(path string) bool {
	st, err := os.Stat(path)
	if err != nil {
		return hf.IsRepoID(path)
	}
	if !st.IsDir() {
		return false
	}
	_, err = os.Stat(filepath.Join(path, hf.ConfigFile))
	return err == nil
}

// Model opens path (see the package comment for what it may name). A
// RetNet, of either flavour, is also a retnet.Retentive (retnet.AsRetentive). Errors name the file
// and what is wrong with it; a hub name missing from the cache gives the
// command that downloads it (nothing is downloaded). Close the model when
// done (it unmaps a Hugging Face model's files).
func Model(path string) (retnet.Inference, error) {
	m, _, err := Open(path)
	return m, err
}

// Open is Model that also returns the safetensors file a RetLab or
// torchscale checkpoint was read from (nil for a Hugging Face model): its
// __metadata__ holds what wrote it, such as RetLab's training state
// (retnet/train.StateOf).
func Open(path string) (retnet.Inference, *retnet.TensorFile, error) {
	if path == "" {
		return nil, nil, fmt.Errorf("load: no checkpoint named")
	}
	if IsHuggingFace(path) {
		m, err := hf.Load(path)
		if err != nil {
			return nil, nil, err
		}
		return m, nil, nil
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return nil, nil, fmt.Errorf("load: %s is a directory without %s: want a Hugging Face model directory or a safetensors file", path, hf.ConfigFile)
	}
	lm, f, err := retnet.LoadLanguageModel(path)
	if err != nil {
		return nil, nil, err
	}
	return lm, f, nil // every LanguageModel is a retnet.Inference
}

// Info is what a record says of an opened model besides its scores.
type Info struct {
	// ModelType is config.json's model_type for a Hugging Face model
	// (retnet, transformer, llama), the Kind for RetLab's checkpoints.
	ModelType string
	// Revision is a Hugging Face model's snapshot directory name (the
	// commit, in the hub cache), "" for a checkpoint file.
	Revision string
	// DType is the weights' dtype: that of the files for a Hugging Face
	// model (BF16, F16, F32), F32 for RetLab's (half-precision files are
	// widened on load).
	DType  string
	Params retnet.ParamCounts
	// Size labels the model in a record: a Hugging Face model's parameter
	// count (1.35B); "" for RetLab's, whose ladder size is in its training
	// state.
	Size string
	// Tokenizer says that Encode and Decode use the model's tokenizer.json;
	// else a token is a byte.
	Tokenizer bool
}

// Describe returns m's Info.
func Describe(m retnet.Inference) Info {
	switch m := m.(type) {
	case *hf.Model:
		total, nonEmb := m.Config.Params(), m.Config.NonEmbeddingParams()
		return Info{ModelType: m.Config.ModelType, Revision: filepath.Base(m.Dir), DType: m.DType(), Size: m.SizeLabel(), Tokenizer: true,
			Params: retnet.ParamCounts{Total: total, NonEmbedding: nonEmb, Embedding: total - nonEmb}}
	case retnet.LanguageModel:
		return Info{ModelType: m.Kind(), DType: "F32", Params: m.Counts()}
	}
	return Info{ModelType: m.Kind()}
}

// Encode turns text into m's token ids and a display label per token: the
// model's tokenizer.json for a Hugging Face model, one token per byte for
// RetLab's byte-level models (vocabulary >= 256).
func Encode(m retnet.Inference, text string) (ids []int, labels []string, err error) {
	if h, ok := m.(*hf.Model); ok {
		if ids, err = h.Encode(text); err != nil {
			return nil, nil, err
		}
		labels = make([]string, len(ids))
		for i, id := range ids {
			labels[i], _ = h.Tokenizer.Token(id) // Encode succeeded: there is a tokenizer
		}
		return ids, labels, nil
	}
	if m.VocabSize() < retnet.ByteVocab {
		return nil, nil, fmt.Errorf("load: a vocabulary of %d < %d: text is encoded one token per byte", m.VocabSize(), retnet.ByteVocab)
	}
	ids, labels = make([]int, len(text)), make([]string, len(text))
	for i := 0; i < len(text); i++ {
		ids[i] = int(text[i])
		q := strconv.Quote(text[i : i+1])
		labels[i] = q[1 : len(q)-1]
	}
	return ids, labels, nil
}

// Decode turns ids of m back into text: the tokenizer's decoding without
// special tokens for a Hugging Face model, one byte per id for RetLab's
// byte-level models (an id outside 0..255 is an error).
func Decode(m retnet.Inference, ids []int) (string, error) {
	if h, ok := m.(*hf.Model); ok {
		return h.Decode(ids)
	}
	b := make([]byte, len(ids))
	for i, id := range ids {
		if id < 0 || id >= retnet.ByteVocab {
			return "", fmt.Errorf("load: id %d at position %d is not a byte (0..255)", id, i)
		}
		b[i] = byte(id)
	}
	return string(b), nil
}

// EOS is m's end-of-sequence id, where generation stops (config.json's
// eos_token_id of a Hugging Face model), or -1 when it has none (RetLab's
// byte-level models).
func EOS(m retnet.Inference) int {
	if h, ok := m.(*hf.Model); ok {
		return h.Config.EOS
	}
	return -1
}
