// Package exec runs notebook cells on the gomacro interpreter: one
// interpreter per kernel, so variables, functions, types and imports carry
// from cell to cell.
//
// RetLab's public packages and the standard library are linked into the
// binary as gomacro bindings (package kernel/bindings and gomacro's
// imports), so imports are instant and calls run compiled code. Any other
// import fails with an ImportError naming what is available: the kernel
// never builds plugins.
//
// A cell's last expression becomes its result, rendered through the
// display package's MIME contract; interpreted types with HTML(), SVG(),
// MIMEBundle() ... methods render too (gomacro emulates their methods, so
// exec converts them through the interpreter first). Compile errors, panics
// and interrupts come back as an *Error with a Jupyter-style name, value and
// traceback; the interpreter keeps its state.
package exec

import (
	"errors"
	"fmt"
	"go/ast"
	"go/token"
	"io"
	"os"
	"reflect"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cosmos72/gomacro/ast2"
	"github.com/cosmos72/gomacro/base"
	"github.com/cosmos72/gomacro/base/output"
	basereflect "github.com/cosmos72/gomacro/base/reflect"
	"github.com/cosmos72/gomacro/fast"
	"github.com/cosmos72/gomacro/go/etoken"
	"github.com/cosmos72/gomacro/go/scanner"
	"github.com/cosmos72/gomacro/imports"
	xr "github.com/cosmos72/gomacro/xreflect"

	"github.com/retlab/retlab/display"
	"github.com/retlab/retlab/kernel/bindings"
)

// DisplayPath is the import path of the display package, pre-imported in
// every interpreter as "display" (gophernotes users expect it).
const DisplayPath = "github.com/retlab/retlab/display"

// Interp is one interpreter. Eval calls are serialised; Interrupt, Complete
// and Inspect may be called from other goroutines.
type Interp struct {
	mu      sync.Mutex // held while the interpreter compiles or runs
	ir      *fast.Interp
	running atomic.Bool
	warming atomic.Bool  // Warm is loading packages
	waiting atomic.Int32 // Complete calls waiting for Warm to let go of mu

	// render lists the display package's interfaces as interpreter types,
	// in BundleOf's order, to render values of interpreted types.
	render   []renderIface
	stringer xr.Type
	docs     *docCache
	input    atomic.Pointer[func(prompt string, password bool) (string, error)]
}

type renderIface struct {
	name string
	t    xr.Type
}

// renderOrder is BundleOf's order of the display interfaces.
var renderOrder = []string{"Renderer", "MapRenderer", "SimpleRenderer", "HTMLer", "SVGer", "PNGer", "JPEGer", "Markdowner",
	"JSONer", "JSONAnyer", "LaTeXer", "Latexer", "JavaScripter", "PDFer"}

// New returns an interpreter with the display package imported as
// "display" and Display(v) declared (gophernotes' spelling of display.Show).
// Messages of the interpreter itself (warnings) go to logw (nil: discarded).
func New(logw io.Writer) (*Interp, error) {
	if logw == nil {
		logw = io.Discard
	}
	// gomacro prints "// warning: skipping import of <generic func>" with
	// fmt.Printf while it loads type information; keep that off stdout.
	if null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
		stdout := os.Stdout
		os.Stdout = null
		defer func() { os.Stdout = stdout; null.Close() }()
	}
	ir := fast.New()
	ir.Comp.Stdout = logw
	ir.Comp.Stderr = logw
	ir.Comp.Options &^= base.OptShowPrompt | base.OptTrapPanic | base.OptShowEval | base.OptShowEvalType
	ir.Comp.Filepath = "cell"
	in := &Interp{ir: ir, docs: newDocCache()}
	imp, err := ir.ImportPackagesOrError(map[string]fast.PackageName{DisplayPath: "display"})
	if err != nil {
		return nil, fmt.Errorf("exec: importing display: %w", err)
	}
	d := imp[DisplayPath]
	for _, name := range renderOrder {
		t := d.Types[name]
		if t == nil {
			return nil, fmt.Errorf("exec: display.%s missing from the bindings (run go generate ./kernel/...)", name)
		}
		in.render = append(in.render, renderIface{name, t})
	}
	if f, err := ir.ImportPackagesOrError(map[string]fast.PackageName{"fmt": "_"}); err == nil {
		in.stringer = f["fmt"].Types["Stringer"]
	}
	ir.DeclFunc("Display", func(v any) string { return display.Show(v) })
	ir.DeclFunc(goRunName, goRun)
	ir.DeclFunc("Input", func(prompt string) string { return in.readInput(prompt, false) })
	ir.DeclFunc("Password", func(prompt string) string { return in.readInput(prompt, true) })
	return in, nil
}

