// Package dispatch is the kernel proper: it binds the five ZeroMQ sockets
// of a connection file, decodes and verifies every incoming message, routes
// requests to their handlers with status busy/idle around each, runs cells
// with package exec (compiled Go, state kept between cells), and publishes their output on IOPub.
//
// Threads of control:
//
//   - shell: a reader goroutine queues decoded requests; one worker handles
//     them in order (a running cell blocks later shell requests, as in
//     ipykernel). An error with stop_on_error aborts the execute requests
//     that were already queued.
//   - control: handled on its own goroutine, so interrupt_request and
//     shutdown_request work while a cell runs.
//   - stdin: input_request / input_reply for Input() in cells.
//   - heartbeat: echoes.
//   - IOPub: every publish goes through one mutex; stdout and stderr of the
//     whole process are captured and flushed before any rich output, so the
//     notebook sees them in order.
//
// SIGINT interrupts the running cell (interrupt_mode "signal"); the
// kernelspec asks for "message" mode, which does the same through
// interrupt_request. Mis-signed or malformed messages are dropped and
// logged; a bad request never stops the kernel.
package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-zeromq/zmq4"

	"github.com/retlab/retlab/display"
	"github.com/retlab/retlab/kernel/exec"
	"github.com/retlab/retlab/kernel/wire"
)

// Config configures a kernel.
type Config struct {
	Conn wire.ConnectionInfo
	// Version is the implementation_version reported in kernel_info.
	Version string
	// HistoryFile keeps execution history across sessions ("" = memory only).
	HistoryFile string
	// CaptureStdio redirects file descriptors 1 and 2 into stream messages.
	// A real kernel wants it; tests running a kernel in-process do not.
	CaptureStdio bool
	// HandleSignals makes SIGINT interrupt the running cell and SIGTERM
	// shut the kernel down.
	HandleSignals bool
	// Log receives the kernel's own log (nil: stderr, before capture).
	Log io.Writer
	// StartNotice is shown (on stderr) above the output of the first cell:
	// why the previous kernel ended.
	StartNotice string
	// Warm lists packages whose export data is prepared in the background
	// at start, with a first cell plugin (see exec.Interp.Warm).
	Warm []string
}

// Kernel is a running kernel.
type Kernel struct {
	cfg     Config
	signer  *wire.Signer
	session string
	log     *log.Logger
	interp  *exec.Interp
	hist    *history
	stdio   *capture

	shell, control, stdin, iopub, hb zmq4.Socket
	ctx                              context.Context
	cancel                           context.CancelFunc

	pubMu   sync.Mutex
	ctlMu   sync.Mutex // control socket sends
	shellMu sync.Mutex // shell socket sends
	stdinMu sync.Mutex // stdin socket sends

	parent    atomic.Pointer[wire.Message] // request whose output is being produced
	execReq   atomic.Pointer[execState]    // running execute request (for stdin)
	count     int                          // execution_count
	abortTill time.Time                    // execute requests that arrived before are aborted
	inputs    chan inputReply
	shown     sync.Map // progress display ids already shown
	done      chan struct{}
	doneOnce  sync.Once

	stats Stats
}

// Stats counts what the kernel saw, for tests and the log.
type Stats struct {
	Handled, Dropped, BadContent atomic.Int64
}

type execState struct {
	req        *wire.Message
	allowStdin bool
}

type inputReply struct {
	value string
	err   error
}

type queued struct {
	msg     *wire.Message
	arrived time.Time
}

