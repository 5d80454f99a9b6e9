package dispatch

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
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

// Bounds on history, so that one huge cell or years of use cannot make a
// start slow or a file grow without end:
//
//   - maxHistoryEntries entries are kept in memory; requests see the most
//     recent ones.
//   - maxHistoryField bytes of a cell's input and of its output are kept
//     (the rest is cut at a UTF-8 boundary and marked), and no line of the
//     file is longer than maxHistoryLine.
//   - The file is compacted (the newest entries, up to half of
//     maxHistoryFile, written to a temporary file and renamed over it) once
//     it grows past maxHistoryFile; a start reads at most its last
//     maxHistoryFile bytes, and skips (never stops at) a line that is too
//     long or not an entry.
const (
	maxHistoryEntries = 1000
	maxHistoryField   = 100 << 10
	maxHistoryLine    = 1 << 20
	maxHistoryFile    = 16 << 20
	maxHistorySession = 1 << 31 // larger session numbers are not entries
)

// truncatedMark ends a field cut to maxHistoryField.
const truncatedMark = "\n... [truncated by the kernel history]"

// newHistory loads file ("" keeps history in memory only) and starts a new
// session numbered one past the last one found. A file that is not a
// regular file is not read.
func newHistory(file string) *history {
	h := &history{file: file, session: 1}
	if file == "" {
		return h
	}
	removeStaleTemps(file)
	f, err := os.Open(file)
	if err != nil {
		return h
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return h
	}
	partial := false
	if st.Size() > maxHistoryFile {
		if _, err := f.Seek(st.Size()-maxHistoryFile, io.SeekStart); err != nil {
			return h
		}
		partial = true // the first line read is the tail of one cut off
	}
	r := bufio.NewReaderSize(f, 64<<10)
	for {
		line, ok, err := readLine(r, maxHistoryLine)
		if partial {
			partial = false
			ok = false
		}
		if ok {
			var e histEntry
			if json.Unmarshal(line, &e) == nil && e.Session > 0 && e.Session < maxHistorySession {
				h.entries = append(h.entries, e)
				if e.Session >= h.session {
					h.session = e.Session + 1
				}
				if len(h.entries) >= 2*maxHistoryEntries {
					h.entries = append(h.entries[:0], h.entries[len(h.entries)-maxHistoryEntries:]...)
				}
			}
		}
		if err != nil {
			break
		}
	}
	if len(h.entries) > maxHistoryEntries {
		h.entries = append([]histEntry(nil), h.entries[len(h.entries)-maxHistoryEntries:]...)
	}
	return h
}

// removeStaleTemps deletes compaction files a killed kernel left beside
// file: those over a minute old (a younger one may be another kernel's,
// still being written).
func removeStaleTemps(file string) {
	tmps, _ := filepath.Glob(file + ".tmp*")
	for _, t := range tmps {
		if st, err := os.Lstat(t); err == nil && st.Mode().IsRegular() && time.Since(st.ModTime()) > time.Minute {
			os.Remove(t)
		}
	}
}

// readLine returns the next line of r without its newline; ok is false when
// the line is longer than limit (it is read to its end and dropped). err is
// io.EOF after the last line.
func readLine(r *bufio.Reader, limit int) (line []byte, ok bool, err error) {
	ok = true
	for {
		chunk, e := r.ReadSlice('\n')
		if ok {
			if len(line)+len(chunk) > limit+1 {
				ok, line = false, nil
			} else {
				line = append(line, chunk...)
			}
		}
		if e == bufio.ErrBufferFull {
			continue
		}
		return bytes.TrimSuffix(line, []byte("\n")), ok, e
	}
}

// cut returns s cut to at most max bytes at a UTF-8 boundary, marked when
// cut.
func cut(s string, max int) string {
	if len(s) <= max {
		return s
	}
	n := max - len(truncatedMark)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + truncatedMark
}

// entryLine is e as one line of the file, at most maxHistoryLine bytes
// (JSON escaping can grow a field up to six times; such a field is cut
// further).
func entryLine(e *histEntry) []byte {
	for max := maxHistoryField; ; max /= 2 {
		e.Input, e.Output = cut(e.Input, max), cut(e.Output, max)
		b, err := json.Marshal(e)
		if err != nil || len(b) < maxHistoryLine {
			return append(b, '\n')
		}
	}
}

// add records execution line of the current session.
func (h *history) add(line int, input, output string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e := histEntry{Session: h.session, Line: line, Input: input, Output: output}
	b := entryLine(&e)
	if len(h.entries) >= maxHistoryEntries {
		n := copy(h.entries, h.entries[len(h.entries)-maxHistoryEntries/2:])
		clear(h.entries[n:])
		h.entries = h.entries[:n]
	}
	h.entries = append(h.entries, e)
	if h.file == "" {
		return
	}
	if err := os.MkdirAll(path.Dir(h.file), 0o700); err != nil {
		return
	}
	f, err := os.OpenFile(h.file, os.O_APPEND|os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return
	}
	var last [1]byte
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		if _, err := f.ReadAt(last[:], st.Size()-1); err == nil && last[0] != '\n' {
			b = append([]byte{'\n'}, b...) // a cut-off last line stays one bad line
		}
	}
	f.Write(b)
	st, err := f.Stat()
	f.Close()
	if err == nil && st.Size() > maxHistoryFile {
		h.compact()
	}
}

// compact rewrites the file with the newest entries in memory, up to half
// of maxHistoryFile, through a temporary file renamed over it (a crash
// leaves the old file or the new one, never a mix).
func (h *history) compact() {
	keep, size := len(h.entries), 0
	for keep > 0 {
		e := h.entries[keep-1]
		n := len(entryLine(&e))
		if size+n > maxHistoryFile/2 {
			break
		}
		size += n
		keep--
	}
	tmp, err := os.CreateTemp(path.Dir(h.file), path.Base(h.file)+".tmp*")
	if err != nil {
		return
	}
	w := bufio.NewWriter(tmp)
	for _, e := range h.entries[keep:] {
		w.Write(entryLine(&e))
	}
	if w.Flush() != nil || tmp.Sync() != nil || tmp.Close() != nil || os.Rename(tmp.Name(), h.file) != nil {
		tmp.Close()
		os.Remove(tmp.Name())
	}
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