// SetInput installs how Input and Password in cells read a line: the
// kernel sends an input_request to the front end. Without it they panic.
func (in *Interp) SetInput(f func(prompt string, password bool) (string, error)) {
	in.input.Store(&f)
}

func (in *Interp) readInput(prompt string, password bool) string {
	f := in.input.Load()
	if f == nil {
		panic(errors.New("Input: no front end to read from"))
	}
	s, err := (*f)(prompt, password)
	if err != nil {
		panic(err)
	}
	return s
}

// Result is what a cell gave back.
type Result struct {
	// Values are the values of the cell's last expression (nil for
	// statements and declarations).
	Values []any
	// Bundle is what the notebook shows as the cell's result, nil for
	// nothing: a statement, nil values, or a last statement that calls a
	// print or write function (fmt.Println's (n, err) is noise). A trailing
	// nil error is dropped: strconv.Atoi("7") shows 7.
	Bundle display.Bundle
	// Page is help text a ?name cell asked for (shown in the pager).
	Page display.Bundle
	// Err is the compile error, panic or interrupt that stopped the cell.
	Err *Error
}

// Error is a failed cell, in Jupyter's terms.
type Error struct {
	Name      string   // ename: CompileError, SyntaxError, ImportError, Panic, Interrupted
	Value     string   // evalue: the message
	Traceback []string // lines shown to the user, ANSI-coloured
}

func (e *Error) Error() string { return e.Name + ": " + e.Value }

// Warm imports packages without declaring them (import _), so that their
// type information is loaded before a cell needs it: the first import of a
// standard package otherwise asks the go command (50-100 ms each). The
// kernel calls it in the background at start; a cell waits for it.
func (in *Interp) Warm(paths []string) {
	in.warming.Store(true)
	defer in.warming.Store(false)
	for _, p := range paths {
		// Let a waiting completion in first (see lockForComplete).
		for i := 0; in.waiting.Load() > 0 && i < 100; i++ {
			time.Sleep(time.Millisecond)
		}
		in.mu.Lock()
		func() {
			defer func() { recover() }()
			in.ir.ImportPackagesOrError(map[string]fast.PackageName{p: "_"})
		}()
		in.mu.Unlock()
	}
}

// Interrupt stops the running cell: interpreted loops stop at their next
// iteration with an Interrupted error; compiled code (retnet training and
// benchmarks) sees display.Interrupted() and returns display.ErrInterrupted.
// It returns whether a cell was running.
func (in *Interp) Interrupt() bool {
	display.SetInterrupted(true)
	if !in.running.Load() {
		return false
	}
	in.ir.Interrupt(os.Interrupt)
	return true
}

// Running reports whether a cell is executing.
func (in *Interp) Running() bool { return in.running.Load() }