// Start binds the sockets and starts serving; Wait blocks until shutdown.
func Start(cfg Config) (*Kernel, error) {
	if err := cfg.Conn.Validate(); err != nil {
		return nil, err
	}
	signer, err := wire.NewSigner(cfg.Conn.SignatureScheme, []byte(cfg.Conn.Key))
	if err != nil {
		return nil, err
	}
	logw := cfg.Log
	if logw == nil {
		logw = os.Stderr
	}
	k := &Kernel{
		cfg:     cfg,
		signer:  signer,
		session: wire.NewID(),
		log:     log.New(logw, "retlab kernel: ", log.LstdFlags),
		hist:    newHistory(cfg.HistoryFile),
		inputs:  make(chan inputReply, 1),
		done:    make(chan struct{}),
	}
	if k.interp, err = exec.New(logWriter{k.log}); err != nil {
		return nil, err
	}
	k.interp.SetInput(k.input)
	k.ctx, k.cancel = context.WithCancel(context.Background())
	opt := zmq4.WithTimeout(10 * time.Second)
	k.shell = zmq4.NewRouter(k.ctx, opt)
	k.control = zmq4.NewRouter(k.ctx, opt)
	k.stdin = zmq4.NewRouter(k.ctx, opt)
	k.iopub = zmq4.NewPub(k.ctx, opt)
	k.hb = zmq4.NewRep(k.ctx, opt)
	c := cfg.Conn
	for _, s := range []struct {
		name string
		sock zmq4.Socket
		port int
	}{{"shell", k.shell, c.ShellPort}, {"control", k.control, c.ControlPort}, {"stdin", k.stdin, c.StdinPort},
		{"iopub", k.iopub, c.IOPubPort}, {"heartbeat", k.hb, c.HBPort}} {
		if err := s.sock.Listen(c.Endpoint(s.port)); err != nil {
			k.closeSockets()
			return nil, fmt.Errorf("dispatch: listen %s on %s: %w", s.name, c.Endpoint(s.port), err)
		}
	}
	if cfg.CaptureStdio {
		if k.stdio, err = startCapture(k.stream); err != nil {
			k.closeSockets()
			return nil, fmt.Errorf("dispatch: capturing stdout/stderr: %w", err)
		}
		k.log.SetOutput(k.stdio.origErr)
	}
	display.SetSink(&sink{k})
	k.publish(nil, "status", wire.Status{ExecutionState: "starting"})

	shellQ := make(chan queued, 1024)
	go k.readLoop("shell", k.shell, func(m *wire.Message) {
		select {
		case shellQ <- queued{m, time.Now()}:
		case <-k.done:
		}
	})
	go k.readLoop("control", k.control, k.handleControl)
	go k.readLoop("stdin", k.stdin, k.handleStdin)
	go k.heartbeat()
	go k.shellWorker(shellQ)
	if cfg.HandleSignals {
		go k.signals()
	}
	k.interp.StartWarm(cfg.Warm)
	k.log.Printf("started (session %s, %s)", k.session, c.Endpoint(c.ShellPort))
	return k, nil
}

// Wait blocks until the kernel shuts down.
func (k *Kernel) Wait() { <-k.done }

// Done is closed when the kernel shuts down.
func (k *Kernel) Done() <-chan struct{} { return k.done }

// Stop shuts the kernel down.
func (k *Kernel) Stop() {
	k.doneOnce.Do(func() {
		close(k.done)
		k.interp.Interrupt()
		k.interp.Close()
		time.Sleep(20 * time.Millisecond) // let the last iopub messages leave
		k.closeSockets()
		if k.stdio != nil {
			k.stdio.flush()
		}
	})
}

// Stats returns the kernel's counters.
func (k *Kernel) Stats() *Stats { return &k.stats }

func (k *Kernel) closeSockets() {
	k.cancel()
	for _, s := range []zmq4.Socket{k.shell, k.control, k.stdin, k.iopub, k.hb} {
		if s != nil {
			s.Close()
		}
	}
}

