package exec

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/retlab/retlab/display"
	"github.com/retlab/retlab/kernel/exec/cellrt"
)

// displayPath is the import path of the display package, which cells may
// use as "display" without importing it.
const displayPath = "github.com/retlab/retlab/display"

// Interp runs cells. Eval calls are serialised; Interrupt, Complete and
// Inspect may be called from other goroutines.
type Interp struct {
	mu      sync.Mutex // held while a cell compiles or runs
	running atomic.Bool
	ws      *workspace
	s       *session
	logw    io.Writer
	warm    chan struct{}
	warming atomic.Bool // StartWarm was called
	times   bool        // log where each new cell's time went ($RETLAB_KERNEL_TIMES)
	docs    *docCache

	// StopWait is how long an interrupted cell may take to stop before
	// Eval gives up on it (it keeps running, abandoned).
	StopWait time.Duration
	count    int // the execution count of the cell being run, for cell[N]
}

// SetCount sets the number the next cell's messages call it by: cell[N]
// (the front end's execution count). Without it cells count from 1.
func (in *Interp) SetCount(n int) {
	in.mu.Lock()
	in.count = n
	in.mu.Unlock()
}

// session is what the cells so far declared.
type session struct {
	ws      *workspace
	fset    *token.FileSet
	imp     *cellImporter
	n       int               // cells compiled
	names   map[string]*sym   // name as written -> latest declaration
	imports map[string]string // import name -> path, from every cell
	fields  map[string]bool   // unexported field and method names of cell types
	srcMu   sync.Mutex
	sources map[int]string // cell label -> its text, for error lines
	cache   map[string]*compiled
}

func (s *session) setSource(label int, code string) {
	s.srcMu.Lock()
	s.sources[label] = code
	s.srcMu.Unlock()
}

func (s *session) source(label int) string {
	s.srcMu.Lock()
	defer s.srcMu.Unlock()
	return s.sources[label]
}

// sym is a top-level name a cell declared.
type sym struct {
	cell int
	kind string // var, func, type, const
	typ  string // the variable's type, as a cell would write it
}

// packageName returns the name of the package at path.
func (s *session) packageName(path string) (string, error) {
	if err := s.ws.export(path); err != nil {
		return "", err
	}
	s.ws.mu.Lock()
	defer s.ws.mu.Unlock()
	return s.ws.names[path], nil
}

// New returns an interpreter whose cells are compiled in a fresh workspace
// module (under the user's cache directory). Messages of the kernel about
// its work (build output) go to logw (nil: discarded); with
// $RETLAB_KERNEL_TIMES set they include where each new cell's time went.
func New(logw io.Writer) (*Interp, error) {
	if logw == nil {
		logw = io.Discard
	}
	ws, err := newWorkspace("")
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	s := &session{ws: ws, fset: fset, imp: newCellImporter(ws, fset), names: map[string]*sym{},
		imports: map[string]string{}, fields: map[string]bool{}, sources: map[int]string{}, cache: map[string]*compiled{}}
	in := &Interp{ws: ws, s: s, logw: logw, warm: make(chan struct{}), docs: newDocCache(), StopWait: 2 * time.Second,
		times: os.Getenv("RETLAB_KERNEL_TIMES") != ""}
	if ws.tc, err = newToolchain(ws, logw); err != nil {
		fmt.Fprintf(logw, "cells are built with go build: %v\n", err)
	}
	cellrt.Report = reportGoroutinePanic(s)
	if err := in.restoreModules(); err != nil {
		fmt.Fprintf(logw, "notebook modules: %v\n", err)
	}
	return in, nil
}

// Close removes the workspace.
func (in *Interp) Close() error { return os.RemoveAll(in.ws.dir) }

// SetInput installs how Input and Password in cells read a line: the
// kernel sends an input_request to the front end. Without it they panic.
func (in *Interp) SetInput(f func(prompt string, password bool) (string, error)) {
	cellrt.ReadInput = f
}

// Warm prepares the workspace: the archives and export data of paths
// (built for dynamic linking if the build cache lacks them: tens of
// seconds once per machine) and a first plugin importing them, which
// also fills the C linker's probe cache (toolchain.go). `retlab kernel
// warm` calls it once per machine.
func (in *Interp) Warm(paths []string) { in.warmUp(paths, true) }