// Eval compiles and runs code as one cell.
func (in *Interp) Eval(code string) (res Result) {
	in.mu.Lock()
	defer in.mu.Unlock()
	display.SetInterrupted(false)
	if page, ok := in.helpRequest(code); ok {
		res.Page = page
		return res
	}
	code, err := in.magics(code)
	if err != nil {
		res.Err = &Error{Name: "MagicError", Value: err.Error(), Traceback: []string{red("MagicError") + ": " + err.Error()}}
		return res
	}
	var (
		vals    []xr.Value
		types   []xr.Type
		printed bool
	)
	func() {
		defer func() {
			in.running.Store(false)
			if r := recover(); r != nil {
				res.Err = in.errorOf(r, code, debug.Stack())
			}
		}()
		c := in.ir.Comp
		c.Line = 0
		freshFileset(c)
		nodes := c.ParseBytes([]byte(code))
		if err := checkImports(nodes); err != nil {
			panic(err)
		}
		printed = endsInPrint(nodes)
		src := ast2.AnyToAst(nodes, "cell")
		if src == nil {
			return
		}
		expr := in.compile(code, src)
		in.running.Store(true)
		vals, types = in.ir.RunExpr(expr)
	}()
	if res.Err != nil {
		return res
	}
	res.Values = make([]any, len(vals))
	for i, v := range vals {
		res.Values[i] = basereflect.ValueInterface(v)
	}
	if !printed {
		res.Bundle = in.renderResult(res.Values, types)
	}
	return res
}

// compile compiles a cell with its go statements guarded (see guardGo),
// or as written when it has none or the guarded form does not compile.
func (in *Interp) compile(code string, src ast2.Ast) *fast.Expr {
	guarded := in.ir.Comp.ParseBytes([]byte(code))
	if guardGo(guarded) {
		if expr, ok := in.tryCompile(ast2.AnyToAst(guarded, "cell")); ok {
			return expr
		}
	}
	return in.ir.CompileAst(src)
}

func (in *Interp) tryCompile(src ast2.Ast) (expr *fast.Expr, ok bool) {
	defer func() {
		if recover() != nil {
			expr, ok = nil, false
		}
	}()
	return in.ir.CompileAst(src), true
}

// printNames are functions whose results are noise in a notebook: the
// (n, err) of print and write calls, the display id Show returns.
var printNames = map[string]bool{"Print": true, "Println": true, "Printf": true, "Fprint": true, "Fprintln": true,
	"Fprintf": true, "Write": true, "WriteString": true, "WriteByte": true, "WriteRune": true, "Encode": true,
	"Show": true, "Display": true}

// endsInPrint reports whether the cell's last statement is a call of a
// print, write or show function, whose results the notebook does not show.
func endsInPrint(nodes []ast.Node) bool {
	if len(nodes) == 0 {
		return false
	}
	n := nodes[len(nodes)-1]
	if es, ok := n.(*ast.ExprStmt); ok {
		n = es.X
	}
	call, ok := n.(*ast.CallExpr)
	if !ok {
		return false
	}
	switch f := call.Fun.(type) {
	case *ast.Ident:
		return printNames[f.Name]
	case *ast.SelectorExpr:
		return printNames[f.Sel.Name]
	}
	return false
}

// freshFileset gives each cell its own file set: gomacro adds every parsed
// cell to one ever-growing set (~300 bytes a cell). The new set starts past
// the old positions, so a position from an earlier cell resolves to nothing
// rather than to a wrong line.
func freshFileset(c *fast.Comp) {
	old := c.Globals.Fileset
	fs := etoken.NewFileSet()
	if old != nil {
		fs.AddFile("", old.Base(), 0, 0)
	}
	c.Globals.Fileset = fs
}

// importError is an import of a package the kernel does not have.
type importError struct{ path string }

func (e importError) Error() string {
	hint := "only the standard library and RetLab's packages (" + strings.Join(bindings.Paths(), ", ") +
		") are linked into the kernel; the interpreter cannot build plugins"
	if generic[e.path] {
		hint = "its API is generic and the interpreter has no generics; use sort, strings and loops instead"
	}
	return fmt.Sprintf("package %q is not available: %s", e.path, hint)
}

// generic lists standard packages gomacro cannot bind at all.
var generic = map[string]bool{"slices": true, "maps": true, "cmp": true, "iter": true, "sync/atomic/generic": true}

