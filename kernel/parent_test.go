package kernel

import (
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// The kernel stops when the Jupyter server that started it (JPY_PARENT_PID)
// is gone, so a killed server leaves no orphaned kernels.
func TestWatchParentStopsWhenServerDies(t *testing.T) {
	srv := exec.Command("sleep", "0.3")
	if err := srv.Start(); err != nil {
		t.Skip(err)
	}
	t.Setenv("JPY_PARENT_PID", strconv.Itoa(srv.Process.Pid))
	stopped := make(chan struct{})
	go watchParent(func() { close(stopped) }, 20*time.Millisecond)
	select {
	case <-stopped:
		t.Fatal("stopped while the server was alive")
	case <-time.After(150 * time.Millisecond):
	}
	srv.Wait() // the server exits and is reaped
	select {
	case <-stopped:
	case <-time.After(2 * time.Second):
		t.Fatal("kernel did not stop after its server died")
	}
}