// warmUp is Warm, with the first plugin only when plugin is set or the
// kernel builds cells with go build (whose first build checks or fills
// the build cache for the plugin link).
func (in *Interp) warmUp(paths []string, plugin bool) {
	defer close(in.warm)
	in.mu.Lock()
	defer in.mu.Unlock()
	start := time.Now()
	all := append(append([]string{rtPath, displayPath}, linkDeps...), paths...)
	if err := in.ws.export(all...); err != nil {
		fmt.Fprintf(in.logw, "warm: %v\n", err)
	}
	linker := ""
	if in.ws.tc != nil && in.ws.tc.useGold() {
		linker = " (C linker: gold)"
	}
	if plugin || in.ws.tc == nil {
		var imps strings.Builder
		for _, p := range append([]string{displayPath}, paths...) {
			if in.ws.export(p) == nil {
				fmt.Fprintf(&imps, "\t_ %q\n", p)
			}
		}
		n := int(cellNumbers.Add(1))
		src := fmt.Sprintf("package %s\n\nimport (\n\t%s %q\n%s)\n\nfunc init() { %s.Register(%q, %s, nil) }\n\nfunc %s() { %s.C() }\n",
			cellAlias(n), rtName, rtPath, imps.String(), rtName, cellPath(n), runName, runName, rtName)
		f, err := parser.ParseFile(token.NewFileSet(), "cell.go", src, parser.SkipObjectResolution)
		if err != nil {
			panic(err) // the source above is the kernel's own
		}
		if _, out, err := in.ws.plugin(n, src, f); err != nil {
			fmt.Fprintf(in.logw, "warm: %v\n%s", err, out)
		}
	}
	fmt.Fprintf(in.logw, "warm: workspace ready in %v%s\n", time.Since(start).Round(time.Millisecond), linker)
}

// WaitWarm blocks until Warm is done (when it was started).
func (in *Interp) WaitWarm() { <-in.warm }

// Interrupt stops the running cell: cell code stops at its next loop
// iteration, function call, sleep or channel operation with an Interrupted
// error; RetLab's long calls see display.Interrupted() and return
// display.ErrInterrupted. It returns whether a cell was running.
func (in *Interp) Interrupt() bool {
	display.SetInterrupted(true)
	cellrt.Interrupt()
	return in.running.Load()
}

// Running reports whether a cell is executing.
func (in *Interp) Running() bool { return in.running.Load() }

// Result is what a cell gave back.
type Result struct {
	// Values are the values of the cell's last expression (nil for
	// statements and declarations).
	Values []any
	// Bundle is what the notebook shows as the cell's result, nil for
	// nothing: a statement, nil values, or a last statement that calls a
	// print or write function. A trailing nil error is dropped:
	// strconv.Atoi("7") shows 7.
	Bundle display.Bundle
	// Page is help text a ?name cell asked for (shown in the pager).
	Page display.Bundle
	// Err is the compile error, panic or interrupt that stopped the cell.
	Err *Error
}

