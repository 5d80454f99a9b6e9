// Package tokenizer reads a Hugging Face tokenizer.json and encodes and
// decodes text exactly as the `tokenizers` library does for the BPE
// tokenizers language models ship:
//
//   - SentencePiece-style BPE with byte fallback (LLaMA, Mistral, the
//     fla-hub models): normalizer Prepend("▁") + Replace(" ", "▁") or a
//     Metaspace pre-tokenizer; unknown characters become <0xXX> byte tokens;
//     decoder Replace + ByteFallback + Fuse + Strip (or Metaspace).
//   - byte-level BPE (GPT-2 style): ByteLevel pre-tokenizer with the GPT-2
//     split pattern and the byte-to-unicode map; decoder ByteLevel.
//   - BPE behind the splitting pre-tokenizers of word-level models:
//     Whitespace, WhitespaceSplit, Punctuation (isolated), Digits (split.go);
//     no decoder (tokens joined by spaces).
//   - WordPiece (BERT): greedy longest-match with "##" continuations,
//     BertPreTokenizer, decoder WordPiece with its cleanup (wordpiece.go);
//     BERT's normalizer is not implemented (Load names it).
//   - Unigram (SentencePiece's unigram model, T5 and ALBERT): the Viterbi
//     segmentation by piece scores, unknown runs fused (unigram.go); the
//     Precompiled normalizer those models ship is not implemented.
//
// The pipeline is the library's: added (special) tokens are split off the
// raw text first, each remaining piece is normalized, pre-tokenized into
// words, and each word is split into characters (or byte tokens) and merged
// by merge rank, lowest first. The post-processor (TemplateProcessing) adds
// tokens such as <s> when EncodeSpecial is asked to. Components outside this
// list make Load fail with an error naming the component, rather than encode
// differently from the library.
//
// Agreement with the library is tested token for token on more than 10,000
// strings (testdata/, made by testdata/make_tokenizer_reference.py).
package tokenizer

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Tokenizer is a loaded tokenizer.json.
type Tokenizer struct {
	model      wordModel
	vocab      map[string]int // the model's token -> id
	tokens     []string       // the model's id -> token ("" unused)
	added      []addedToken   // sorted by content length, longest first
	addedByID  map[int]addedToken
	normalizer normalizer      // nil: none
	pretok     preTokenizer    // nil: the whole piece is one word
	decoder    decoder         // nil: tokens joined by spaces
	template   []templatePiece // post-processor, single sequence
}

type addedToken struct {
	ID      int    `json:"id"`
	Content string `json:"content"`
	Special bool   `json:"special"`
	Single  bool   `json:"single_word"`
	LStrip  bool   `json:"lstrip"`
	RStrip  bool   `json:"rstrip"`
	Norm    bool   `json:"normalized"`
}

// wordModel turns one pre-tokenized word into ids (appended to ids): BPE
// (bpe.go), WordPiece (wordpiece.go) or Unigram (unigram.go).
type wordModel interface {
	encodeWord(ids []int, w string) []int
}

// parseModel reads the "model" object: the word model, its vocabulary and
// the vocabulary by id.
func parseModel(raw json.RawMessage) (wordModel, map[string]int, []string, error) {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, nil, nil, err
	}
	if head.Type == "Unigram" {
		m, tokens, err := parseUnigram(raw)
		if err != nil {
			return nil, nil, nil, err
		}
		return m, m.vocab, tokens, nil
	}
	if head.Type == "WordPiece" {
		m, tokens, err := parseWordPiece(raw)
		if err != nil {
			return nil, nil, nil, err
		}
		return m, m.vocab, tokens, nil
	}
	m, err := parseBPE(raw) // names any other type in its error
	if err != nil {
		return nil, nil, nil, err
	}
	return m, m.vocab, m.tokens, nil
}

