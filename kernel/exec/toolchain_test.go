package exec

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestProbeCacheScript runs the C linker wrapper as Go's linker does: a
// flag probe (CC ... -o TMP/a.out FLAG TMP/trivial.c) reaches the real
// compiler once and is answered from the cache after that, with the same
// exit status and output, from another temporary directory too; a link
// always reaches it.
func TestProbeCacheScript(t *testing.T) {
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls")
	// A fake C compiler: logs its arguments, rejects -Qunused-arguments as gcc does.
	fake := filepath.Join(dir, "fake cc") // a space: the wrapper quotes it
	src := "#!/bin/sh\necho \"$*\" >>'" + calls + "'\ncase \"$*\" in *-Qunused-arguments*) echo \"fake: unrecognized command-line option '-Qunused-arguments'\"; exit 1;; esac\nexit 0\n"
	if err := os.WriteFile(fake, []byte(src), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	tc := &toolchain{link: "/nonexistent/link", cc: []string{fake, "-m64"}}
	script, probes := tc.writeProbeCache(dir)
	if script == "" {
		t.Fatal("no wrapper written")
	}
	run := func(args ...string) (string, int) {
		cmd := exec.Command(script, args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		code := 0
		if e, ok := err.(*exec.ExitError); ok {
			code = e.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), code
	}
	probe := func(tmp, flag string) (string, int) {
		return run("-m64", "-o", tmp+"/a.out", flag, tmp+"/trivial.c")
	}
	for i, tmp := range []string{"/tmp/go-link-1", "/tmp/go-link-1", "/tmp/go-link-22"} {
		if out, code := probe(tmp, "-Wl,--build-id=0x12"); code != 0 || out != "" {
			t.Fatalf("probe %d of a good flag: exit %d, %q", i, code, out)
		}
		if out, code := probe(tmp, "-Qunused-arguments"); code != 1 || !strings.Contains(out, "unrecognized") {
			t.Fatalf("probe %d of a bad flag: exit %d, %q", i, code, out)
		}
	}
	run("-m64", "-shared", "-o", "x.so", "/tmp/go-link-3/go.o")
	run("-m64", "-shared", "-o", "x.so", "/tmp/go-link-3/go.o")
	data, err := os.ReadFile(calls)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSpace(string(data)), "\n")
	want := []string{
		"-m64 -m64 -o /tmp/go-link-1/a.out -Wl,--build-id=0x12 /tmp/go-link-1/trivial.c",
		"-m64 -m64 -o /tmp/go-link-1/a.out -Qunused-arguments /tmp/go-link-1/trivial.c",
		"-m64 -m64 -shared -o x.so /tmp/go-link-3/go.o",
		"-m64 -m64 -shared -o x.so /tmp/go-link-3/go.o",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("the fake compiler ran\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	tc.probes = probes
	tc.clearProbes()
	if ents, _ := os.ReadDir(probes); len(ents) != 0 {
		t.Fatalf("clearProbes left %d files", len(ents))
	}
}

// TestLinkFallsBackWithoutWrapper breaks the C linker wrapper: the cell
// still builds (linked with CC itself, once more), and later cells do
// without it.
func TestLinkFallsBackWithoutWrapper(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles cells with the Go toolchain; skipped with -short")
	}
	var log bytes.Buffer
	in, err := New(&log)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if in.ws.tc == nil {
		t.Skip("cells are built with go build here")
	}
	bad := filepath.Join(t.TempDir(), "extld")
	if err := os.WriteFile(bad, []byte("not a program"), 0o644); err != nil {
		t.Fatal(err)
	}
	in.ws.tc.extld = bad
	r := in.Eval("lfX := 40\nlfX + 2")
	if r.Err != nil {
		t.Fatalf("%v\n%s", r.Err, strings.Join(r.Err.Traceback, "\n"))
	}
	if got := r.Bundle.Text(); got != "42" {
		t.Fatalf("got %q", got)
	}
	if in.ws.tc.extld != "" || !strings.Contains(log.String(), "the C linker wrapper failed") {
		t.Fatalf("wrapper kept (%q), log %q", in.ws.tc.extld, log.String())
	}
	if r := in.Eval("lfX * 2"); r.Err != nil || r.Bundle.Text() != "80" {
		t.Fatalf("next cell: %v", r.Err)
	}
}

// TestGoBuildFallback builds cells with go build, as a kernel built with
// -race would: state still carries across cells.
func TestGoBuildFallback(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles cells with the Go toolchain; skipped with -short")
	}
	t.Setenv("RETLAB_KERNEL_GOBUILD", "1")
	var log bytes.Buffer
	in, err := New(&log)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if in.ws.tc != nil || !strings.Contains(log.String(), "RETLAB_KERNEL_GOBUILD") {
		t.Fatalf("toolchain in use with RETLAB_KERNEL_GOBUILD set (log %q)", log.String())
	}
	in.StartWarm(nil)
	if r := in.Eval("import \"strings\"\ngbS := strings.Repeat(\"ab\", 2)"); r.Err != nil {
		t.Fatalf("%v\n%s", r.Err, strings.Join(r.Err.Traceback, "\n"))
	}
	if r := in.Eval("len(gbS) + 1"); r.Err != nil || r.Bundle.Text() != "5" {
		t.Fatalf("second cell: %v %q", r.Err, r.Bundle.Text())
	}
}
