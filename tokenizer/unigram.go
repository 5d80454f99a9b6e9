package tokenizer

import (
	"encoding/json"
	"fmt"
	"math"
	"unicode/utf8"
)

// Unigram is SentencePiece's unigram model (T5, ALBERT, XLNet; tokenizers'
// models/unigram, its encode_optimized): each piece has a log-probability
// score and a word is split into the pieces whose scores sum highest
// (Viterbi over byte positions, pieces tried shortest first, a later
// candidate replacing an earlier one only when strictly better). A
// character no piece starts with costs min score - 10 as <unk>;
// consecutive unknown characters fuse into one <unk> (or, with
// byte_fallback, their <0xXX> byte tokens).
type unigram struct {
	vocab        map[string]int
	scores       []float64 // by id
	unk          int
	byteFallback bool
	maxLen       int     // longest piece, bytes
	unkScore     float64 // min score - 10 (K_UNK_PENALTY)
}

type unigramJSON struct {
	Type         string              `json:"type"`
	Unk          *int                `json:"unk_id"`
	ByteFallback bool                `json:"byte_fallback"`
	Vocab        [][]json.RawMessage `json:"vocab"` // [piece, score]
}

func parseUnigram(raw json.RawMessage) (*unigram, []string, error) {
	var j unigramJSON
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, nil, err
	}
	if j.Unk == nil || *j.Unk < 0 || *j.Unk >= len(j.Vocab) {
		return nil, nil, fmt.Errorf("Unigram unk_id missing or outside the %d pieces", len(j.Vocab))
	}
	m := &unigram{vocab: make(map[string]int, len(j.Vocab)), scores: make([]float64, len(j.Vocab)), unk: *j.Unk, byteFallback: j.ByteFallback}
	tokens := make([]string, len(j.Vocab))
	minScore := math.Inf(1)
	for id, e := range j.Vocab {
		if len(e) != 2 || json.Unmarshal(e[0], &tokens[id]) != nil || json.Unmarshal(e[1], &m.scores[id]) != nil {
			return nil, nil, fmt.Errorf("Unigram vocab entry %d is not [piece, score]", id)
		}
		if _, dup := m.vocab[tokens[id]]; !dup {
			m.vocab[tokens[id]] = id
		}
		m.maxLen = max(m.maxLen, len(tokens[id]))
		minScore = min(minScore, m.scores[id])
	}
	m.unkScore = minScore - 10
	return m, tokens, nil
}

func (m *unigram) encodeWord(ids []int, w string) []int {
	type node struct {
		score float64
		start int // -1: not reached
		id    int
	}
	best := make([]node, len(w)+1)
	for i := range best {
		best[i].start = -1
	}
	for start := 0; start < len(w); {
		_, ch := utf8.DecodeRuneInString(w[start:])
		base := best[start].score
		single := false
		for l := 1; l <= min(m.maxLen, len(w)-start); l++ {
			id, ok := m.vocab[w[start:start+l]]
			if !ok {
				continue
			}
			if t := &best[start+l]; t.start < 0 || base+m.scores[id] > t.score {
				*t = node{base + m.scores[id], start, id}
			}
			single = single || l == ch
		}
		if !single {
			if t := &best[start+ch]; t.start < 0 || base+m.unkScore > t.score {
				*t = node{base + m.unkScore, start, m.unk}
			}
		}
		start += ch
	}
	// Back from the end: the pieces in reverse, runs of <unk> fused.
	var pieces []string
	unkEnd := -1 // end of the <unk> run being fused
	for end := len(w); end > 0; {
		n := best[end]
		if n.id == m.unk {
			if unkEnd < 0 {
				unkEnd = end
			}
		} else {
			if unkEnd >= 0 {
				pieces = append(pieces, w[end:unkEnd])
				unkEnd = -1
			}
			pieces = append(pieces, w[n.start:end])
		}
		end = n.start
	}
	if unkEnd >= 0 {
		pieces = append(pieces, w[:unkEnd])
	}
	for i := len(pieces) - 1; i >= 0; i-- {
		ids = m.appendPiece(ids, pieces[i])
	}
	return ids
}

// appendPiece is tokenizers' Unigram tokenize: a piece's id, else (a fused
// unknown run) its byte tokens with byte_fallback when all exist, else unk.
func (m *unigram) appendPiece(ids []int, p string) []int {
	if id, ok := m.vocab[p]; ok {
		return append(ids, id)
	}
	if m.byteFallback {
		n := len(ids)
		for i := 0; i < len(p); i++ {
			id, ok := m.vocab[fmt.Sprintf("<0x%02X>", p[i])]
			if !ok {
				return append(ids[:n], m.unk)
			}
			ids = append(ids, id)
		}
		return ids
	}
	return append(ids, m.unk)
}
