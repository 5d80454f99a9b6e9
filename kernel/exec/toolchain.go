package exec

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"go/ast"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// toolchain builds a cell's plugin by running the compiler and the linker
// itself, as `go build -buildmode=plugin` runs them, without the go
// command.
//
// A new cell's `go build` spent most of its time outside compiling the
// cell (measured on 2 cores, warm build cache, ~0.9 s in all): loading the
// module graph and checking the build cache of every dependency (~0.2 s),
// and in the link, the C linker (the plugin build mode always links
// externally, through gcc) run four times: three links of a trivial C
// program that probe whether gcc takes a flag (--build-id,
// -Qunused-arguments, --compress-debug-sections), and the real link.
// Compiling the cell and its plugin main took ~0.05 s.
//
// So the kernel asks the go command once (`go list -export
// -buildmode=plugin -deps`, in workspace.export) for the archive of every
// package the cells may link, writes an importcfg naming them and the
// archives of the cells compiled so far, and runs per cell:
//
//	compile -p retlabcells/cN -dynlink -importcfg CFG -pgoprofile=HOT ... -pack cell.go  (cN/c.a)
//	link -buildmode=plugin -pluginpath retlabcells/cN -extld=EXTLD -importcfg CFG ... cN/c.a
//
// The cell's package is the plugin's root: go build needs a main package
// for a plugin (and plugin.Lookup finds only its symbols), the linker does
// not, and the kernel takes the cell's Run from cellrt, where the cell's
// init registers it. HOT calls the cell's functions hot, so that their
// loops are aligned (hotloops.go). EXTLD is a small script
// (probeCacheScript) that runs the C compiler (told to link with gold
// where it has it: useGold), except that it answers the
// linker's flag probes from a cache of their earlier answers (in the user
// cache directory); when a link fails the cache is cleared and the link
// tried once more with the C compiler itself, in case the C toolchain
// changed or the script cannot run.
//
// Builds it cannot do as go build would (a kernel built with -race, -msan,
// -asan or coverage, GOFLAGS that change how code is compiled) go through
// `go build`, as do all with $RETLAB_KERNEL_GOBUILD set. Once a package
// with C++ files is listed (a notebook module's), plugins are linked with
// CXX, as go build does, and without the probe cache.
type toolchain struct {
	compile, link string   // the tools' paths ($GOTOOLDIR/compile, link)
	cc, cxx       []string // the C and C++ compilers the go command links with (go env CC CXX)
	extld         string   // the probe-caching wrapper of cc (empty: cc itself)
	probes        string   // its cache directory
	trimpath      bool
	env           []string
	logw          io.Writer

	goldOnce sync.Once
	gold     bool // cc takes -fuse-ld=gold (useGold)

	mu       sync.Mutex
	archives map[string]string // cell package path -> its compiled archive
}

