package tokenizer

import (
	"container/heap"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// bpe is the tokenizers BPE model: a vocabulary, ranked merges, and what
// to do with characters outside the vocabulary (byte fallback, unknown token).
type bpe struct {
	vocab        map[string]int
	tokens       []string         // id -> token
	merges       map[[2]int]merge // (left id, right id) -> rank, merged id
	unk          int              // -1: none
	fuseUnk      bool
	byteFallback bool
	byteIDs      [256]int // id of <0xXX>, -1 if absent
	ignoreMerges bool
}

type merge struct{ rank, id int }

type bpeJSON struct {
	Type         string          `json:"type"`
	Dropout      *float64        `json:"dropout"`
	Unk          *string         `json:"unk_token"`
	Prefix       *string         `json:"continuing_subword_prefix"`
	Suffix       *string         `json:"end_of_word_suffix"`
	FuseUnk      bool            `json:"fuse_unk"`
	ByteFallback bool            `json:"byte_fallback"`
	IgnoreMerges bool            `json:"ignore_merges"`
	Vocab        map[string]int  `json:"vocab"`
	Merges       json.RawMessage `json:"merges"`
}

// tokensByID inverts a vocabulary: the token of each id ("" for an unused
// id). Ids must lie in [0, 2^24].
func tokensByID(vocab map[string]int) ([]string, error) {
	n := 0
	for tok, id := range vocab {
		if id < 0 || id > 1<<24 {
			return nil, fmt.Errorf("token %q has id %d", tok, id)
		}
		n = max(n, id+1)
	}
	tokens := make([]string, n)
	for tok, id := range vocab {
		tokens[id] = tok
	}
	return tokens, nil
}

func parseBPE(raw json.RawMessage) (*bpe, error) {
	var j bpeJSON
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, err
	}
	if j.Type != "BPE" {
		return nil, fmt.Errorf("type %q: only BPE, WordPiece and Unigram are implemented", j.Type)
	}
	if j.Dropout != nil && *j.Dropout != 0 {
		return nil, fmt.Errorf("dropout %g is not implemented (it makes encoding random)", *j.Dropout)
	}
	if (j.Prefix != nil && *j.Prefix != "") || (j.Suffix != nil && *j.Suffix != "") {
		return nil, fmt.Errorf("continuing_subword_prefix/end_of_word_suffix are not implemented")
	}
	m := &bpe{vocab: j.Vocab, merges: map[[2]int]merge{}, unk: -1, fuseUnk: j.FuseUnk, byteFallback: j.ByteFallback, ignoreMerges: j.IgnoreMerges}
	var err error
	if m.tokens, err = tokensByID(j.Vocab); err != nil {
		return nil, err
	}
	if j.Unk != nil {
		id, ok := j.Vocab[*j.Unk]
		if !ok {
			return nil, fmt.Errorf("unk_token %q is not in the vocabulary", *j.Unk)
		}
		m.unk = id
	}
	for b := range m.byteIDs {
		m.byteIDs[b] = -1
		if id, ok := j.Vocab[fmt.Sprintf("<0x%02X>", b)]; ok {
			m.byteIDs[b] = id
		}
	}
	pairs, err := parseMerges(j.Merges)
	if err != nil {
		return nil, err
	}
	for rank, p := range pairs {
		a, okA := j.Vocab[p[0]]
		b, okB := j.Vocab[p[1]]
		c, okC := j.Vocab[p[0]+p[1]]
		if !okA || !okB || !okC {
			return nil, fmt.Errorf("merge %d (%q %q) uses or makes a token outside the vocabulary", rank, p[0], p[1])
		}
		if _, dup := m.merges[[2]int{a, b}]; !dup {
			m.merges[[2]int{a, b}] = merge{rank, c}
		}
	}
	return m, nil
}

// parseMerges reads merges as ["a b", ...] (older files) or [["a","b"], ...].
func parseMerges(raw json.RawMessage) ([][2]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var pairs [][2]string
	if err := json.Unmarshal(raw, &pairs); err == nil {
		return pairs, nil
	}
	var lines []string
	if err := json.Unmarshal(raw, &lines); err != nil {
		return nil, fmt.Errorf("merges: want a list of \"a b\" strings or [a, b] pairs")
	}
	pairs = make([][2]string, len(lines))
	for i, l := range lines {
		a, b, ok := strings.Cut(l, " ")
		if !ok {
			return nil, fmt.Errorf("merge %d %q has no space", i, l)
		}
		pairs[i] = [2]string{a, b}
	}
	return pairs, nil
}

