// Package kernel is RetLab's Jupyter kernel for Go: `retlab kernel run`
// serves a connection file (packages wire, dispatch, exec), and
// `retlab kernel install` writes the kernelspec that JupyterLab and
// Notebook list.
//
// Layers, from the socket up:
//
//	wire      frames, HMAC signatures, checked decoding of messages
//	dispatch  sockets, busy/idle, routing, stdout capture, display sink
//	exec      the gomacro interpreter: cells, results, completion, docs
//	bindings  generated gomacro bindings of retnet, viz, display, ...
//
// Cells are Go, interpreted with state carried between them; RetLab's
// packages are compiled into the kernel, so training and benchmarks run at
// full speed and report progress through package display.
package kernel

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/retlab/retlab/kernel/bindings"
	"github.com/retlab/retlab/kernel/dispatch"
	"github.com/retlab/retlab/kernel/wire"
)

// Version is the kernel's implementation_version.
const Version = "0.1.0"

// Run serves the kernel described by connectionFile until it is shut down.
func Run(connectionFile string) error {
	conn, err := wire.ReadConnectionFile(connectionFile)
	if err != nil {
		return err
	}
	ensureGoOnPath()
	k, err := dispatch.Start(dispatch.Config{
		Conn:          conn,
		Version:       Version,
		HistoryFile:   historyFile(),
		CaptureStdio:  true,
		HandleSignals: true,
		Warm:          append([]string{"fmt", "strings", "math", "time", "os", "strconv", "sort"}, bindings.Paths()...),
	})
	if err != nil {
		return err
	}
	go watchParent(k.Stop, time.Second)
	k.Wait()
	return nil
}

// watchParent calls stop once the process that started the kernel is gone:
// the Jupyter server named by JPY_PARENT_PID (which jupyter_client sets), or
// else the parent process (we are re-parented when it exits). A server
// killed without shutting its kernels down then leaves no orphans behind,
// as ipykernel's parent poller ensures for Python kernels.
func watchParent(stop func(), every time.Duration) {
	parent, _ := strconv.Atoi(os.Getenv("JPY_PARENT_PID"))
	ppid := os.Getppid()
	for range time.Tick(every) {
		gone := os.Getppid() != ppid
		if parent > 0 {
			gone = syscall.Kill(parent, 0) == syscall.ESRCH
		}
		if gone {
			stop()
			return
		}
	}
}

// ensureGoOnPath adds the Go toolchain the kernel was built with to PATH
// when `go` is missing: the interpreter asks it for type information of
// standard packages on their first import.
func ensureGoOnPath() {
	if _, err := exec.LookPath("go"); err == nil {
		return
	}
	root := os.Getenv("GOROOT")
	if root == "" {
		root = runtime.GOROOT()
	}
	if root == "" {
		return
	}
	bin := filepath.Join(root, "bin")
	if _, err := os.Stat(filepath.Join(bin, "go")); err == nil {
		os.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	}
}

// historyFile is where execution history persists across sessions:
// $RETLAB_KERNEL_HISTORY ("off" disables), else
// $XDG_DATA_HOME/retlab/kernel_history.jsonl.
func historyFile() string {
	if v, ok := os.LookupEnv("RETLAB_KERNEL_HISTORY"); ok {
		if v == "off" || v == "" {
			return ""
		}
		return v
	}
	dir := os.Getenv("XDG_DATA_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(dir, "retlab", "kernel_history.jsonl")
}

// errorf is fmt.Errorf with the package prefix.
func errorf(format string, args ...any) error {
	return fmt.Errorf("kernel: "+format, args...)
}