// file is the JSON layout of tokenizer.json (the parts read here).
type file struct {
	AddedTokens   []addedToken    `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	Model         json.RawMessage `json:"model"`
	Decoder       json.RawMessage `json:"decoder"`
	PostProcessor json.RawMessage `json:"post_processor"`
}

// maxFileBytes bounds tokenizer.json before it is read (LLaMA 3's, 128K
// tokens, is 9 MB).
const maxFileBytes = 256 << 20

// Load reads a tokenizer.json file.
func Load(path string) (*Tokenizer, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	if st.Size() > maxFileBytes {
		return nil, fmt.Errorf("tokenizer: %s is %d bytes, more than the %d limit", path, st.Size(), maxFileBytes)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	t, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", path, err)
	}
	return t, nil
}

// Parse builds a tokenizer from the contents of a tokenizer.json.
func Parse(data []byte) (*Tokenizer, error) {
	var f file
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	t := &Tokenizer{addedByID: map[int]addedToken{}}
	var err error
	if t.model, t.vocab, t.tokens, err = parseModel(f.Model); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	for _, a := range f.AddedTokens {
		if a.Single || a.LStrip || a.RStrip || (a.Norm && !a.Special) {
			return nil, fmt.Errorf("added token %q uses single_word/lstrip/rstrip/normalized, which this reader does not implement", a.Content)
		}
		if a.Content == "" {
			return nil, fmt.Errorf("added token %d has empty content", a.ID)
		}
		t.added = append(t.added, a)
		t.addedByID[a.ID] = a
	}
	sort.SliceStable(t.added, func(i, j int) bool { return len(t.added[i].Content) > len(t.added[j].Content) })
	if t.normalizer, err = parseNormalizer(f.Normalizer); err != nil {
		return nil, fmt.Errorf("normalizer: %w", err)
	}
	if t.pretok, err = parsePreTokenizer(f.PreTokenizer); err != nil {
		return nil, fmt.Errorf("pre_tokenizer: %w", err)
	}
	if t.decoder, err = parseDecoder(f.Decoder); err != nil {
		return nil, fmt.Errorf("decoder: %w", err)
	}
	if t.template, err = parsePostProcessor(f.PostProcessor, t); err != nil {
		return nil, fmt.Errorf("post_processor: %w", err)
	}
	return t, nil
}

// VocabSize is the number of ids (model vocabulary and added tokens).
func (t *Tokenizer) VocabSize() int {
	n := len(t.vocab)
	for id := range t.addedByID {
		n = max(n, id+1)
	}
	return n
}

// TokenID returns the id of a token string (added tokens included).
func (t *Tokenizer) TokenID(tok string) (int, bool) {
	for _, a := range t.added {
		if a.Content == tok {
			return a.ID, true
		}
	}
	id, ok := t.vocab[tok]
	return id, ok
}

// Token returns the string of an id ("" and false when out of range).
func (t *Tokenizer) Token(id int) (string, bool) {
	if a, ok := t.addedByID[id]; ok {
		return a.Content, true
	}
	if id >= 0 && id < len(t.tokens) && t.tokens[id] != "" {
		return t.tokens[id], true
	}
	return "", false
}

// Encode returns the ids of text without the post-processor's special
// tokens (tokenizers' encode(text, add_special_tokens=False)).
func (t *Tokenizer) Encode(text string) []int {
	var ids []int
	for _, seg := range t.splitAdded(text) {
		if seg.added != nil {
			ids = append(ids, seg.added.ID)
			continue
		}
		s := seg.text
		if t.normalizer != nil {
			s = t.normalizer.normalize(s)
		}
		if s == "" {
			continue
		}
		words := []string{s}
		if t.pretok != nil {
			words = t.pretok.split(s, seg.start == 0)
		}
		for _, w := range words {
			ids = t.model.encodeWord(ids, w)
		}
	}
	return ids
}

// EncodeSpecial is Encode with the post-processor's tokens added
// (add_special_tokens=True), e.g. <s> first for LLaMA.
func (t *Tokenizer) EncodeSpecial(text string) []int {
	if t.template == nil {
		return t.Encode(text)
	}
	var ids []int
	for _, p := range t.template {
		if p.sequence {
			ids = append(ids, t.Encode(text)...)
		} else {
			ids = append(ids, p.id)
		}
	}
	return ids
}

// segment is a piece of the input: an added token, or text between them.
type segment struct {
	text  string
	start int // byte offset in the input
	added *addedToken
}

// splitAdded splits text at added tokens, leftmost first and the longest
// at a position (the library's leftmost-longest matching).
func (t *Tokenizer) splitAdded(text string) []segment {
	if len(t.added) == 0 {
		return []segment{{text: text}}
	}
	var out []segment
	start := 0
	for i := 0; i < len(text); {
		var hit *addedToken
		for k := range t.added { // longest first
			if strings.HasPrefix(text[i:], t.added[k].Content) {
				hit = &t.added[k]
				break
			}
		}
		if hit == nil {
			i++
			continue
		}
		if i > start {
			out = append(out, segment{text: text[start:i], start: start})
		}
		out = append(out, segment{added: hit, start: i})
		i += len(hit.Content)
		start = i
	}
	if start < len(text) {
		out = append(out, segment{text: text[start:], start: start})
	}
	return out
}

// Decode turns ids back into text (tokenizers' decode with
// skip_special_tokens as given). It returns an error naming an id outside
// the vocabulary.
func (t *Tokenizer) Decode(ids []int, skipSpecial bool) (string, error) {
	toks := make([]string, 0, len(ids))
	for i, id := range ids {
		if a, ok := t.addedByID[id]; ok {
			if skipSpecial && a.Special {
				continue
			}
			toks = append(toks, a.Content)
			continue
		}
		s, ok := t.Token(id)
		if !ok {
			return "", fmt.Errorf("tokenizer: id %d at position %d is outside the vocabulary [0,%d)", id, i, t.VocabSize())
		}
		toks = append(toks, s)
	}
	if t.decoder == nil {
		return strings.Join(toks, " "), nil
	}
	return strings.Join(t.decoder.decode(toks), ""), nil
}
