package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// WordPiece (BERT's model, tokenizers' models/wordpiece): a word is split
// greedily into the longest vocabulary entries from its start, every piece
// after the first looked up with the continuing-subword prefix ("##"). A
// word with more than max_input_chars_per_word characters, or with a
// position where no entry matches, becomes the single unk token.
type wordPiece struct {
	vocab    map[string]int
	prefix   string
	maxChars int
	unk      int
}

type wordPieceJSON struct {
	Type     string         `json:"type"`
	Unk      string         `json:"unk_token"`
	Prefix   *string        `json:"continuing_subword_prefix"`
	MaxChars *int           `json:"max_input_chars_per_word"`
	Vocab    map[string]int `json:"vocab"`
}

func parseWordPiece(raw json.RawMessage) (*wordPiece, []string, error) {
	var j wordPieceJSON
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, nil, err
	}
	m := &wordPiece{vocab: j.Vocab, prefix: "##", maxChars: 100} // the library's defaults
	if j.Prefix != nil {
		m.prefix = *j.Prefix
	}
	if j.MaxChars != nil {
		m.maxChars = *j.MaxChars
	}
	unk, ok := j.Vocab[j.Unk]
	if !ok {
		return nil, nil, fmt.Errorf("WordPiece unk_token %q is not in the vocabulary", j.Unk)
	}
	m.unk = unk
	tokens, err := tokensByID(j.Vocab)
	return m, tokens, err
}

func (m *wordPiece) encodeWord(ids []int, w string) []int {
	if utf8.RuneCountInString(w) > m.maxChars {
		return append(ids, m.unk)
	}
	n := len(ids)
	for start := 0; start < len(w); {
		end, id := len(w), -1
		for start < end {
			sub := w[start:end]
			if start > 0 {
				sub = m.prefix + sub
			}
			if v, ok := m.vocab[sub]; ok {
				id = v
				break
			}
			_, size := utf8.DecodeLastRuneInString(w[start:end])
			end -= size
		}
		if id < 0 {
			return append(ids[:n], m.unk)
		}
		ids = append(ids, id)
		start = end
	}
	return ids
}

// decWordPiece joins WordPiece tokens: a token after the first loses its
// prefix or, without one, gets a leading space; cleanup then undoes the
// spaces BERT's pre-tokenizer put before punctuation and contractions.
type decWordPiece struct {
	prefix  string
	cleanup bool
}

func (d decWordPiece) decode(t []string) []string {
	for i, s := range t {
		if i != 0 {
			if strings.HasPrefix(s, d.prefix) {
				s = strings.Replace(s, d.prefix, "", 1)
			} else {
				s = " " + s
			}
		}
		if d.cleanup {
			s = cleanupWordPiece(s)
		}
		t[i] = s
	}
	return t
}

// cleanupWordPiece is the library's cleanup of decoded text, its
// replacements applied one after the other.
func cleanupWordPiece(s string) string {
	for _, r := range [][2]string{{" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"},
		{" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}} {
		s = strings.ReplaceAll(s, r[0], r[1])
	}
	return s
}