// newToolchain finds the compiler and linker of the go command in w's
// environment, or says why the kernel has to use `go build`.
func newToolchain(w *workspace, logw io.Writer) (*toolchain, error) {
	if os.Getenv("RETLAB_KERNEL_GOBUILD") != "" {
		return nil, errors.New("$RETLAB_KERNEL_GOBUILD is set")
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "-race", "-msan", "-asan", "-cover":
				if s.Value == "true" {
					return nil, fmt.Errorf("the kernel was built with %s", s.Key)
				}
			}
		}
	}
	trimpath := false
	for _, g := range strings.Fields(os.Getenv("GOFLAGS")) {
		name, _, _ := strings.Cut(strings.TrimLeft(g, "-"), "=")
		switch name {
		case "trimpath":
			trimpath = true
		case "buildvcs", "mod", "modcacherw", "modfile", "tags", "p", "v", "x":
		default:
			// Flags that change how packages are compiled or linked
			// (-race, -gcflags, -ldflags ...): go build applies them
			// to the cells as to everything else.
			return nil, fmt.Errorf("GOFLAGS has %s", g)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := w.goCmd(ctx, "env", "GOTOOLDIR", "CC", "CXX")
	if err != nil {
		return nil, fmt.Errorf("go env: %v: %s", err, out)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) != 3 || lines[0] == "" {
		return nil, fmt.Errorf("go env GOTOOLDIR CC CXX said %q", out)
	}
	t := &toolchain{
		compile:  filepath.Join(lines[0], "compile"),
		link:     filepath.Join(lines[0], "link"),
		cc:       strings.Fields(lines[1]),
		cxx:      strings.Fields(lines[2]),
		archives: map[string]string{},
		trimpath: trimpath,
		logw:     logw,
	}
	if len(t.cc) == 0 {
		t.cc = []string{"gcc"}
	}
	if len(t.cxx) == 0 {
		t.cxx = []string{"g++"}
	}
	for _, f := range w.flags {
		if f == "-trimpath" {
			t.trimpath = true
		}
	}
	for _, kv := range w.env {
		if !strings.HasPrefix(kv, "GOROOT=") {
			t.env = append(t.env, kv)
		}
	}
	if t.trimpath {
		t.env = append(t.env, "GOROOT=") // as go build -trimpath runs the linker
	}
	for _, tool := range []string{t.compile, t.link} {
		if _, err := os.Stat(tool); err != nil {
			return nil, err
		}
	}
	t.extld, t.probes = t.writeProbeCache(w.dir)
	return t, nil
}

// writeProbeCache writes the C linker wrapper into dir and returns its
// path and its cache directory; ("", "") when it cannot (then the linker
// calls cc itself and probes every time).
func (t *toolchain) writeProbeCache(dir string) (script, probes string) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", ""
	}
	// One cache per Go toolchain and C compiler: the linker's probes
	// depend on both.
	id := sha256.Sum256([]byte(strings.Join(append([]string{t.link, goLangVersion()}, t.cc...), "\x00")))
	probes = filepath.Join(base, "retlab", fmt.Sprintf("ld-probes-%x", id[:6]))
	if err := os.MkdirAll(probes, 0o755); err != nil {
		return "", ""
	}
	script = filepath.Join(dir, "extld")
	words := make([]string, len(t.cc))
	for i, w := range t.cc {
		words[i] = shQuote(w)
	}
	if strings.ContainsAny(script, " \t\n'\"\\") {
		return "", "" // -extld is split at spaces
	}
	src := strings.NewReplacer("@CC@", strings.Join(words, " "), "@PROBES@", shQuote(probes)).Replace(probeCacheScript)
	if err := os.WriteFile(script, []byte(src), 0o755); err != nil {
		return "", ""
	}
	return script, probes
}

// probeCacheScript is the C linker the kernel gives Go's linker. Go's
// linker decides whether the C compiler takes a flag by linking a trivial
// C program with it (linkerFlagSupported in cmd/link/internal/ld/lib.go:
// CC ... -o TMP/a.out FLAG TMP/trivial.c); those runs are answered from
// the cache after the first (a file named by the arguments, less the
// temporary directory; not for arguments with a slash), everything else
// goes to CC. Only shell builtins run for a cached answer (~1 ms).
const probeCacheScript = `#!/bin/sh
# The C linker of RetLab kernel cell plugins (kernel/exec/toolchain.go):
# @CC@, answering Go's linker's flag probes from @PROBES@ after the first time.
for a; do last=$a; done
case $last in
*/trivial.c) ;;
*) exec @CC@ "$@" ;;
esac
tmp=${last%/trivial.c}
key=
for a; do
	case $a in "$tmp"/*) ;; *) key="$key$a " ;; esac
done
case $key in
*/*) exec @CC@ "$@" ;;
esac
if [ ${#key} -gt 200 ]; then exec @CC@ "$@"; fi
f=@PROBES@/"$key"
if [ -f "$f.rc" ]; then
	read rc <"$f.rc"
	while IFS= read -r l; do printf '%s\n' "$l"; done <"$f.out"
	exit "$rc"
fi
@CC@ "$@" >"$f.out.$$" 2>&1
rc=$?
cat "$f.out.$$"
mv -f "$f.out.$$" "$f.out" && echo "$rc" >"$f.rc.$$" && mv -f "$f.rc.$$" "$f.rc"
exit "$rc"
`

// shQuote quotes s for sh.
func shQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=+,:@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// useGold reports whether cc links with gold (-fuse-ld=gold), found once:
// gold links a cell's plugin ~15 ms faster than GNU ld (~155 ms against
// ~170 ms for the whole link, 2-core EPYC). Binutils dropped gold in 2.44;
// where it is missing, or says it is not gold, the default linker stays.
func (t *toolchain) useGold() bool {
	t.goldOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		args := append(append([]string{}, t.cc...), "-fuse-ld=gold", "-Wl,--version")
		out, err := t.run(ctx, "", args...)
		t.gold = err == nil && bytes.Contains(out, []byte("GNU gold"))
	})
	return t.gold
}

// clearProbes forgets the cached probe answers.
func (t *toolchain) clearProbes() {
	if t.probes == "" {
		return
	}
	ents, _ := os.ReadDir(t.probes)
	for _, e := range ents {
		os.Remove(filepath.Join(t.probes, e.Name()))
	}
}

