package dispatch

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// capture redirects the process's stdout and stderr (file descriptors 1
// and 2, so output of compiled code, interpreted code and child processes
// alike) into pipes whose readers forward the text as stream messages.
//
// Ordering: text and rich output must reach the notebook in the order the
// cell produced them, but a pipe delays text until its reader runs. Before
// sending anything else, the kernel calls flush, which writes a marker
// into each pipe and waits until the reader has passed it: everything
// written before the marker has then been sent.
type capture struct {
	origErr *os.File // the kernel's real stderr, for its log
	pipes   [2]*pipe
	mu      sync.Mutex // one flush at a time
	seq     int
}

type pipe struct {
	name   string // stdout or stderr
	fd     int
	r      *os.File
	send   func(name, text string)
	marks  chan int // markers seen, in order
	closed chan struct{}
}

// markerPrefix starts a flush marker written into a captured stream; the
// full marker is markerPrefix + decimal sequence + "\x00".
const markerPrefix = "\x00\x01retlab-flush-"

// startCapture redirects fds 1 and 2; send receives the text.
func startCapture(send func(name, text string)) (*capture, error) {
	errFd, err := unix.Dup(2)
	if err != nil {
		return nil, fmt.Errorf("dup stderr: %w", err)
	}
	unix.CloseOnExec(errFd)
	c := &capture{origErr: os.NewFile(uintptr(errFd), "kernel-stderr")}
	for i, name := range []string{"stdout", "stderr"} {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		fd := i + 1
		if err := unix.Dup2(int(w.Fd()), fd); err != nil {
			return nil, fmt.Errorf("redirect %s: %w", name, err)
		}
		w.Close()
		p := &pipe{name: name, fd: fd, r: r, send: send, marks: make(chan int, 16), closed: make(chan struct{})}
		c.pipes[i] = p
		go p.read()
	}
	return c, nil
}

// read forwards text from the pipe, splitting out flush markers and
// holding back an incomplete UTF-8 sequence or marker at the end of a read.
func (p *pipe) read() {
	defer close(p.closed)
	buf := make([]byte, 64<<10)
	var pending []byte
	for {
		n, err := p.r.Read(buf)
		if n > 0 {
			pending = append(pending, buf[:n]...)
			pending = p.emit(pending)
		}
		if err != nil {
			if len(pending) > 0 {
				p.send(p.name, string(pending))
			}
			return
		}
	}
}

// emit sends the complete text in data, reports markers, and returns what
// must wait for more input.
func (p *pipe) emit(data []byte) []byte {
	for {
		i := bytes.Index(data, []byte(markerPrefix))
		if i < 0 {
			break
		}
		end := bytes.IndexByte(data[i+len(markerPrefix):], 0)
		if end < 0 {
			p.sendText(data[:i])
			return append([]byte(nil), data[i:]...) // marker split across reads
		}
		p.sendText(data[:i])
		seq, _ := strconv.Atoi(string(data[i+len(markerPrefix) : i+len(markerPrefix)+end]))
		data = data[i+len(markerPrefix)+end+1:]
		select {
		case p.marks <- seq:
		default:
		}
	}
	// Hold back a possible marker start, a line that may be gomacro's
	// warning (filtered once complete), or a partial rune.
	keep := 0
	if ls := bytes.LastIndexByte(data, '\n') + 1; ls < len(data) {
		tail := data[ls:]
		w := []byte(warningPrefix)
		if bytes.HasPrefix(tail, w) || bytes.HasPrefix(w, tail) {
			keep = len(tail)
		}
	}
	for k := 1; k < len(markerPrefix) && k <= len(data); k++ {
		if bytes.HasSuffix(data, []byte(markerPrefix[:k])) {
			keep = max(keep, k)
		}
	}
	if keep == 0 {
		for k := 1; k <= 3 && k <= len(data); k++ {
			if utf8.RuneStart(data[len(data)-k]) {
				if !utf8.FullRune(data[len(data)-k:]) {
					keep = k
				}
				break
			}
		}
	}
	p.sendText(data[:len(data)-keep])
	return append([]byte(nil), data[len(data)-keep:]...)
}

func (p *pipe) sendText(b []byte) {
	b = gomacroWarning.ReplaceAll(b, nil)
	if len(b) > 0 {
		p.send(p.name, string(b))
	}
}

// gomacroWarning matches the lines gomacro prints (with fmt.Printf, so into
// the captured stdout) when it skips a generic function of a standard
// package while loading its types, or when a re-run cell redefines a
// top-level name (`x, err := f()` twice): noise for the notebook.
var gomacroWarning = regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(warningPrefix) + `(skipping import of |redefined identifier: )[^\n]*\n?`)

// warningPrefix starts every gomacro warning line; a partial line starting
// with it is held back until complete, then filtered or sent.
const warningPrefix = "// warning: "

// flush waits until all text written so far to stdout and stderr has been
// sent (at most a second: a blocked pipe must not hang the kernel).
func (c *capture) flush() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	seq := c.seq
	deadline := time.After(time.Second)
	for _, p := range c.pipes {
		marker := markerPrefix + strconv.Itoa(seq) + "\x00"
		if _, err := unix.Write(p.fd, []byte(marker)); err != nil {
			continue
		}
	wait:
		for {
			select {
			case got := <-p.marks:
				if got >= seq {
					break wait
				}
			case <-deadline:
				return
			case <-p.closed:
				break wait
			}
		}
	}
}
