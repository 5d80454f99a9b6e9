package display

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Sink receives everything the package shows. Implementations must be safe
// for concurrent use: library code may show values from several goroutines.
type Sink interface {
	// Display shows b as a new output. A non-empty id tags the output so
	// that a later Display with update=true and the same id replaces it
	// in place (every output tagged id, wherever it is).
	Display(b Bundle, id string, update bool)
	// Clear clears the output of the running cell; with wait, only when
	// the next output arrives (avoids flicker).
	Clear(wait bool)
	// Progress reports the state of a progress bar; the package throttles
	// calls (see Progress.MinInterval) and always sends the first and the
	// final state (s.Closed is set once, on Close).
	Progress(s ProgressState)
}

var sink atomic.Pointer[sinkBox]

type sinkBox struct{ s Sink }

func init() { sink.Store(&sinkBox{NewTextSink(nil, nil)}) }

// SetSink makes s the destination of Show, Update, Clear and progress bars
// and returns the previous sink. SetSink(nil) restores a TextSink on
// os.Stdout and os.Stderr. The RetLab kernel calls it once at start.
func SetSink(s Sink) (previous Sink) {
	if s == nil {
		s = NewTextSink(nil, nil)
	}
	return sink.Swap(&sinkBox{s}).s
}

// CurrentSink returns the sink in use.
func CurrentSink() Sink { return sink.Load().s }

// NewID returns a fresh display id (32 hex digits).
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms; fall back to the clock.
		return fmt.Sprintf("%032x", time.Now().UnixNano())
	}
	return hex.EncodeToString(b[:])
}

// Identified is a value that carries its own display id (viz's live
// charts): Show uses it, and Refresh updates the output in place.
type Identified interface {
	DisplayID() string
}

// Show displays v now (BundleOf(v)) as a new output and returns its display
// id, for Update: v's own DisplayID() if it has a non-empty one, else a
// fresh id.
func Show(v any) (id string) {
	if x, ok := v.(Identified); ok {
		id = x.DisplayID()
	}
	if id == "" {
		id = NewID()
	}
	CurrentSink().Display(BundleOf(v), id, false)
	return id
}

// Refresh redraws, in place, the output Show made of v: Update(v.DisplayID(), v).
// It panics if v's display id is empty.
func Refresh(v Identified) { Update(v.DisplayID(), v) }

// ShowID displays v as a new output tagged with the given display id; an
// empty id shows it untagged. Several outputs may share an id: Update
// replaces them all.
func ShowID(id string, v any) {
	CurrentSink().Display(BundleOf(v), id, false)
}

// Update replaces, in place, every output shown under id with v. It panics
// if id is empty (nothing to update).
func Update(id string, v any) {
	if id == "" {
		panic("display: Update with an empty display id")
	}
	CurrentSink().Display(BundleOf(v), id, true)
}

// Clear clears the output of the running cell. With wait, the clearing
// happens when the next output arrives, which avoids flicker in loops that
// redraw.
func Clear(wait bool) { CurrentSink().Clear(wait) }

// ErrInterrupted is what long computations return when the user asked them
// to stop (the notebook's interrupt button); wrap it to add context.
var ErrInterrupted = errors.New("interrupted")

var interrupted atomic.Bool

// Interrupted reports whether the user asked the running computation to
// stop. Long loops (training, benchmarks) check it between steps, cheaply
// (an atomic load), and return ErrInterrupted. The kernel sets it on an
// interrupt request and clears it before each cell.
func Interrupted() bool { return interrupted.Load() }

// CheckInterrupt returns ErrInterrupted if Interrupted, else nil.
func CheckInterrupt() error {
	if interrupted.Load() {
		return ErrInterrupted
	}
	return nil
}

// SetInterrupted sets or clears the interrupt flag. The kernel calls it; so
// may a command-line program that traps Ctrl-C to stop a run cleanly.
func SetInterrupted(on bool) { interrupted.Store(on) }

// TextSink is the sink used outside a notebook: bundles print their
// text/plain to Out; progress goes to Err, redrawn in place with \r when Err
// is a terminal, else as one plain line every LineInterval (and at the end).
type TextSink struct {
	mu  sync.Mutex
	out io.Writer
	err io.Writer
	tty bool
	// LineInterval is the least time between two progress lines when Err is
	// not a terminal (default 5s). Set it before use.
	LineInterval time.Duration
	last         map[string]printed // progress id -> last line written
	open         string             // id of the bar drawn on the current tty line
}

// NewTextSink returns a TextSink writing to out and err; nil means
// os.Stdout and os.Stderr (looked up at each write, so redirections of
// os.Stdout apply). Progress is redrawn with \r when err is a terminal.
func NewTextSink(out, err io.Writer) *TextSink {
	s := &TextSink{out: out, err: err, LineInterval: 5 * time.Second, last: map[string]printed{}}
	if err == nil {
		s.tty = isTerminal(os.Stderr)
	} else if f, ok := err.(*os.File); ok {
		s.tty = isTerminal(f)
	}
	return s
}

type printed struct {
	at   time.Time
	line string
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (s *TextSink) stdout() io.Writer {
	if s.out != nil {
		return s.out
	}
	return os.Stdout
}

func (s *TextSink) stderr() io.Writer {
	if s.err != nil {
		return s.err
	}
	return os.Stderr
}

// Display prints the text/plain of b on its own line. Updates print again
// (a terminal cannot replace earlier lines).
func (s *TextSink) Display(b Bundle, id string, update bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endBar()
	t := b.Text()
	if t == "" || t[len(t)-1] != '\n' {
		t += "\n"
	}
	io.WriteString(s.stdout(), t)
}

// Clear does nothing on text output.
func (s *TextSink) Clear(wait bool) {}

// Progress draws the bar: on a terminal, one line redrawn with \r; else a
// plain line at most every LineInterval, plus the first and the final one.
func (s *TextSink) Progress(p ProgressState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	line := p.Line()
	if s.tty {
		if s.open != "" && s.open != p.ID {
			io.WriteString(s.stderr(), "\n")
		}
		fmt.Fprintf(s.stderr(), "\r%s\x1b[K", line)
		s.open = p.ID
		if p.Closed {
			io.WriteString(s.stderr(), "\n")
			s.open = ""
		}
		return
	}
	now := time.Now()
	last, seen := s.last[p.ID]
	if p.Closed {
		delete(s.last, p.ID)
		if seen && last.line == line {
			return
		}
	} else {
		if seen && now.Sub(last.at) < s.LineInterval {
			return
		}
		s.last[p.ID] = printed{now, line}
	}
	io.WriteString(s.stderr(), line+"\n")
}

// endBar ends a tty progress line before other output; s.mu held.
func (s *TextSink) endBar() {
	if s.tty && s.open != "" {
		io.WriteString(s.stderr(), "\n")
		s.open = ""
	}
}
