// Package testutil holds helpers shared by RetLab's end-to-end tests
// (kernel, viz, notebooks/nbtest): building the kernel with its own
// kernelspec, starting JupyterLab, reading how much a screenshot shows. It is
// imported by tests only.
package testutil

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Ink reads a PNG and returns its bounds, the fraction of its pixels that
// are not (near) white, and the number of distinct coarse colours: a drawn
// chart has axes, text and coloured marks; a blank or error page has
// (almost) none.
func Ink(path string) (bounds image.Rectangle, ink float64, colours int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return bounds, 0, 0, err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return bounds, 0, 0, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	b := img.Bounds()
	n := 0
	seen := map[[3]uint32]bool{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r < 0xe800 || g < 0xe800 || bl < 0xe800 {
				n++
			}
			seen[[3]uint32{r >> 13, g >> 13, bl >> 13}] = true
		}
	}
	return b, float64(n) / float64(max(1, b.Dx()*b.Dy())), len(seen), nil
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitHTTP polls url until it answers 200, or fails the test after d with
// the tail of the server's log at logPath.
func WaitHTTP(t testing.TB, url string, d time.Duration, logPath string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	log, _ := os.ReadFile(logPath)
	t.Fatalf("server did not answer %s within %v; log tail:\n%s", url, d, Tail(string(log), 3000))
}

// Tail returns the last n bytes of s.
func Tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// KernelEnv builds bin/retlab from the repository at root into a temporary
// directory and installs its kernelspec into a Jupyter data directory of
// its own, so that Jupyter started with Vars runs exactly this build.
type KernelEnv struct {
	Bin  string   // the built retlab
	Data string   // JUPYTER_DATA_DIR holding the kernelspec
	Vars []string // the process environment plus the Jupyter directories
}

// NewKernelEnv returns a KernelEnv for the repository at root, failing the
// test if the build or the kernelspec install fails.
func NewKernelEnv(t testing.TB, root string) *KernelEnv {
	t.Helper()
	tmp := t.TempDir()
	e := &KernelEnv{Bin: filepath.Join(tmp, "retlab"), Data: filepath.Join(tmp, "jupyter")}
	build := exec.Command("go", "build", "-o", e.Bin, "./cmd/retlab")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	e.Vars = append(os.Environ(), "JUPYTER_DATA_DIR="+e.Data, "JUPYTER_RUNTIME_DIR="+filepath.Join(tmp, "runtime"),
		"JUPYTER_CONFIG_DIR="+filepath.Join(tmp, "config"), "JUPYTER_PLATFORM_DIRS=1", "RETLAB_KERNEL_HISTORY=off",
		"PYTHONUNBUFFERED=1",
		// In a venv Jupyter prefers its sys-prefix kernelspecs (make run
		// installs one there); the tests want the one they just built.
		"JUPYTER_PREFER_ENV_PATH=0")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	install := exec.CommandContext(ctx, e.Bin, "kernel", "install", "--user")
	install.Dir, install.Env = root, e.Vars
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("kernel install: %v\n%s", err, out)
	}
	return e
}

// JupyterLab is a JupyterLab server started by StartJupyterLab.
type JupyterLab struct {
	Origin string // http://127.0.0.1:PORT
	Token  string
	Log    string // path of the server's combined output
}

// StartJupyterLab starts `jupyter lab` (the executable jupyter) serving dir
// on a free local port with a fixed token and environment env, waits up to
// wait for its API to answer, and stops it when the test ends.
func StartJupyterLab(t testing.TB, jupyter, dir string, env []string, wait time.Duration) *JupyterLab {
	t.Helper()
	port := FreePort(t)
	lab := &JupyterLab{Origin: fmt.Sprintf("http://127.0.0.1:%d", port), Token: "retlab-test-token",
		Log: filepath.Join(dir, "server.log")}
	srv := exec.Command(jupyter, "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1", "--port="+strconv.Itoa(port),
		"--ServerApp.token="+lab.Token, "--ServerApp.root_dir="+dir, "--ServerApp.disable_check_xsrf=True",
		"--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate")
	srv.Env = env
	logf, err := os.Create(lab.Log)
	if err != nil {
		t.Fatal(err)
	}
	srv.Stdout, srv.Stderr = logf, logf
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { srv.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			srv.Process.Kill()
			<-done
		}
		logf.Close()
	})
	WaitHTTP(t, lab.Origin+"/api/status?token="+lab.Token, wait, lab.Log)
	return lab
}