// Eval compiles and runs code as one cell.
func (in *Interp) Eval(code string) (res Result) {
	select {
	case <-in.warm:
	default:
		if in.warmStarted() {
			<-in.warm
		}
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	cellrt.Reset()
	display.SetInterrupted(false)
	if page, ok := in.helpRequest(code); ok {
		res.Page = page
		return res
	}
	code, timed, err := in.magics(code)
	if err != nil {
		res.Err = &Error{Name: "MagicError", Value: err.Error(), Traceback: []string{red("MagicError") + ": " + err.Error()}}
		return res
	}
	if timed {
		start := time.Now()
		defer func() { fmt.Printf("time: %v\n", time.Since(start).Round(10*time.Microsecond)) }()
	}
	if strings.TrimSpace(code) == "" {
		return res
	}
	if r, ok := in.quickValue(code); ok {
		return r
	}
	// Cell packages are numbered across the process: two sessions in one
	// process (tests) must not load different packages of the same path.
	n := int(cellNumbers.Add(1))
	run, r, errRes := in.compile(n, code)
	if errRes != nil {
		res.Err = errRes
		return res
	}
	if r.n == n {
		in.s.n++
		in.s.setSource(r.label, code)
	}
	r.commit()
	return in.run(r.n, run)
}

var cellNumbers atomic.Int64

// What cellrt leaves to the kernel (it imports no display: cellrt.Stopped).
func init() {
	cellrt.Stopped = display.ErrInterrupted
	cellrt.ShowHook = display.Show
}

// compiled is a cell package already built and loaded.
type compiled struct {
	n    int
	run  func()
	r    *rewrite
	pkgs int // cells compiled when it was: names it declared may have been redefined since
}

func (in *Interp) warmStarted() bool { return in.warming.Load() }

// StartWarm prepares the workspace in the background, as Warm does but
// without its first plugin when the kernel builds cells with the
// toolchain itself: the first cell's own build is as quick. Eval waits
// for it.
func (in *Interp) StartWarm(paths []string) {
	in.warming.Store(true)
	go in.warmUp(paths, false)
}

// compile turns a cell into a loaded plugin.
func (in *Interp) compile(n int, code string) (func(), *rewrite, *Error) {
	label := in.count
	if label <= 0 {
		label = in.s.n + 1
	}
	r := newRewrite(in.s, n, label, code)
	if err := r.parse(); err != nil {
		return nil, nil, asError(err)
	}
	if err := r.analyse(); err != nil {
		return nil, nil, asError(err)
	}
	// The same text, resolving to the same earlier cells, is the same
	// package: run it again (its top-level variables start over).
	key := r.cacheKey()
	if c, ok := in.s.cache[key]; ok {
		c.r.label = label
		return c.run, c.r, nil
	}
	defer func() {
		if r.finalPkg != nil {
			if len(in.s.cache) > 4096 {
				clear(in.s.cache)
			}
			in.s.cache[key] = &compiled{n: n, run: r.run, r: r}
		}
	}()
	// The check form: learn the types of top-level variables.
	start := time.Now()
	checkSrc := r.file(false)
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Defs: map[*ast.Ident]types.Object{}, Uses: map[*ast.Ident]types.Object{}}
	cf, errs := in.check(n, checkSrc, info, r.hoistSet, r.lastExprPos())
	if len(errs) > 0 {
		return nil, nil, compileError(n, code, errs)
	}
	r.typed(info, in.s.fset, cf.file, cf.pkg)
	finalSrc := r.file(true)
	finfo := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Defs: map[*ast.Ident]types.Object{}}
	ff, errs := in.check(n, finalSrc, finfo, nil, "")
	if len(errs) > 0 {
		return nil, nil, compileError(n, code, errs)
	}
	checked := time.Since(start)
	run, out, err := in.ws.plugin(n, finalSrc, ff.file) // ff.file: finalSrc parsed
	if err != nil {
		return nil, nil, buildError(n, code, out, err)
	}
	if in.times {
		fmt.Fprintf(in.logw, "cell[%d] (%s): type-checks %v, %v\n", label, cellPath(n), checked.Round(time.Microsecond*100), in.ws.last)
	}
	in.s.imp.cells[cellPath(n)] = ff.pkg
	r.finalPkg = ff.pkg
	r.run = run
	return run, r, nil
}

type checked struct {
	file *ast.File
	pkg  *types.Package
}

// check parses and type-checks one rendering of cell n; errors about the
// top-level variables of the check form (not yet at package level) are
// expected and dropped.
func (in *Interp) check(n int, src string, info *types.Info, hoisted map[string]bool, lastExpr string) (checked, []string) {
	f, err := parser.ParseFile(in.s.fset, fmt.Sprintf("c%d.go", n), src, parser.SkipObjectResolution)
	if err != nil {
		return checked{}, []string{err.Error()}
	}
	var errs []string
	conf := types.Config{Importer: in.s.imp, Error: func(err error) {
		te, ok := err.(types.Error)
		if !ok {
			errs = append(errs, err.Error())
			return
		}
		for name := range hoisted {
			g := goName(name)
			if strings.HasSuffix(te.Msg, "undefined: "+g) || strings.HasSuffix(te.Msg, "declared and not used: "+g) {
				return
			}
		}
		if te.Soft && strings.Contains(te.Msg, "declared and not used") && hoisted != nil {
			// Go reports unused locals; a cell's top-level variables are
			// package-level in the built form, where that does not apply.
			for name := range hoisted {
				if strings.Contains(te.Msg, goName(name)) {
					return
				}
			}
		}
		pos := te.Fset.Position(te.Pos).String()
		if lastExpr != "" && pos == lastExpr && strings.HasSuffix(te.Msg, "is not used") {
			return // the last expression: the built form shows it
		}
		errs = append(errs, pos+": "+te.Msg)
	}}
	pkg, _ := conf.Check(cellPath(n), in.s.fset, []*ast.File{f}, info)
	return checked{f, pkg}, errs
}

