package dispatch

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// capture redirects the process's stdout and stderr (file descriptors 1
// and 2, so output of cells, the packages they call and child processes
// alike) into pipes whose readers forward the text as stream messages.
//
// The stderr pipe is non-blocking: when the Go runtime dies of a fatal
// error (stack overflow, out of memory, concurrent map writes) it writes
// its report to fd 2 while every goroutine, the pipe's reader too, is
// stopped; a blocking pipe would fill and hang the kernel for good. With
// O_NONBLOCK the runtime's writes past a full pipe fail and the process
// exits; the whole report goes to the crash file as well (see package
// kernel). os.Stderr is re-opened on the non-blocking descriptor, so that
// Go code waits for room through the poller instead of losing text.
//
// os.Stdout and os.Stderr are duplicates of fds 1 and 2: a cell that
// closes os.Stdout closes its duplicate, never fd 1, which a file the cell
// opens next would otherwise get (restore re-opens them after each cell).
//
// Ordering: text and rich output must reach the notebook in the order the
// cell produced them, but a pipe delays text until its reader runs. Before
// sending anything else, the kernel calls flush, which writes a marker
// into each pipe and waits until the reader has passed it: everything
// written before the marker has then been sent.
type capture struct {
	origErr *os.File // the kernel's real stderr, for its log
	// fd1, fd2 are the *os.File objects of fds 1 and 2 that os.Stdout and
	// os.Stderr were: kept reachable, or their finalizers close the fds.
	fd1, fd2 *os.File
	// out, err are the duplicates os.Stdout and os.Stderr are now.
	out, err *os.File
	pipes    [2]*pipe
	mu       sync.Mutex // one flush at a time
	seq      int
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
	c := &capture{origErr: os.NewFile(uintptr(errFd), "kernel-stderr"), fd1: os.Stdout, fd2: os.Stderr}
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
		if fd == 2 {
			if err := unix.SetNonblock(fd, true); err != nil {
				return nil, fmt.Errorf("stderr non-blocking: %w", err)
			}
		}
		p := &pipe{name: name, fd: fd, r: r, send: send, marks: make(chan int, 16), closed: make(chan struct{})}
		c.pipes[i] = p
		go p.read()
	}
	c.restore()
	return c, nil
}

// restore points os.Stdout and os.Stderr at fresh duplicates of fds 1
// and 2 when a cell closed them (or at start).
func (c *capture) restore() {
	if c == nil {
		return
	}
	for fd, f := range map[int]**os.File{1: &os.Stdout, 2: &os.Stderr} {
		dup := &c.out
		if fd == 2 {
			dup = &c.err
		}
		if *dup != nil && *f == *dup {
			if _, err := (*dup).Stat(); err == nil {
				continue // still our open duplicate (Fd() is not called: it would make fd 2 blocking)
			}
		}
		d, err := unix.Dup(fd)
		if err != nil {
			continue
		}
		unix.CloseOnExec(d)
		*dup = os.NewFile(uintptr(d), []string{"", "/dev/stdout", "/dev/stderr"}[fd])
		*f = *dup
	}
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
	// Hold back a possible marker start or a partial rune.
	keep := 0
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
	if len(b) > 0 {
		p.send(p.name, string(b))
	}
}

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
