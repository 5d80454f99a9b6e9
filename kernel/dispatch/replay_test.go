package dispatch_test

import (
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"

	"github.com/retlab/retlab/kernel/wire"
)

// Issue 16 item 2: a captured, correctly signed execute_request sent three
// times runs once; the copies are dropped like mis-signed messages.
func TestReplayedRequestRunsOnce(t *testing.T) {
	k, c, _ := startKernel(t)
	if rep, _ := c.execute("counter := 0"); rep["status"] != "ok" {
		t.Fatalf("setup: %v", rep)
	}
	frames, _ := wire.Encode(c.msg("execute_request", map[string]any{"code": "counter++"}), c.signer)
	before := k.Stats().Dropped.Load()
	for i := 0; i < 3; i++ {
		if err := c.shell.Send(zmq4.NewMsgFrom(frames...)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for k.Stats().Dropped.Load() < before+2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if d := k.Stats().Dropped.Load() - before; d != 2 {
		t.Errorf("dropped %d of the 2 replays", d)
	}
	rep, out := c.execute("counter")
	if rep["status"] != "ok" {
		t.Fatalf("reply %v", rep)
	}
	for _, m := range out {
		if m.Header.MsgType == "execute_result" {
			var res wire.DisplayData
			m.DecodeContent(&res)
			if res.Data["text/plain"] != "1" {
				t.Fatalf("counter = %v after one request and two replays, want 1", res.Data["text/plain"])
			}
			return
		}
	}
	t.Fatalf("no result: %v", types(out))
}