// readLoop receives, verifies and decodes messages of one ROUTER socket.
func (k *Kernel) readLoop(name string, sock zmq4.Socket, handle func(*wire.Message)) {
	for {
		raw, err := sock.Recv()
		if err != nil {
			select {
			case <-k.done:
				return
			default:
			}
			if errors.Is(err, context.Canceled) || k.ctx.Err() != nil {
				return
			}
			k.log.Printf("%s: receive: %v", name, err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		m, err := wire.Decode(raw.Frames, k.signer)
		if err != nil {
			k.stats.Dropped.Add(1)
			k.log.Printf("%s: dropped message: %v", name, err)
			continue
		}
		handle(m)
	}
}

func (k *Kernel) heartbeat() {
	for {
		m, err := k.hb.Recv()
		if err != nil {
			if k.ctx.Err() != nil {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if err := k.hb.Send(m); err != nil && k.ctx.Err() == nil {
			k.log.Printf("heartbeat: %v", err)
		}
	}
}

func (k *Kernel) signals() {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(ch)
	for {
		select {
		case s := <-ch:
			if s == syscall.SIGTERM {
				k.log.Printf("SIGTERM: shutting down")
				k.Stop()
				return
			}
			k.log.Printf("SIGINT: interrupting (cell running: %v)", k.interp.Interrupt())
		case <-k.done:
			return
		}
	}
}

// send encodes and sends m on a ROUTER socket (replies go back to the
// request's identities).
func (k *Kernel) send(sock zmq4.Socket, mu *sync.Mutex, m *wire.Message) {
	frames, err := wire.Encode(m, k.signer)
	if err != nil {
		k.log.Printf("encode %s: %v", m.Header.MsgType, err)
		return
	}
	mu.Lock()
	defer mu.Unlock()
	if err := sock.Send(zmq4.NewMsgFrom(frames...)); err != nil && k.ctx.Err() == nil {
		k.log.Printf("send %s: %v", m.Header.MsgType, err)
	}
}

// reply sends a reply of msgType to req on sock.
func (k *Kernel) reply(sock zmq4.Socket, mu *sync.Mutex, req *wire.Message, msgType string, content any) {
	m, err := wire.NewMessage(k.session, msgType, req, content)
	if err != nil {
		k.log.Printf("%v", err)
		m, _ = wire.NewMessage(k.session, msgType, req, map[string]any{"status": "error", "ename": "EncodingError", "evalue": err.Error(), "traceback": []string{err.Error()}})
	}
	k.send(sock, mu, m)
}

// publish sends an IOPub message whose parent is parent (nil: none).
func (k *Kernel) publish(parent *wire.Message, msgType string, content any) {
	m, err := wire.NewMessage(k.session, msgType, nil, content)
	if err != nil {
		k.log.Printf("%v", err)
		return
	}
	if parent != nil {
		m.ParentHeader = parent.HeaderRaw
	}
	m.Identities = [][]byte{[]byte("kernel." + k.session + "." + msgType)}
	frames, err := wire.Encode(m, k.signer)
	if err != nil {
		k.log.Printf("encode %s: %v", msgType, err)
		return
	}
	k.pubMu.Lock()
	defer k.pubMu.Unlock()
	if err := k.iopub.Send(zmq4.NewMsgFrom(frames...)); err != nil && k.ctx.Err() == nil {
		k.log.Printf("publish %s: %v", msgType, err)
	}
}

// stream publishes captured stdout/stderr text for the current request.
func (k *Kernel) stream(name, text string) {
	k.publish(k.parent.Load(), "stream", wire.Stream{Name: name, Text: text})
}

// flush makes sure captured output written so far is published.
func (k *Kernel) flush() { k.stdio.flush() }

// busy brackets handling of req with status busy and idle.
func (k *Kernel) busy(req *wire.Message, handle func()) {
	k.publish(req, "status", wire.Status{ExecutionState: "busy"})
	defer func() {
		if r := recover(); r != nil {
			// A handler bug must not take the kernel down.
			k.log.Printf("handling %s panicked: %v", req.Header.MsgType, r)
		}
		k.flush()
		k.publish(req, "status", wire.Status{ExecutionState: "idle"})
	}()
	k.stats.Handled.Add(1)
	handle()
}

func (k *Kernel) shellWorker(q chan queued) {
	for {
		select {
		case <-k.done:
			return
		case item := <-q:
			m := item.msg
			k.busy(m, func() {
				if m.Header.MsgType == "execute_request" && item.arrived.Before(k.abortTill) {
					k.reply(k.shell, &k.shellMu, m, "execute_reply", map[string]any{"status": "aborted", "execution_count": k.count})
					return
				}
				k.handle(k.shell, &k.shellMu, m)
			})
		}
	}
}

func (k *Kernel) handleControl(m *wire.Message) {
	if m.Header.MsgType == "execute_request" {
		k.stats.BadContent.Add(1)
		k.log.Printf("control: execute_request belongs on the shell channel; ignored")
		return
	}
	k.busy(m, func() { k.handle(k.control, &k.ctlMu, m) })
}

// handle routes one request (shell or control).
func (k *Kernel) handle(sock zmq4.Socket, mu *sync.Mutex, m *wire.Message) {
	bad := func(err error) {
		k.stats.BadContent.Add(1)
		k.log.Printf("%v", err)
		k.reply(sock, mu, m, replyType(m.Header.MsgType), wire.ErrorContent{Status: "error", EName: "BadRequest", EValue: err.Error(), Traceback: []string{err.Error()}})
	}
	switch m.Header.MsgType {
	case "kernel_info_request":
		k.reply(sock, mu, m, "kernel_info_reply", k.kernelInfo())
	case "execute_request":
		var req wire.ExecuteRequest
		if err := m.DecodeContent(&req); err != nil {
			bad(err)
			return
		}
		k.execute(sock, mu, m, req)
	case "complete_request":
		var req wire.CodeRequest
		if err := m.DecodeContent(&req); err != nil {
			bad(err)
			return
		}
		k.complete(sock, mu, m, req)
	case "inspect_request":
		var req wire.CodeRequest
		if err := m.DecodeContent(&req); err != nil {
			bad(err)
			return
		}
		cur := byteOffset(req.Code, cursorOr(req.CursorPos, req.Code))
		text, found := k.interp.Inspect(req.Code, cur)
		data := map[string]any{}
		if found {
			data[display.MIMEText] = text
		}
		k.reply(sock, mu, m, "inspect_reply", wire.InspectReply{Status: "ok", Found: found, Data: data, Metadata: map[string]any{}})
	case "is_complete_request":
		var req wire.CodeRequest
		if err := m.DecodeContent(&req); err != nil {
			bad(err)
			return
		}
		status, indent := exec.IsComplete(req.Code)
		k.reply(sock, mu, m, "is_complete_reply", wire.IsCompleteReply{Status: status, Indent: indent})
	case "history_request":
		var req wire.HistoryRequest
		if err := m.DecodeContent(&req); err != nil {
			bad(err)
			return
		}
		h := k.hist.query(req.HistAccessType, req.Session, req.Start, req.Stop, req.N, req.Pattern, req.Unique, req.Output)
		k.reply(sock, mu, m, "history_reply", wire.HistoryReply{Status: "ok", History: h})
	case "comm_info_request":
		k.reply(sock, mu, m, "comm_info_reply", map[string]any{"status": "ok", "comms": map[string]any{}})
	case "comm_open":
		var c wire.Comm
		if err := m.DecodeContent(&c); err != nil {
			k.log.Printf("%v", err)
			return
		}
		// No comm targets are registered: close it, as ipykernel does.
		k.log.Printf("comm_open for unknown target %q: closing", c.TargetName)
		k.publish(m, "comm_close", map[string]any{"comm_id": c.CommID, "data": map[string]any{}})
	case "comm_msg", "comm_close":
		// Comms are never opened, so messages for them are ignored.
	case "interrupt_request":
		k.interp.Interrupt()
		k.reply(sock, mu, m, "interrupt_reply", map[string]any{"status": "ok"})
	case "shutdown_request":
		var req wire.ShutdownRequest
		if err := m.DecodeContent(&req); err != nil {
			bad(err)
			return
		}
		k.reply(sock, mu, m, "shutdown_reply", wire.ShutdownRequest{Status: "ok", Restart: req.Restart})
		k.log.Printf("shutdown requested (restart=%v)", req.Restart)
		go func() {
			time.Sleep(50 * time.Millisecond) // let idle and the reply leave
			k.Stop()
		}()
	case "connect_request":
		c := k.cfg.Conn
		k.reply(sock, mu, m, "connect_reply", map[string]any{"status": "ok", "shell_port": c.ShellPort, "iopub_port": c.IOPubPort,
			"stdin_port": c.StdinPort, "hb_port": c.HBPort, "control_port": c.ControlPort})
	default:
		k.log.Printf("unknown message type %q ignored", m.Header.MsgType)
	}
}

func replyType(req string) string { return strings.TrimSuffix(req, "_request") + "_reply" }

func (k *Kernel) kernelInfo() wire.KernelInfoReply {
	goVersion := strings.TrimPrefix(runtime.Version(), "go")
	return wire.KernelInfoReply{
		Status:                "ok",
		ProtocolVersion:       wire.ProtocolVersion,
		Implementation:        "retlab",
		ImplementationVersion: k.cfg.Version,
		LanguageInfo: wire.LanguageInfo{Name: "go", Version: goVersion, MIMEType: "text/x-go", FileExtension: ".go",
			PygmentsLexer: "go", CodeMirrorMode: "go", NBConvertExporter: "script"},
		Banner: "RetLab Go kernel " + k.cfg.Version + " (cells compiled by Go " + goVersion + ", state kept between cells)\n" +
			"import \"github.com/retlab/retlab/retnet\" or any module (%go get). %help lists the magics.",
		HelpLinks: []wire.HelpLink{
			{Text: "Go documentation", URL: "https://go.dev/doc/"},
			{Text: "Go standard library", URL: "https://pkg.go.dev/std"},
			{Text: "RetNet paper", URL: "https://arxiv.org/abs/2307.08621"},
		},
	}
}

func (k *Kernel) execute(sock zmq4.Socket, mu *sync.Mutex, m *wire.Message, req wire.ExecuteRequest) {
	if req.Store() {
		k.count++
	}
	count := k.count
	if !req.Silent {
		k.publish(m, "execute_input", wire.ExecuteInput{Code: req.Code, ExecutionCount: count})
	}
	k.parent.Store(m)
	if k.cfg.StartNotice != "" {
		k.publish(m, "stream", wire.Stream{Name: "stderr", Text: k.cfg.StartNotice})
		k.cfg.StartNotice = ""
	}
	k.execReq.Store(&execState{req: m, allowStdin: req.Stdin()})
	k.interp.SetCount(count)
	res := k.interp.Eval(req.Code)
	k.stdio.restore()
	k.execReq.Store(nil)
	k.flush()

	if res.Err != nil {
		k.publish(m, "error", wire.ErrorContent{EName: res.Err.Name, EValue: res.Err.Value, Traceback: res.Err.Traceback})
		if req.Store() {
			k.hist.add(count, req.Code, "")
		}
		// Before the reply: a request the client sends once it has the
		// reply must not count as queued behind the error (set after it,
		// a quick client's next cell was aborted now and then).
		if req.StopsOnError() && !req.Silent {
			k.abortTill = time.Now()
		}
		k.reply(sock, mu, m, "execute_reply", wire.ErrorContent{Status: "error", ExecutionCount: &count, EName: res.Err.Name,
			EValue: res.Err.Value, Traceback: res.Err.Traceback, UserExprs: map[string]any{}})
		return
	}
	if res.Bundle != nil && !req.Silent {
		k.publishData(m, "execute_result", res.Bundle, "", &count)
	}
	payload := []any{}
	if res.Page != nil {
		payload = append(payload, map[string]any{"source": "page", "data": map[string]any(res.Page), "start": 0})
	}
	if req.Store() {
		k.hist.add(count, req.Code, res.Bundle.Text())
	}
	k.reply(sock, mu, m, "execute_reply", wire.ExecuteReply{Status: "ok", ExecutionCount: count, Payload: payload,
		UserExpressions: k.userExpressions(req.UserExpressions)})
}

// userExpressions evaluates execute_request's user_expressions after the cell.
func (k *Kernel) userExpressions(exprs map[string]string) map[string]any {
	out := map[string]any{}
	for name, code := range exprs {
		r := k.interp.Eval(code)
		if r.Err != nil {
			out[name] = map[string]any{"status": "error", "ename": r.Err.Name, "evalue": r.Err.Value, "traceback": r.Err.Traceback}
			continue
		}
		b := r.Bundle
		if b == nil {
			b = display.Text("")
		}
		out[name] = map[string]any{"status": "ok", "data": jsonSafe(b), "metadata": map[string]any{}}
	}
	return out
}

// publishData sends display_data, update_display_data or execute_result.
func (k *Kernel) publishData(parent *wire.Message, msgType string, b display.Bundle, id string, count *int) {
	c := wire.DisplayData{ExecutionCount: count, Data: jsonSafe(b), Metadata: map[string]any{}}
	if id != "" {
		c.Transient = map[string]any{"display_id": id}
	}
	k.publish(parent, msgType, c)
}

// jsonSafe returns b as a map that encodes to JSON: an entry that cannot
// (a NaN in JSON data, a func) is replaced by its error, so one bad entry
// never loses the whole output.
func jsonSafe(b display.Bundle) map[string]any {
	out := make(map[string]any, len(b)+1)
	var bad []string
	for mime, v := range b {
		if _, err := json.Marshal(v); err != nil {
			bad = append(bad, fmt.Sprintf("(%s could not be encoded: %v)", mime, err))
			continue
		}
		out[mime] = v
	}
	if len(bad) > 0 {
		out[display.MIMEText] = b.Text() + "\n" + strings.Join(bad, "\n")
	}
	if _, ok := out[display.MIMEText]; !ok {
		out[display.MIMEText] = ""
	}
	return out
}

func (k *Kernel) complete(sock zmq4.Socket, mu *sync.Mutex, m *wire.Message, req wire.CodeRequest) {
	cur := byteOffset(req.Code, cursorOr(req.CursorPos, req.Code))
	matches, start, end := k.interp.Complete(req.Code, cur)
	if matches == nil {
		matches = []string{}
	}
	k.reply(sock, mu, m, "complete_reply", wire.CompleteReply{Status: "ok", Matches: matches,
		CursorStart: runeOffset(req.Code, start), CursorEnd: runeOffset(req.Code, end), Metadata: map[string]any{}})
}

// cursorOr is the request's cursor in code points, default the end of code.
func cursorOr(p *int, code string) int {
	if p == nil {
		return len([]rune(code))
	}
	return *p
}

// byteOffset converts a cursor in Unicode code points (the protocol's
// unit since 5.2) to a byte offset in s, clamped to s.
func byteOffset(s string, runes int) int {
	if runes <= 0 {
		return 0
	}
	n := 0
	for i := range s {
		if n == runes {
			return i
		}
		n++
	}
	return len(s)
}

// runeOffset converts a byte offset in s to code points.
func runeOffset(s string, b int) int {
	if b > len(s) {
		b = len(s)
	}
	return len([]rune(s[:b]))
}

func (k *Kernel) handleStdin(m *wire.Message) {
	if m.Header.MsgType != "input_reply" {
		k.log.Printf("stdin: unexpected %s", m.Header.MsgType)
		return
	}
	var r wire.InputReply
	err := m.DecodeContent(&r)
	select {
	case k.inputs <- inputReply{r.Value, err}:
	default:
		k.log.Printf("stdin: input_reply nobody asked for")
	}
}

// input asks the front end for a line of text (Input and Password in cells).
func (k *Kernel) input(prompt string, password bool) (string, error) {
	st := k.execReq.Load()
	if st == nil || !st.allowStdin {
		return "", errors.New("input: this front end does not accept input (allow_stdin is false)")
	}
	select { // drop a stale reply
	case <-k.inputs:
	default:
	}
	k.flush()
	m, err := wire.NewMessage(k.session, "input_request", st.req, wire.InputRequest{Prompt: prompt, Password: password})
	if err != nil {
		return "", err
	}
	k.send(k.stdin, &k.stdinMu, m)
	for {
		select {
		case r := <-k.inputs:
			return r.value, r.err
		case <-k.done:
			return "", errors.New("input: kernel shutting down")
		case <-time.After(100 * time.Millisecond):
			if display.Interrupted() {
				return "", display.ErrInterrupted
			}
		}
	}
}

// logWriter sends what exec reports about its work to the kernel's log.
type logWriter struct{ l *log.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	w.l.Print(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// sink is the display.Sink of a kernel: output goes to the request whose
// cell is running (or ran last, for output from background goroutines).
type sink struct{ k *Kernel }

func (s *sink) Display(b display.Bundle, id string, update bool) {
	s.k.flush()
	t := "display_data"
	if update {
		t = "update_display_data"
	}
	s.k.publishData(s.k.parent.Load(), t, b, id, nil)
}

func (s *sink) Clear(wait bool) {
	s.k.flush()
	s.k.publish(s.k.parent.Load(), "clear_output", wire.ClearOutput{Wait: wait})
}

func (s *sink) Progress(p display.ProgressState) {
	_, seen := s.k.shown.LoadOrStore(p.ID, true)
	if p.Closed {
		s.k.shown.Delete(p.ID)
	}
	s.Display(p.Bundle(), p.ID, seen)
}
