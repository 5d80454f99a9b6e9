package dispatch

import (
	"bufio"
	"encoding/json"
	"os"
	"path"
	"regexp"
	"strings"
	"sync"
)

// history keeps the inputs (and text outputs) of executed cells: those of
// earlier sessions read from a JSON-lines file, the current session's in
// memory and appended to the file as they run.
type history struct {
	mu      sync.Mutex
	file    string
	session int
	entries []histEntry // all sessions, in order
}

type histEntry struct {
	Session int    `json:"session"`
	Line    int    `json:"line"`
	Input   string `json:"input"`
	Output  string `json:"output,omitempty"`
}

// maxHistoryEntries bounds the entries kept in memory (the file keeps
// them all); requests see the most recent ones.
const maxHistoryEntries = 1000

// newHistory loads file ("" keeps history in memory only) and starts a new
// session numbered one past the last one found.
func newHistory(file string) *history {
	h := &history{file: file, session: 1}
	if file == "" {
		return h
	}
	f, err := os.Open(file)
	if err != nil {
		return h
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var e histEntry
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Session <= 0 {
			continue
		}
		h.entries = append(h.entries, e)
		if e.Session >= h.session {
			h.session = e.Session + 1
		}
	}
	if len(h.entries) > maxHistoryEntries {
		h.entries = append([]histEntry(nil), h.entries[len(h.entries)-maxHistoryEntries:]...)
	}
	return h
}

// add records execution line of the current session.
func (h *history) add(line int, input, output string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e := histEntry{Session: h.session, Line: line, Input: input, Output: output}
	if len(h.entries) >= maxHistoryEntries {
		n := copy(h.entries, h.entries[len(h.entries)-maxHistoryEntries/2:])
		clear(h.entries[n:])
		h.entries = h.entries[:n]
	}
	h.entries = append(h.entries, e)
	if h.file == "" {
		return
	}
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	if err := os.MkdirAll(path.Dir(h.file), 0o700); err != nil {
		return
	}
	f, err := os.OpenFile(h.file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	f.Write(append(b, '\n'))
	f.Close()
}

// query answers a history_request: tail (last n), range (session, lines
// [start, stop); session <= 0 counts back from the current one), search
// (glob pattern, last n matches, unique inputs).
func (h *history) query(kind string, session, start, stop, n int, pattern string, unique, output bool) [][]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	var sel []histEntry
	switch kind {
	case "tail":
		sel = lastN(h.entries, n)
	case "range":
		if session <= 0 {
			session += h.session
		}
		for _, e := range h.entries {
			if e.Session == session && e.Line >= start && (stop <= 0 || e.Line < stop) {
				sel = append(sel, e)
			}
		}
	case "search":
		if pattern == "" {
			pattern = "*"
		}
		seen := map[string]bool{}
		for i := len(h.entries) - 1; i >= 0; i-- {
			e := h.entries[i]
			if !globMatch(pattern, e.Input) {
				continue
			}
			if unique && seen[e.Input] {
				continue
			}
			seen[e.Input] = true
			sel = append(sel, e)
			if n > 0 && len(sel) == n {
				break
			}
		}
		for i, j := 0, len(sel)-1; i < j; i, j = i+1, j-1 {
			sel[i], sel[j] = sel[j], sel[i]
		}
	}
	out := make([][]any, 0, len(sel))
	for _, e := range sel {
		if output {
			out = append(out, []any{e.Session, e.Line, []any{e.Input, e.Output}})
		} else {
			out = append(out, []any{e.Session, e.Line, e.Input})
		}
	}
	return out
}

func lastN(e []histEntry, n int) []histEntry {
	if n <= 0 || n >= len(e) {
		return e
	}
	return e[len(e)-n:]
}

// globMatch matches s against a glob pattern where * is any text
// (newlines and slashes included) and ? any one character, like IPython's
// history search.
func globMatch(pattern, s string) bool {
	var b strings.Builder
	b.WriteString("(?s)^")
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	return err == nil && re.MatchString(s)
}
