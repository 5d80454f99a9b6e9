package dispatch

import (
	"strings"
	"testing"
)

// TestPipeEmit feeds the stream splitter text in awkward pieces: a flush
// marker and a multi-byte rune split across reads.
func TestPipeEmit(t *testing.T) {
	var got []string
	p := &pipe{name: "stdout", marks: make(chan int, 4), send: func(_, text string) { got = append(got, text) }}
	marker := markerPrefix + "7\x00"
	in := "héllo " + marker + "wörld\n// warning: kept\nend"
	var pending []byte
	for i := 0; i < len(in); i += 3 { // 3-byte reads split everything
		j := min(i+3, len(in))
		pending = p.emit(append(pending, in[i:j]...))
	}
	p.sendText(pending)
	text := strings.Join(got, "")
	if text != "héllo wörld\n// warning: kept\nend" {
		t.Fatalf("stream text %q", text)
	}
	for _, s := range got {
		if !strings.ContainsRune(s, '\uFFFD') && !isValidUTF8(s) {
			t.Fatalf("chunk %q is not valid UTF-8", s)
		}
	}
	select {
	case seq := <-p.marks:
		if seq != 7 {
			t.Fatalf("marker %d, want 7", seq)
		}
	default:
		t.Fatal("marker not reported")
	}
}

func isValidUTF8(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
