package exec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/importer"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"plugin"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/retlab/retlab/kernel/exec/cellrt"
)

// workspace is the Go module the cells are compiled in: one package per
// cell (retlabcells/cN) and one plugin main package per cell (pN) that
// the kernel loads. It requires RetLab from the source tree the kernel was
// built from, so the packages the kernel links are the very same.
type workspace struct {
	dir   string
	src   string
	env   []string
	flags []string   // build flags the kernel was built with (-tags, -trimpath)
	tc    *toolchain // nil: cells are built with go build
	last  buildTimes // of the latest plugin

	mu      sync.Mutex
	exports map[string]string // import path -> export data file
	names   map[string]string // import path -> package name
	listErr map[string]string
	cxx     bool // a listed package has C++ files: plugins are linked with CXX, as go build does
}

// sourceRoot finds the RetLab module the kernel was built from:
// $RETLAB_SRC, else the directory this file was compiled from.
func sourceRoot() (string, error) {
	if s := os.Getenv("RETLAB_SRC"); s != "" {
		return s, nil
	}
	_, file, _, ok := runtime.Caller(0)
	if ok && filepath.IsAbs(file) {
		root := filepath.Dir(filepath.Dir(filepath.Dir(file)))
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			return root, nil
		}
	}
	return "", errors.New("exec: cannot find RetLab's sources (the kernel was built with -trimpath): set RETLAB_SRC to the checkout the kernel was built from")
}

func newWorkspace(dir string) (*workspace, error) {
	src, err := sourceRoot()
	if err != nil {
		return nil, err
	}
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		if err := os.MkdirAll(filepath.Join(base, "retlab"), 0o755); err != nil {
			return nil, err
		}
		if dir, err = os.MkdirTemp(filepath.Join(base, "retlab"), "kernel-"); err != nil {
			return nil, err
		}
	}
	w := &workspace{dir: dir, src: src, exports: map[string]string{}, names: map[string]string{}, listErr: map[string]string{}}
	mod := fmt.Sprintf("module %s\n\ngo %s\n\nrequire github.com/retlab/retlab v0.0.0-00010101000000-000000000000\n\nreplace github.com/retlab/retlab => %s\n",
		cellsMod, goLangVersion(), src)
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644); err != nil {
		return nil, err
	}
	if sum, err := os.ReadFile(filepath.Join(src, "go.sum")); err == nil {
		if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
			return nil, err
		}
	}
	w.env, w.flags = buildEnv()
	return w, nil
}

// goLangVersion is the go line of the workspace: the toolchain's language version.
func goLangVersion() string {
	v := strings.TrimPrefix(runtime.Version(), "go")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) >= 2 {
		return parts[0] + "." + strings.Fields(parts[1])[0]
	}
	return v
}

// buildEnv returns the environment and flags that build plugins the kernel
// can load: cgo on, the kernel's build tags and -trimpath, no workspace
// file, the local toolchain, and -mod=mod so that go.sum fills in.
func buildEnv() (env, flags []string) {
	goflags := os.Getenv("GOFLAGS") + " -mod=mod"
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GOFLAGS", "CGO_ENABLED", "GOWORK", "GOTOOLCHAIN", "GO111MODULE":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "GOFLAGS="+strings.TrimSpace(goflags), "CGO_ENABLED=1", "GOWORK=off", "GOTOOLCHAIN=local", "GO111MODULE=on")
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "-tags":
				flags = append(flags, "-tags="+s.Value)
			case "-trimpath":
				if s.Value == "true" {
					flags = append(flags, "-trimpath")
				}
			case "GOAMD64", "GOARM64", "GOEXPERIMENT":
				env = append(env, s.Key+"="+s.Value)
			}
		}
	}
	return env, flags
}

