package dispatch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func histLine(session, line int, input string) string {
	b, _ := json.Marshal(histEntry{Session: session, Line: line, Input: input})
	return string(b) + "\n"
}

// Issue 16 item 9: a bad or huge line is skipped, never the rest of the
// file.
func TestHistorySkipsBadLines(t *testing.T) {
	file := filepath.Join(t.TempDir(), "history.jsonl")
	inputs := func(h *history) string {
		var got []string
		for _, e := range h.entries {
			got = append(got, e.Input)
		}
		return strings.Join(got, ",")
	}
	long := histLine(1, 2, strings.Repeat("x", 3<<20)) // over the line cap
	os.WriteFile(file, []byte(histLine(1, 1, "a := 1")+long+histLine(2, 1, "b := 2")+"not json\n{\"session\":-1}\n\n"+histLine(3, 1, "c := 3")), 0o600)
	if h := newHistory(file); inputs(h) != "a := 1,b := 2,c := 3" || h.session != 4 {
		t.Fatalf("loaded %q, session %d; want a, b, c and session 4", inputs(h), h.session)
	}
	huge := histLine(1, 2, strings.Repeat("x", 17<<20)) // one cell over 16 MB (issue 16's repro)
	os.WriteFile(file, []byte(histLine(1, 1, "a := 1")+huge+histLine(2, 1, "b := 2")+histLine(3, 1, "c := 3")), 0o600)
	if h := newHistory(file); inputs(h) != "b := 2,c := 3" || h.session != 4 {
		t.Fatalf("loaded %q, session %d; want the entries after the huge cell and session 4", inputs(h), h.session)
	}
}

// Issue 16 item 9: an entry's size and the file's are capped; the newest
// entries survive compaction.
func TestHistoryBounded(t *testing.T) {
	file := filepath.Join(t.TempDir(), "history.jsonl")
	h := newHistory(file)
	h.add(1, strings.Repeat("é", 10<<20), strings.Repeat("\x01", 1<<20)) // 20 MB input; output that JSON escapes 6x
	st, _ := os.Stat(file)
	if st.Size() > maxHistoryLine {
		t.Fatalf("one entry wrote %d bytes, cap %d", st.Size(), maxHistoryLine)
	}
	if in := h.entries[0].Input; len(in) > maxHistoryField || !strings.HasSuffix(in, truncatedMark) || !strings.HasPrefix(in, "éé") {
		t.Fatalf("kept input of %d bytes (cap %d), marked %v", len(in), maxHistoryField, strings.HasSuffix(in, truncatedMark))
	}
	cell := strings.Repeat("y", 90<<10)
	for i := 2; i < 400; i++ { // ~36 MB of cells
		h.add(i, fmt.Sprintf("// %d\n%s", i, cell), "")
		if st, _ := os.Stat(file); st.Size() > maxHistoryFile+maxHistoryLine {
			t.Fatalf("after %d cells the file holds %d bytes, cap %d", i, st.Size(), maxHistoryFile)
		}
	}
	again := newHistory(file)
	last := again.entries[len(again.entries)-1]
	if last.Line != 399 || !strings.HasPrefix(last.Input, "// 399\n") || again.session != 2 {
		t.Fatalf("after compaction the newest entry is line %d (session %d), want 399", last.Line, again.session)
	}
	matches, _ := filepath.Glob(file + ".tmp*")
	if len(matches) != 0 {
		t.Fatalf("compaction left %v", matches)
	}
}

// A history file already grown past the cap (52 MB seen) loads its newest
// entries, and the next cell compacts it.
func TestHistoryOversizedFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "history.jsonl")
	var b bytes.Buffer
	pad := strings.Repeat("z", 50<<10)
	for i := 1; b.Len() < 52<<20; i++ {
		b.WriteString(histLine(1, i, fmt.Sprintf("%d %s", i, pad)))
	}
	os.WriteFile(file, b.Bytes(), 0o600)
	h := newHistory(file)
	if len(h.entries) == 0 || h.session != 2 {
		t.Fatalf("loaded %d entries, session %d", len(h.entries), h.session)
	}
	h.add(1, "new", "")
	if st, _ := os.Stat(file); st.Size() > maxHistoryFile {
		t.Fatalf("not compacted: %d bytes", st.Size())
	}
	if e := newHistory(file).entries; e[len(e)-1].Input != "new" {
		t.Fatal("compaction lost the newest entry")
	}
}

// A compaction file a killed kernel left is removed at the next start; a
// fresh one (another kernel's, being written) is left alone.
func TestHistoryStaleTempsRemoved(t *testing.T) {
	file := filepath.Join(t.TempDir(), "history.jsonl")
	stale, fresh := file+".tmp111", file+".tmp222"
	os.WriteFile(stale, []byte("x"), 0o600)
	os.WriteFile(fresh, []byte("x"), 0o600)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(stale, old, old)
	newHistory(file)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Error("stale compaction file kept")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("a fresh compaction file was removed")
	}
}

// The kernel never reads a history path that is not a regular file.
func TestHistoryNotRegular(t *testing.T) {
	if h := newHistory("/dev/zero"); len(h.entries) != 0 {
		t.Fatal("read /dev/zero")
	}
}

// FuzzHistoryFile loads arbitrary history files: never a panic, every
// entry kept has a positive session, and the next session follows them.
func FuzzHistoryFile(f *testing.F) {
	f.Add([]byte(histLine(1, 1, "x := 1") + histLine(2, 1, "y")))
	f.Add([]byte("{\"session\":1,\"line\":1,\"input\":\"\\ud800\"}\n{\"session\":9223372036854775807}\n"))
	f.Add([]byte("{\"session\":1e400}\n{\"session\":\"1\"}\nnull\n[]\n{\"session\":2,\"input\":" + strings.Repeat("[", 5000) + "\n"))
	f.Add([]byte("\n\n\r\n{\"session\":3,\"line\":-5,\"input\":\"a\"}\r\n{\"session\":4,\"line\":1,\"input\":\"b\",\"output\":\"\\u0000\"}"))
	f.Add([]byte(histLine(1, 1, strings.Repeat("q", 70<<10))))
	f.Fuzz(func(t *testing.T, data []byte) {
		file := filepath.Join(t.TempDir(), "h.jsonl")
		os.WriteFile(file, data, 0o600)
		h := newHistory(file)
		if len(h.entries) > maxHistoryEntries {
			t.Fatalf("%d entries", len(h.entries))
		}
		for _, e := range h.entries {
			if e.Session <= 0 || e.Session >= h.session {
				t.Fatalf("entry session %d, next session %d", e.Session, h.session)
			}
		}
		h.add(1, "z", "")
		if e := newHistory(file).entries; len(e) == 0 || e[len(e)-1].Input != "z" {
			t.Fatal("the appended entry is not read back")
		}
	})
}