// checkImports rejects imports of packages without bindings before gomacro
// tries (and fails slowly) to build a plugin for them.
func checkImports(nodes []ast.Node) error {
	for _, n := range nodes {
		gd, ok := n.(*ast.GenDecl)
		if !ok || gd.Tok != token.IMPORT {
			continue
		}
		for _, s := range gd.Specs {
			is, ok := s.(*ast.ImportSpec)
			if !ok || is.Path == nil {
				continue
			}
			path, err := strconv.Unquote(is.Path.Value)
			if err != nil {
				return fmt.Errorf("bad import path %s", is.Path.Value)
			}
			if _, ok := imports.Packages[path]; !ok {
				return importError{path}
			}
		}
	}
	return nil
}

// renderResult turns a cell's values into what the notebook shows.
func (in *Interp) renderResult(vals []any, types []xr.Type) display.Bundle {
	if len(vals) == 0 {
		return nil
	}
	isErr := func(i int) bool {
		return types[i] != nil && types[i].ReflectType() == reflect.TypeFor[error]()
	}
	last := len(vals) - 1
	if len(vals) > 1 && vals[last] == nil && isErr(last) {
		vals, types = vals[:last], types[:last] // (v, nil): show v
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
		return in.bundleOf(vals[0], types[0])
	}
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = in.bundleOf(v, types[i]).Text()
	}
	return display.Text(strings.Join(parts, " "))
}

// bundleOf is display.BundleOf for a value of the interpreter: compiled
// types go straight to BundleOf; interpreted types whose emulated methods
// implement display's interfaces are converted to them first.
func (in *Interp) bundleOf(v any, t xr.Type) (b display.Bundle) {
	if v == nil || display.Renders(v) || t == nil || t.NumMethod() == 0 {
		return display.BundleOf(v)
	}
	defer func() {
		if r := recover(); r != nil {
			b = display.Text(fmt.Sprintf("rendering %v panicked: %v", t, r))
		}
	}()
	conv := func(to xr.Type) any {
		return basereflect.ValueInterface(in.ir.Comp.Converter(t, to)(xr.ValueOf(v)))
	}
	b = display.Bundle{}
	for _, r := range in.render {
		if !t.Implements(r.t) {
			continue
		}
		part := display.BundleOf(conv(r.t))
		if r.name == "Renderer" || r.name == "MapRenderer" || r.name == "SimpleRenderer" {
			b = part
			break
		}
		for k, x := range part {
			if k != display.MIMEText {
				b[k] = x
			}
		}
	}
	if s, ok := b[display.MIMEText].(string); ok && s != "" && !strings.HasPrefix(s, "&{") {
		return b
	}
	text := fmt.Sprint(v)
	if in.stringer != nil && t.Implements(in.stringer) {
		if s, ok := conv(in.stringer).(fmt.Stringer); ok {
			text = s.String()
		}
	}
	b[display.MIMEText] = text
	return b
}

// errorOf turns a recovered panic into an Error.
func (in *Interp) errorOf(r any, code string, stack []byte) *Error {
	e := &Error{}
	pos := ""
	switch x := r.(type) {
	case base.Signal:
		if x == base.SigInterrupt {
			e.Name, e.Value = "Interrupted", "the cell was interrupted"
			e.Traceback = []string{red("Interrupted") + ": the cell was interrupted; variables keep the values they had"}
			return e
		}
		e.Name, e.Value = "Panic", fmt.Sprint(x)
	case importError:
		e.Name, e.Value = "ImportError", x.Error()
	case scanner.ErrorList:
		e.Name, e.Value = "SyntaxError", x.Error()
		if len(x) > 0 {
			pos = x[0].Pos.String()
		}
	case output.RuntimeError:
		e.Name, e.Value = "CompileError", x.Error()
		pos = e.Value
	case *output.RuntimeError:
		e.Name, e.Value = "CompileError", x.Error()
		pos = e.Value
	case error:
		if errors.Is(x, display.ErrInterrupted) {
			e.Name = "Interrupted"
		} else {
			e.Name = "Panic"
		}
		e.Value = x.Error()
	default:
		e.Name, e.Value = "Panic", fmt.Sprint(r)
	}
	e.Traceback = []string{red(e.Name) + ": " + e.Value}
	if line, col, ok := cellPos(pos); ok {
		e.Traceback = append(e.Traceback, sourceContext(code, line, col)...)
	}
	if e.Name == "Panic" {
		if frames := compiledFrames(stack); len(frames) > 0 {
			e.Traceback = append(e.Traceback, "", "compiled Go frames (innermost first):")
			e.Traceback = append(e.Traceback, frames...)
		}
	}
	return e
}

