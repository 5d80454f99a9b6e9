package dispatch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"

	"github.com/retlab/retlab/kernel/dispatch"
	"github.com/retlab/retlab/kernel/wire"
)

// freePorts returns n free TCP ports on 127.0.0.1.
func freePorts(t testing.TB, n int) []int {
	var ports []int
	var ls []net.Listener
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// client is a minimal Jupyter client over zmq4, signing with its own key.
type client struct {
	t                     testing.TB
	signer                *wire.Signer
	shell, control, iopub zmq4.Socket
	hb                    zmq4.Socket
	session               string
	iopubMsgs             chan *wire.Message
	cancel                context.CancelFunc
}

func startKernel(t testing.TB) (*dispatch.Kernel, *client, wire.ConnectionInfo) {
	p := freePorts(t, 5)
	conn := wire.ConnectionInfo{Transport: "tcp", IP: "127.0.0.1", ShellPort: p[0], IOPubPort: p[1], StdinPort: p[2],
		ControlPort: p[3], HBPort: p[4], Key: "secret-key", SignatureScheme: "hmac-sha256"}
	var logs strings.Builder
	var mu sync.Mutex
	k, err := dispatch.Start(dispatch.Config{Conn: conn, Version: "test", Log: lockedWriter{&mu, &logs}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Stop)
	c := dial(t, conn, conn.Key, true)
	return k, c, conn
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func dial(t testing.TB, conn wire.ConnectionInfo, key string, wait bool) *client {
	ctx, cancel := context.WithCancel(context.Background())
	s, _ := wire.NewSigner("hmac-sha256", []byte(key))
	s.SetReplayMemory(0) // the kernel's replay memory is under test, not the client's (TestSoakHeap counts one heap)
	id := zmq4.SocketIdentity(wire.NewID())
	c := &client{t: t, signer: s, session: wire.NewID(), cancel: cancel, iopubMsgs: make(chan *wire.Message, 100000),
		shell: zmq4.NewDealer(ctx, zmq4.WithID(id)), control: zmq4.NewDealer(ctx, zmq4.WithID(id)),
		iopub: zmq4.NewSub(ctx), hb: zmq4.NewReq(ctx)}
	for _, d := range []struct {
		s    zmq4.Socket
		port int
	}{{c.shell, conn.ShellPort}, {c.control, conn.ControlPort}, {c.iopub, conn.IOPubPort}, {c.hb, conn.HBPort}} {
		if err := d.s.Dial(conn.Endpoint(d.port)); err != nil {
			t.Fatal(err)
		}
	}
	c.iopub.SetOption(zmq4.OptionSubscribe, "")
	go func() {
		for {
			m, err := c.iopub.Recv()
			if err != nil {
				return
			}
			if msg, err := wire.Decode(m.Frames, c.signer); err == nil {
				c.iopubMsgs <- msg
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		c.shell.Close()
		c.control.Close()
		c.iopub.Close()
		c.hb.Close()
	})
	if !wait {
		return c
	}
	// Wait until iopub is connected: kernel_info until a status arrives.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.request(c.shell, "kernel_info_request", map[string]any{})
		select {
		case <-c.iopubMsgs:
			c.drain()
			return c
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("iopub never connected")
		}
	}
}

func (c *client) drain() {
	time.Sleep(50 * time.Millisecond)
	for {
		select {
		case <-c.iopubMsgs:
		default:
			return
		}
	}
}

func (c *client) msg(msgType string, content any) *wire.Message {
	b, _ := json.Marshal(content)
	return &wire.Message{Header: wire.Header{MsgID: wire.NewID(), Session: c.session, Username: "test", Date: wire.Now(),
		MsgType: msgType, Version: wire.ProtocolVersion}, Content: b}
}

// request sends a request and returns its reply.
func (c *client) request(sock zmq4.Socket, msgType string, content any) (*wire.Message, *wire.Message) {
	m := c.msg(msgType, content)
	frames, _ := wire.Encode(m, c.signer)
	if err := sock.Send(zmq4.NewMsgFrom(frames...)); err != nil {
		c.t.Fatal(err)
	}
	for {
		r, err := sock.Recv()
		if err != nil {
			c.t.Fatal(err)
		}
		rep, err := wire.Decode(r.Frames, c.signer)
		if err != nil {
			c.t.Fatalf("reply: %v", err)
		}
		var ph wire.Header
		json.Unmarshal(rep.ParentHeader, &ph)
		if ph.MsgID == m.Header.MsgID {
			return m, rep
		}
	}
}

// outputs collects the iopub messages of req up to its idle status.
func (c *client) outputs(req *wire.Message) []*wire.Message {
	var out []*wire.Message
	timeout := time.After(20 * time.Second)
	for {
		select {
		case m := <-c.iopubMsgs:
			var ph wire.Header
			json.Unmarshal(m.ParentHeader, &ph)
			if ph.MsgID != req.Header.MsgID {
				continue
			}
			out = append(out, m)
			if m.Header.MsgType == "status" && strings.Contains(string(m.Content), "idle") {
				return out
			}
		case <-timeout:
			c.t.Fatalf("no idle for %s", req.Header.MsgType)
		}
	}
}

func (c *client) execute(code string) (map[string]any, []*wire.Message) {
	req, rep := c.request(c.shell, "execute_request", map[string]any{"code": code})
	var content map[string]any
	json.Unmarshal(rep.Content, &content)
	return content, c.outputs(req)
}

func types(ms []*wire.Message) []string {
	var t []string
	for _, m := range ms {
		t = append(t, m.Header.MsgType)
	}
	return t
}

func TestExecuteBusyIdleAndResult(t *testing.T) {
	_, c, _ := startKernel(t)
	rep, out := c.execute("x := 20\nx * 2 + 2")
	if rep["status"] != "ok" || rep["execution_count"] != 1.0 {
		t.Fatalf("reply %v", rep)
	}
	got := strings.Join(types(out), ",")
	if got != "status,execute_input,execute_result,status" {
		t.Fatalf("iopub sequence %s", got)
	}
	var res wire.DisplayData
	json.Unmarshal(out[2].Content, &res)
	if res.Data["text/plain"] != "42" || *res.ExecutionCount != 1 {
		t.Fatalf("result %+v", res)
	}
	rep, out = c.execute(`panic("x")`)
	if rep["status"] != "error" || rep["ename"] != "Panic" || types(out)[2] != "error" {
		t.Fatalf("error reply %v %v", rep, types(out))
	}
}

func TestKernelInfoOnControl(t *testing.T) {
	_, c, _ := startKernel(t)
	req, rep := c.request(c.control, "kernel_info_request", map[string]any{})
	var info wire.KernelInfoReply
	if err := json.Unmarshal(rep.Content, &info); err != nil || info.Status != "ok" || info.LanguageInfo.Name != "go" || info.ProtocolVersion != "5.3" {
		t.Fatalf("kernel_info %+v %v", info, err)
	}
	if got := strings.Join(types(c.outputs(req)), ","); got != "status,status" {
		t.Fatalf("busy/idle around control request: %s", got)
	}
}

func TestMisSignedAndMalformedAreDropped(t *testing.T) {
	k, c, conn := startKernel(t)
	evil := dial(t, conn, "wrong-key", false)
	m := evil.msg("execute_request", map[string]any{"code": "evil := 1"})
	frames, _ := wire.Encode(m, evil.signer)
	evil.shell.Send(zmq4.NewMsgFrom(frames...))
	for _, f := range [][][]byte{
		{[]byte("no delimiter")},
		{[]byte("<IDS|MSG>"), []byte("sig")},
		{[]byte("<IDS|MSG>"), c.signer.Sign([]byte("{"), []byte("{}"), []byte("{}"), []byte("{}")), []byte("{"), []byte("{}"), []byte("{}"), []byte("{}")},
	} {
		c.shell.Send(zmq4.NewMsgFrom(f...))
	}
	time.Sleep(200 * time.Millisecond)
	before := k.Stats().Dropped.Load()
	if before < 3 {
		t.Fatalf("dropped %d messages, want >= 3 (mis-signed ones included)", before)
	}
	rep, _ := c.execute("evil")
	if rep["status"] != "error" || rep["ename"] != "CompileError" {
		t.Fatalf("the mis-signed cell ran: %v", rep)
	}
	// Well-signed but wrong content types get an error reply, not a crash.
	_, bad := c.request(c.shell, "execute_request", map[string]any{"code": []int{1}})
	if !strings.Contains(string(bad.Content), "BadRequest") {
		t.Fatalf("bad content reply %s", bad.Content)
	}
	_, bad = c.request(c.shell, "complete_request", map[string]any{"code": "x", "cursor_pos": "end"})
	if !strings.Contains(string(bad.Content), "BadRequest") || bad.Header.MsgType != "complete_reply" {
		t.Fatalf("bad complete reply %s %s", bad.Header.MsgType, bad.Content)
	}
	if rep, _ := c.execute("1"); rep["status"] != "ok" {
		t.Fatal("kernel broken after bad messages")
	}
}

func TestHeartbeatEchoes(t *testing.T) {
	_, c, _ := startKernel(t)
	if err := c.hb.Send(zmq4.NewMsgString("ping")); err != nil {
		t.Fatal(err)
	}
	m, err := c.hb.Recv()
	if err != nil || string(m.Frames[0]) != "ping" {
		t.Fatalf("heartbeat %v %v", m, err)
	}
}

func TestShutdown(t *testing.T) {
	k, c, _ := startKernel(t)
	_, rep := c.request(c.control, "shutdown_request", map[string]any{"restart": true})
	var r wire.ShutdownRequest
	json.Unmarshal(rep.Content, &r)
	if r.Status != "ok" || !r.Restart {
		t.Fatalf("shutdown reply %s", rep.Content)
	}
	select {
	case <-k.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("kernel did not stop")
	}
}

// TestSoakHeap runs many cells and checks the kernel's live heap does not grow.
func TestSoakHeap(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 1500
	}
	_, c, _ := startKernel(t)
	heap := func() float64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return float64(m.HeapAlloc)
	}
	for i := 0; i < n/10; i++ {
		c.execute("1+1")
	}
	h0 := heap()
	if f, err := os.Create(os.Getenv("RETLAB_HEAP_PROFILE") + ".0"); err == nil && os.Getenv("RETLAB_HEAP_PROFILE") != "" {
		pprof.WriteHeapProfile(f)
		f.Close()
	}
	for i := 0; i < n; i++ {
		c.execute("1+1")
	}
	h1 := heap()
	if f, err := os.Create(os.Getenv("RETLAB_HEAP_PROFILE") + ".1"); err == nil && os.Getenv("RETLAB_HEAP_PROFILE") != "" {
		pprof.WriteHeapProfile(f)
		f.Close()
	}
	perExec := (h1 - h0) / float64(n)
	t.Logf("live heap %.1f MB -> %.1f MB over %d executions (%.1f bytes each)", h0/1e6, h1/1e6, n, perExec)
	if perExec > 64 {
		t.Errorf("heap grows %.0f bytes per execution", perExec)
	}
}

var _ = fmt.Sprint