// goCmd runs the go command in the workspace.
func (w *workspace) goCmd(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = w.dir
	cmd.Env = w.env
	// Its own process group: Jupyter interrupts a kernel by signalling its
	// group, which must not kill a build the kernel waits for.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

// export returns the export data file of path (for type checking),
// listing it and its dependencies with `go list -export` the first time.
func (w *workspace) export(paths ...string) error {
	w.mu.Lock()
	var todo []string
	for _, p := range paths {
		if _, ok := w.exports[p]; !ok {
			if _, bad := w.listErr[p]; !bad {
				todo = append(todo, p)
			}
		}
	}
	w.mu.Unlock()
	if len(todo) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		// -buildmode=plugin: the archives compiled for dynamic linking,
		// which the plugins link (toolchain.build); their export data
		// type-checks the cells.
		args := append([]string{"list", "-e", "-export", "-buildmode=plugin", "-deps", "-f",
			"{{.ImportPath}}\t{{.Name}}\t{{.Export}}\t{{if or .CXXFiles .SwigCXXFiles}}c++{{end}}\t{{if .Error}}{{.Error.Err}}{{end}}"}, w.flags...)
		out, err := w.goCmd(ctx, append(args, todo...)...)
		w.mu.Lock()
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.SplitN(line, "\t", 5)
			if len(f) < 5 {
				continue
			}
			if f[4] != "" {
				w.listErr[f[0]] = f[4]
				continue
			}
			if f[3] != "" {
				w.cxx = true
			}
			if f[2] != "" {
				w.exports[f[0]] = f[2]
				w.names[f[0]] = f[1]
			}
		}
		for _, p := range todo {
			if _, ok := w.exports[p]; !ok {
				if _, bad := w.listErr[p]; !bad {
					msg := strings.TrimSpace(string(out))
					if err == nil && msg == "" {
						msg = "no export data"
					}
					w.listErr[p] = msg
				}
			}
		}
		w.mu.Unlock()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range paths {
		if msg, bad := w.listErr[p]; bad {
			delete(w.listErr, p) // try again next time (after %go get)
			return importErr{path: p, msg: msg}
		}
	}
	return nil
}

// importErr is an import the go command cannot resolve.
type importErr struct{ path, msg string }

func (e importErr) Error() string {
	msg := e.msg
	if strings.Contains(msg, "no required module provides") || strings.Contains(msg, "cannot find module") || strings.Contains(msg, "is not in std") ||
		strings.Contains(msg, "/@v/") || strings.Contains(msg, "unrecognized import path") {
		mod := e.path
		if parts := strings.Split(mod, "/"); len(parts) > 3 && strings.Contains(parts[0], ".") {
			mod = strings.Join(parts[:3], "/")
		}
		return fmt.Sprintf("package %s is not in the notebook's modules: add it with `%%go get %s` (offline, a module in the local module cache works)", e.path, mod)
	}
	return fmt.Sprintf("package %s: %s", e.path, msg)
}

// forget drops what the workspace knows of packages (after %go get) and
// lists again those it knew: the plugins of later cells link them (the
// cells compiled so far import them).
func (w *workspace) forget() {
	w.mu.Lock()
	known := make([]string, 0, len(w.exports))
	for p := range w.exports {
		known = append(known, p)
	}
	w.exports = map[string]string{}
	w.names = map[string]string{}
	w.listErr = map[string]string{}
	w.mu.Unlock()
	if len(known) > 0 {
		w.export(known...) // what fails to list is reported when a cell imports it
	}
}

func (w *workspace) lookup(path string) (io.ReadCloser, error) {
	w.mu.Lock()
	f, ok := w.exports[path]
	w.mu.Unlock()
	if !ok {
		if err := w.export(path); err != nil {
			return nil, err
		}
		w.mu.Lock()
		f = w.exports[path]
		w.mu.Unlock()
	}
	return os.Open(f)
}

// cellImporter type-checks cells: earlier cells' packages from memory,
// everything else from export data.
type cellImporter struct {
	w     *workspace
	gc    types.Importer
	cells map[string]*types.Package
}

func newCellImporter(w *workspace, fset *token.FileSet) *cellImporter {
	return &cellImporter{w: w, gc: importer.ForCompiler(fset, "gc", w.lookup), cells: map[string]*types.Package{}}
}

func (im *cellImporter) Import(path string) (*types.Package, error) {
	if p, ok := im.cells[path]; ok {
		return p, nil
	}
	if _, ok := cellNumber(path); ok {
		return nil, fmt.Errorf("cell package %s was never compiled", path)
	}
	return im.gc.Import(path)
}

// buildTimes is where a plugin's build went: the compiler and linker
// (toolchain.build), or go build, then plugin.Open.
type buildTimes struct{ list, compile, link, goBuild, open time.Duration }

