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
	if path == "" {
		return nil, fmt.Errorf("load: no checkpoint named")
	}
	if IsHuggingFace(path) {
		m, err := hf.Load(path)
		if err != nil {
			return nil, err
		}
		return m, nil
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return nil, fmt.Errorf("load: %s is a directory without %s: want a Hugging Face model directory or a safetensors file", path, hf.ConfigFile)
	}
	lm, _, err := retnet.LoadLanguageModel(path)
	if err != nil {
		return nil, err
	}
	m, ok := lm.(retnet.Inference)
	if !ok { // every LanguageModel LoadLanguageModel returns is one
		return nil, fmt.Errorf("load: %s: a %T is not a retnet.Inference", path, lm)
	}
	return m, nil
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