// commit records the names a compiled cell declared, for later cells.
func (r *rewrite) commit() {
	s := r.s
	for _, d := range r.declNames {
		if d.name != "_" {
			s.names[d.name] = &sym{cell: r.n, kind: d.kind}
		}
	}
	for _, h := range r.hoist {
		if h.local {
			delete(s.names, h.name)
			continue
		}
		s.names[h.name] = &sym{cell: r.n, kind: "var", typ: cleanNames(h.typ)}
	}
	for _, im := range r.imports {
		if im.name != "" && !im.blank && !im.dot {
			s.imports[im.name] = im.path
		}
	}
	for name, path := range r.carried {
		s.imports[name] = path
	}
	if r.finalPkg != nil {
		for _, h := range r.hoist {
			if !h.local {
				if obj := r.finalPkg.Scope().Lookup(goName(h.name)); obj != nil {
					s.names[h.name].typ = cleanNames(types.TypeString(obj.Type(), func(p *types.Package) string { return p.Name() }))
				}
			}
		}
	}
}

// quickValue shows the value of a variable of an earlier cell without
// compiling: a cell that is just a name.
func (in *Interp) quickValue(code string) (Result, bool) {
	name := strings.TrimSpace(code)
	if !token.IsIdentifier(name) {
		return Result{}, false
	}
	sym := in.s.names[name]
	if sym == nil || sym.kind != "var" {
		return Result{}, false
	}
	p, ok := cellrt.Var(cellPath(sym.cell), name)
	if !ok {
		return Result{}, false
	}
	v := reflect.ValueOf(p).Elem().Interface()
	var res Result
	res.Values = []any{v}
	res.Bundle = renderResult(res.Values, false)
	return res, true
}

// run executes a loaded cell on its own goroutine, so that an interrupt
// that the cell does not honour (a blocked call) can be given up on.
func (in *Interp) run(n int, run func()) (res Result) {
	type outcome struct {
		r     any
		stack []byte
	}
	done := make(chan outcome, 1)
	cellrt.PanicStack.Store(nil)
	in.running.Store(true)
	defer in.running.Store(false)
	go func() {
		cellrt.SetCellGoroutine()
		defer func() {
			r := recover()
			var stack []byte
			if r != nil {
				if p := cellrt.PanicStack.Load(); p != nil {
					stack = *p
				} else {
					stack = stackOf()
				}
			}
			done <- outcome{r, stack}
		}()
		run()
	}()
	var o outcome
	select {
	case o = <-done:
	case <-cellrt.Done():
		select {
		case o = <-done:
		case <-time.After(in.StopWait):
			cellrt.TakeResult()
			res.Err = &Error{Name: "Interrupted", Value: fmt.Sprintf("the cell did not stop within %v", in.StopWait)}
			res.Err.Traceback = []string{red("Interrupted") + ": " + res.Err.Value + ": it is blocked where the kernel cannot reach " +
				"(a mutex, sync.WaitGroup.Wait, a cgo call, a call into a package that does not check display.Interrupted).",
				"It keeps running in the background; variables keep their values. If it holds what later cells need, restart the kernel."}
			return res
		}
	}
	if o.r != nil {
		cellrt.TakeResult()
		res.Err = panicError(o.r, o.stack, in.s.source)
		return res
	}
	vals, lastErr, ok := cellrt.TakeResult()
	if ok {
		res.Values = vals
		res.Bundle = renderResult(vals, lastErr)
	}
	return res
}

// renderResult turns a cell's values into what the notebook shows.
func renderResult(vals []any, lastErr bool) display.Bundle {
	if len(vals) == 0 {
		return nil
	}
	if lastErr && len(vals) > 1 && vals[len(vals)-1] == nil {
		vals = vals[:len(vals)-1] // (v, nil): show v
	}
	nonNil := 0
	for _, v := range vals {
		if v != nil {
			nonNil++
		}
	}
	if nonNil == 0 {
		return nil
	}
	if len(vals) == 1 {
		return display.BundleOf(vals[0])
	}
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = display.BundleOf(v).Text()
	}
	return display.Text(strings.Join(parts, " "))
}

// Imported lists the packages cells imported: name -> path.
func (in *Interp) Imported() map[string]string {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := map[string]string{"display": displayPath}
	for k, v := range in.s.imports {
		out[k] = v
	}
	return out
}

// globalsLocked lists the names cells declared, sorted.
func (in *Interp) globalsLocked() []string {
	out := make([]string, 0, len(in.s.names))
	for n := range in.s.names {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Name: "CompileError", Value: err.Error(), Traceback: []string{red("CompileError") + ": " + err.Error()}}
}
