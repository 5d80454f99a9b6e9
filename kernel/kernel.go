// Package kernel is RetLab's Jupyter kernel for Go: `retlab kernel run`
// serves a connection file (packages wire, dispatch, exec), and
// `retlab kernel install` writes the kernelspec that JupyterLab and
// Notebook list.
//
// Layers, from the socket up:
//
//	wire      frames, HMAC signatures, checked decoding of messages
//	dispatch  sockets, busy/idle, routing, stdout capture, display sink
//	exec      cells compiled by the Go toolchain into plugins loaded into
//	          this process, state kept between cells (docs/kernel.md)
//
// RetLab's packages are linked into the kernel and shared with the cells,
// so training and benchmarks report progress through package display.
//
// A fatal runtime error in a cell (stack overflow, out of memory,
// concurrent map writes) cannot be recovered in Go: the process ends, and
// Jupyter restarts it. The runtime's report goes to a crash file beside
// the connection file (debug.SetCrashOutput) and the restarted kernel shows
// it above the output of its first cell.
package kernel

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/retlab/retlab/kernel/dispatch"
	cells "github.com/retlab/retlab/kernel/exec"
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
	notice := crashReport(connectionFile)
	// A deep recursion fails at 256 MB of stack in a second, not at the
	// default 1 GB after many.
	debug.SetMaxStack(256 << 20)
	k, err := dispatch.Start(dispatch.Config{
		StartNotice:   notice,
		Conn:          conn,
		Version:       Version,
		HistoryFile:   historyFile(),
		CaptureStdio:  true,
		HandleSignals: true,
		Warm:          WarmPackages,
	})
	if err != nil {
		return err
	}
	go watchParent(k.Stop, time.Second)
	k.Wait()
	return nil
}

// WarmPackages are the packages a starting kernel prepares before its first
// cell (export data, and a first plugin importing them).
var WarmPackages = []string{"fmt", "strings", "math", "time", "os", "strconv", "sort", "slices",
	"github.com/retlab/retlab/retnet", "github.com/retlab/retlab/viz"}

// Warm does once, in the foreground, what a starting kernel does in the
// background before its first cell: on a machine whose Go build cache lacks
// them it builds the standard library for dynamic linking and RetLab's
// packages (15-40 s on 2 cores), so the first cell in JupyterLab does not
// wait for it. Build output goes to logw. `make run` and the image's
// install script call it after installing the kernel.
func Warm(logw io.Writer) error {
	in, err := cells.New(logw)
	if err != nil {
		return err
	}
	defer in.Close()
	in.Warm(WarmPackages)
	return nil
}

// crashReport returns the report of a previous kernel on connectionFile
// that died of a fatal error, and directs this kernel's crash output to
// the same file (truncated) for the next one.
func crashReport(connectionFile string) string {
	path := connectionFile + ".crash"
	var notice string
	if data, err := os.ReadFile(path); err == nil && len(data) > 0 {
		notice = summarizeCrash(string(data))
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return notice
	}
	if err := debug.SetCrashOutput(f, debug.CrashOptions{}); err != nil {
		f.Close()
		os.Remove(path)
	}
	f.Close() // SetCrashOutput keeps its own duplicate
	return notice
}

// summarizeCrash keeps the message and the first frames of a crash report.
func summarizeCrash(s string) string {
	lines := strings.Split(s, "\n")
	if len(lines) > 40 {
		lines = append(lines[:40], "...")
	}
	// The runtime prints the message of a stack overflow to stderr only (the
	// process ends before the kernel forwards it); the report's first frames
	// say it.
	msg := ""
	if !strings.Contains(s, "fatal error") && strings.Contains(s, "runtime.newstack(") {
		msg = "fatal error: stack overflow (a goroutine's stack passed the kernel's 256 MB limit: unbounded recursion?)\n"
	}
	return "The previous kernel ended with a fatal error, and Jupyter restarted it (variables are gone):\n" + msg +
		strings.Join(lines, "\n") + "\n"
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