// run runs a tool of the toolchain in dir.
func (t *toolchain) run(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = t.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // see workspace.goCmd
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

// importcfg writes the compiler's and linker's import configuration into
// dir: every package the workspace listed, and every cell compiled so far.
// Extra entries cost nothing: both tools open only what is imported.
func (t *toolchain) importcfg(w *workspace, dir string) (string, error) {
	var b strings.Builder
	b.WriteString("# import config\n")
	var lines []string
	w.mu.Lock()
	for p, f := range w.exports {
		lines = append(lines, "packagefile "+p+"="+f)
	}
	w.mu.Unlock()
	t.mu.Lock()
	for p, f := range t.archives {
		lines = append(lines, "packagefile "+p+"="+f)
	}
	t.mu.Unlock()
	sort.Strings(lines)
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	f := filepath.Join(dir, "importcfg")
	return f, os.WriteFile(f, []byte(b.String()), 0o644)
}

// linkDeps are the packages a plugin links beyond what it imports (the go
// command's LinkerDeps for -buildmode=plugin): listed at start.
var linkDeps = []string{"runtime/cgo"}

// build compiles cell n (f, parsed from cdir/cell.go) and links its
// plugin into so. On failure it returns the tools' output.
func (t *toolchain) build(ctx context.Context, w *workspace, n int, f *ast.File, cdir, so string, times *buildTimes) ([]byte, error) {
	// The importcfg must name every package the cell imports; the type
	// checker may have taken some from its own cache (after %go get).
	paths := append([]string(nil), linkDeps...)
	for _, im := range f.Imports {
		if p, err := strconv.Unquote(im.Path.Value); err == nil {
			if _, cell := cellNumber(p); !cell {
				paths = append(paths, p)
			}
		}
	}
	start := time.Now()
	if err := w.export(paths...); err != nil {
		return nil, err
	}
	times.list = time.Since(start)
	cfg, err := t.importcfg(w, cdir)
	if err != nil {
		return nil, err
	}
	start = time.Now()
	cpath := cellPath(n)
	carchive := filepath.Join(cdir, "c.a")
	hot := filepath.Join(cdir, "hot.pgo")
	if err := os.WriteFile(hot, []byte(hotProfile(f, cpath)), 0o644); err != nil {
		return nil, err
	}
	args := []string{t.compile, "-o", carchive, "-p", cpath, "-lang=go" + goLangVersion(), "-complete", "-installsuffix", "dynlink",
		"-c=1", "-dynlink", "-nolocalimports", "-importcfg", cfg, "-pgoprofile=" + hot, "-pack"}
	if t.trimpath {
		args = append(args, "-trimpath", cdir+"=>"+cpath)
	}
	if out, err := t.run(ctx, cdir, append(args, "cell.go")...); err != nil {
		return out, fmt.Errorf("compile: %w", err)
	}
	t.mu.Lock()
	t.archives[cpath] = carchive
	t.mu.Unlock()
	link := func(extld []string, gold bool) ([]byte, error) {
		// As the go command passes CC: its first word as the linker,
		// the rest as flags.
		args := []string{t.link, "-o", so, "-importcfg", cfg, "-installsuffix", "dynlink",
			"-pluginpath", cpath, "-buildmode=plugin", "-s", "-w", "-extld=" + extld[0]}
		ldflags := extld[1:]
		if gold {
			ldflags = append(ldflags, "-fuse-ld=gold")
		}
		if len(ldflags) > 0 {
			args = append(args, "-extldflags="+strings.Join(ldflags, " "))
		}
		return t.run(ctx, cdir, append(args, carchive)...)
	}
	times.compile = time.Since(start)
	start = time.Now()
	defer func() { times.link = time.Since(start) }()
	w.mu.Lock()
	cxx := w.cxx
	w.mu.Unlock()
	var out []byte
	switch {
	case cxx:
		out, err = link(t.cxx, false)
	case t.extld == "":
		out, err = link(t.cc, false)
	default:
		if out, err = link([]string{t.extld}, t.useGold()); err != nil {
			// Perhaps the cached probes are stale (a new C toolchain),
			// the script cannot run here (a noexec cache directory) or
			// gold fails: once more with the C compiler itself.
			t.clearProbes()
			out2, err2 := link(t.cc, false)
			if err2 == nil {
				fmt.Fprintf(t.logw, "the C linker wrapper failed, linking with %s from now on: %v\n%s", t.cc[0], err, out)
				t.extld = ""
			}
			out, err = out2, err2
		}
	}
	if err != nil {
		return out, fmt.Errorf("link: %w", err)
	}
	return nil, nil
}