func (b buildTimes) String() string {
	ms := func(d time.Duration) string { return d.Round(100 * time.Microsecond).String() }
	s := ""
	if b.list >= time.Millisecond {
		s += "go list " + ms(b.list) + ", "
	}
	if b.goBuild > 0 {
		s += "go build " + ms(b.goBuild)
	} else {
		s += "compile " + ms(b.compile) + ", link " + ms(b.link)
	}
	return s + ", plugin.Open " + ms(b.open)
}

// plugin compiles cell n's package source (f, parsed from src) and loads
// it, returning its Run (which the cell's init registers with cellrt).
func (w *workspace) plugin(n int, src string, f *ast.File) (func(), string, error) {
	cdir := filepath.Join(w.dir, "c"+strconv.Itoa(n))
	if err := os.MkdirAll(cdir, 0o755); err != nil {
		return nil, "", err
	}
	if err := os.WriteFile(filepath.Join(cdir, "cell.go"), []byte(src), 0o644); err != nil {
		return nil, "", err
	}
	so := filepath.Join(w.dir, "c"+strconv.Itoa(n)+".so")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	w.last = buildTimes{}
	if w.tc != nil {
		if out, err := w.tc.build(ctx, w, n, f, cdir, so, &w.last); err != nil {
			return nil, string(out), err
		}
	} else if out, err := w.goBuild(ctx, n, so); err != nil {
		return nil, string(out), err
	}
	start := time.Now()
	_, err := plugin.Open(so)
	w.last.open = time.Since(start)
	if err != nil {
		msg := err.Error()
		if strings.Contains(msg, "different version of package") {
			msg += "\n(the cell needs a package the kernel links, at another version or from changed sources: rebuild the kernel (`make build`) and restart it)"
		}
		return nil, "", errors.New(msg)
	}
	os.Remove(so) // mapped already; the file is not needed again
	run, ok := cellrt.RunOf(cellPath(n))
	if !ok {
		return nil, "", fmt.Errorf("cell plugin %s registered no Run", cellPath(n))
	}
	return run, "", nil
}

// goBuild builds cell n's plugin with go build: a plugin main package
// (retlabcells/pN) that imports the cell's package; the go command
// requires one.
func (w *workspace) goBuild(ctx context.Context, n int, so string) ([]byte, error) {
	pdir := filepath.Join(w.dir, "p"+strconv.Itoa(n))
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		return nil, err
	}
	main := fmt.Sprintf("package main\n\nimport _ %q\n", cellPath(n))
	if err := os.WriteFile(filepath.Join(pdir, "main.go"), []byte(main), 0o644); err != nil {
		return nil, err
	}
	start := time.Now()
	args := append([]string{"build", "-buildmode=plugin", "-ldflags=-s -w", "-o", so}, w.flags...)
	out, err := w.goCmd(ctx, append(args, "./p"+strconv.Itoa(n))...)
	if err != nil {
		return out, fmt.Errorf("go build: %w", err)
	}
	w.last.goBuild = time.Since(start)
	return nil, nil
}

// linkedVersionConflicts lists modules the kernel links whose version in
// the workspace differs from the kernel's: a plugin using them could not
// be loaded ("plugin was built with a different version of package").
func (w *workspace) linkedVersionConflicts(ctx context.Context) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	out, err := w.goCmd(ctx, "list", "-m", "-f", "{{.Path}} {{.Version}}", "all")
	if err != nil {
		return fmt.Sprintf("listing modules: %v\n%s", err, out)
	}
	have := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			have[f[0]] = f[1]
		}
	}
	var bad []string
	for _, d := range bi.Deps {
		v := d.Version
		if d.Replace != nil {
			v = d.Replace.Version
		}
		if got, ok := have[d.Path]; ok && got != v && v != "(devel)" {
			bad = append(bad, fmt.Sprintf("%s %s (the kernel links %s)", d.Path, got, v))
		}
	}
	if len(bad) == 0 {
		return ""
	}
	return "this needs a version of a module the kernel itself links:\n  " + strings.Join(bad, "\n  ") +
		"\ncells share the kernel's copy of those packages, so the versions must match: add the module to RetLab's go.mod " +
		"(go get in the RetLab checkout), rebuild the kernel (make build) and restart it; nothing was changed"
}