func red(s string) string { return "\x1b[0;31m" + s + "\x1b[0m" }

// cellPos finds "cell:LINE:COL" in an error message.
func cellPos(msg string) (line, col int, ok bool) {
	i := strings.Index(msg, "cell:")
	if i < 0 {
		return 0, 0, false
	}
	rest := msg[i+len("cell:"):]
	parts := strings.SplitN(rest, ":", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	line, err1 := strconv.Atoi(parts[0])
	col, err2 := strconv.Atoi(strings.TrimSpace(parts[1]))
	return line, col, err1 == nil && err2 == nil && line > 0
}

// sourceContext shows the cell line of an error with a caret under col.
func sourceContext(code string, line, col int) []string {
	lines := strings.Split(code, "\n")
	if line > len(lines) {
		return nil
	}
	src := lines[line-1]
	prefix := fmt.Sprintf("%4d | ", line)
	caret := strings.Repeat(" ", len(prefix)-2) + "| "
	for i, r := range src {
		if i >= col-1 {
			break
		}
		if r == '\t' {
			caret += "\t"
		} else {
			caret += " "
		}
	}
	return []string{prefix + src, caret + red("^")}
}

// compiledFrames keeps, from a goroutine stack, the frames of compiled code
// a user cares about: not the runtime, reflect, the interpreter or the kernel.
func compiledFrames(stack []byte) []string {
	lines := strings.Split(string(stack), "\n")
	var out []string
	for i := 1; i+1 < len(lines); i += 2 {
		fn := strings.TrimSpace(lines[i])
		file := strings.TrimSpace(lines[i+1])
		if fn == "" || strings.HasPrefix(fn, "goroutine ") {
			i--
			continue
		}
		skip := false
		for _, p := range []string{"runtime.", "runtime/debug.", "reflect.", "github.com/cosmos72/gomacro", "github.com/retlab/retlab/kernel", "panic(", "sync.", "created by"} {
			if strings.HasPrefix(fn, p) {
				skip = true
				break
			}
		}
		if skip {
			continue
		}
		if j := strings.LastIndex(file, " +0x"); j >= 0 {
			file = file[:j]
		}
		out = append(out, "  "+fn, "      "+file)
		if len(out) >= 40 {
			break
		}
	}
	return out
}

// Imported lists the packages the cell code can use: alias -> path.
func (in *Interp) Imported() map[string]string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.importedLocked()
}

func (in *Interp) importedLocked() map[string]string {
	out := map[string]string{}
	for c := in.ir.Comp; c != nil; c = c.Outer {
		for name, b := range c.Binds {
			if imp, ok := b.Value.(*fast.Import); ok {
				if _, dup := out[name]; !dup {
					out[name] = imp.Path
				}
			}
		}
	}
	return out
}

// Globals lists the names declared in the interpreter (variables,
// functions, constants, types, imports), sorted.
func (in *Interp) globalsLocked() []string {
	seen := map[string]bool{}
	for c := in.ir.Comp; c != nil; c = c.Outer {
		for name := range c.Binds {
			seen[name] = true
		}
		for name := range c.Types {
			seen[name] = true
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