// symbol is one piece of a word being merged (a doubly linked list over
// the initial characters, as in the library's Word).
type symbol struct {
	id         int
	prev, next int
	gone       bool
}

// encodeWord appends the ids of one pre-tokenized word.
func (m *bpe) encodeWord(ids []int, w string) []int {
	if m.ignoreMerges {
		if id, ok := m.vocab[w]; ok {
			return append(ids, id)
		}
	}
	syms := make([]symbol, 0, len(w))
	add := func(id int) { syms = append(syms, symbol{id: id, prev: len(syms) - 1, next: len(syms) + 1}) }
	unk := -1 // a pending unknown token (fused over consecutive unknown characters)
	for i := 0; i < len(w); {
		_, size := utf8.DecodeRuneInString(w[i:])
		ch := w[i : i+size]
		i += size
		if id, ok := m.vocab[ch]; ok {
			if unk >= 0 {
				add(unk)
				unk = -1
			}
			add(id)
			continue
		}
		if m.byteFallback && m.hasBytes(ch) {
			// As in the library, a pending unknown token is not flushed here.
			for k := 0; k < len(ch); k++ {
				add(m.byteIDs[ch[k]])
			}
			continue
		}
		if m.unk >= 0 {
			if unk >= 0 && !m.fuseUnk {
				add(unk)
			}
			unk = m.unk
		}
	}
	if unk >= 0 {
		add(unk)
	}
	if len(syms) == 0 {
		return ids
	}
	syms[len(syms)-1].next = -1
	m.mergeAll(syms)
	for _, s := range syms {
		if !s.gone {
			ids = append(ids, s.id)
		}
	}
	return ids
}

func (m *bpe) hasBytes(ch string) bool {
	for k := 0; k < len(ch); k++ {
		if m.byteIDs[ch[k]] < 0 {
			return false
		}
	}
	return true
}

// mergeAll applies merges lowest rank first (ties: leftmost), with the
// library's priority queue, including its handling of stale entries.
func (m *bpe) mergeAll(syms []symbol) {
	q := &mergeQueue{}
	for i := 0; i+1 < len(syms); i++ {
		if mg, ok := m.merges[[2]int{syms[i].id, syms[i+1].id}]; ok {
			q.items = append(q.items, queued{mg.rank, i, mg.id})
		}
	}
	heap.Init(q)
	for q.Len() > 0 {
		top := heap.Pop(q).(queued)
		cur := &syms[top.pos]
		if cur.gone || cur.next < 0 {
			continue
		}
		right := syms[cur.next]
		if mg, ok := m.merges[[2]int{cur.id, right.id}]; !ok || mg.id != top.id {
			continue
		}
		cur.id = top.id
		syms[cur.next].gone = true
		cur.next = right.next
		if right.next >= 0 {
			syms[right.next].prev = top.pos
		}
		if cur.prev >= 0 {
			if mg, ok := m.merges[[2]int{syms[cur.prev].id, cur.id}]; ok {
				heap.Push(q, queued{mg.rank, cur.prev, mg.id})
			}
		}
		if cur.next >= 0 {
			if mg, ok := m.merges[[2]int{cur.id, syms[cur.next].id}]; ok {
				heap.Push(q, queued{mg.rank, top.pos, mg.id})
			}
		}
	}
}

type queued struct{ rank, pos, id int }

// mergeQueue is a min-heap on (rank, pos).
type mergeQueue struct{ items []queued }

func (q *mergeQueue) Len() int { return len(q.items) }
func (q *mergeQueue) Less(i, j int) bool {
	a, b := q.items[i], q.items[j]
	if a.rank != b.rank {
		return a.rank < b.rank
	}
	return a.pos < b.pos
}
func (q *mergeQueue) Swap(i, j int) { q.items[i], q.items[j] = q.items[j], q.items[i] }
func (q *mergeQueue) Push(x any)    { q.items = append(q.items, x.(queued)) }
func (q *mergeQueue) Pop() any {
	x := q.items[len(q.items)-1]
	q.items = q.items[:len(q.items)-1]
	return x
}
