package exec

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"

	"github.com/retlab/retlab/display"
)

// Error is a failed cell, in Jupyter's terms.
type Error struct {
	Name      string   // ename: SyntaxError, CompileError, ImportError, Panic, Interrupted, MagicError
	Value     string   // evalue: the message
	Traceback []string // lines shown to the user, ANSI-coloured
}

func (e *Error) Error() string { return e.Name + ": " + e.Value }

func red(s string) string { return "\x1b[0;31m" + s + "\x1b[0m" }

// cleanRE finds the names the rewriting made up, to show them as written.
var (
	cellQualRE = regexp.MustCompile(`(` + cellsMod + `/c\d+\.|Ω1c\d+\.)`)
	omegaRE    = regexp.MustCompile(`Ω\d?`) // Ω, or Ω and a digit (rewrite.go's made-up names)
	posRE      = regexp.MustCompile(`cell\[(\d+)\]:(\d+)(?::(\d+))?`)
)

// cleanNames removes the cell packages and Ω prefixes from a message.
func cleanNames(s string) string {
	s = cellQualRE.ReplaceAllString(s, "")
	s = strings.ReplaceAll(s, rtName+".", "")
	return omegaRE.ReplaceAllString(s, "")
}

// errorTraceback shows each message and, under the first of each line,
// the cell line it points at.
func errorTraceback(e *Error, src string, msgs []string) []string {
	tb := []string{red(e.Name) + ":"}
	shown := map[string]bool{}
	for _, m := range msgs {
		tb = append(tb, m)
		if p := posRE.FindStringSubmatch(m); p != nil && !shown[p[0]] {
			shown[p[0]] = true
			line, _ := strconv.Atoi(p[2])
			col, _ := strconv.Atoi(p[3])
			tb = append(tb, sourceContext(src, line, col)...)
		}
	}
	return tb
}

// compileError reports type errors of cell n.
func compileError(n int, src string, errs []string) *Error {
	var msgs []string
	for i, m := range errs {
		if i == 10 {
			msgs = append(msgs, fmt.Sprintf("(%d more errors)", len(errs)-10))
			break
		}
		msgs = append(msgs, cleanNames(m))
	}
	e := &Error{Name: "CompileError", Value: strings.Join(msgs, "\n")}
	e.Traceback = errorTraceback(e, src, msgs)
	return e
}

// buildError reports a failed go build or plugin load of cell n.
func buildError(n int, src, out string, err error) *Error {
	var msgs []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "# ") {
			continue
		}
		msgs = append(msgs, cleanNames(l))
	}
	if len(msgs) == 0 {
		msgs = []string{err.Error()}
	}
	e := &Error{Name: "CompileError", Value: strings.Join(msgs, "\n")}
	e.Traceback = errorTraceback(e, src, msgs)
	return e
}

func (r *rewrite) importError(im *imp, err error) *Error {
	l, c := r.lineCol(im.pos)
	msg := fmt.Sprintf("cell[%d]:%d:%d: %v", r.label, l, c, err)
	e := &Error{Name: "ImportError", Value: msg}
	e.Traceback = errorTraceback(e, r.src, []string{msg})
	return e
}

// sourceContext shows line of code with a caret under col (none for 0).
func sourceContext(code string, line, col int) []string {
	lines := strings.Split(code, "\n")
	if line < 1 || line > len(lines) {
		return nil
	}
	src := lines[line-1]
	prefix := fmt.Sprintf("%4d | ", line)
	out := []string{prefix + src}
	if col > 0 {
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
		out = append(out, caret+red("^"))
	}
	return out
}

func stackOf() []byte {
	buf := make([]byte, 64<<10)
	return buf[:runtime.Stack(buf, false)]
}

// panicError reports a panic of a cell: its message, the cell line it
// happened on, and the stack with cell frames first.
func panicError(r any, stack []byte, source func(int) string) *Error {
	e := &Error{Name: "Panic"}
	if err, ok := r.(error); ok {
		e.Value = err.Error()
		if errors.Is(err, display.ErrInterrupted) {
			e.Name, e.Value = "Interrupted", "the cell was interrupted"
		}
	} else {
		e.Value = fmt.Sprint(r)
	}
	e.Value = cleanNames(e.Value)
	frames := cellFrames(stack)
	if e.Name == "Interrupted" {
		e.Traceback = []string{red("Interrupted") + ": the cell was interrupted; variables keep the values they had"}
		if len(frames) > 0 {
			e.Traceback = append(e.Traceback, "  at "+frames[0].pos)
		}
		return e
	}
	e.Traceback = []string{red("Panic") + ": " + e.Value}
	for _, f := range frames {
		if f.cell > 0 {
			e.Traceback = append(e.Traceback, "", f.pos+" in "+f.fn)
			e.Traceback = append(e.Traceback, sourceContext(source(f.cell), f.line, 0)...)
			break
		}
	}
	if len(frames) > 0 {
		e.Traceback = append(e.Traceback, "", "stack (innermost first):")
		for _, f := range frames {
			e.Traceback = append(e.Traceback, "  "+f.fn, "      "+f.pos)
		}
	}
	return e
}

type frame struct {
	fn, pos    string
	cell, line int
}

// cellFrames keeps the frames a user cares about, innermost first: cell
// code and the packages it called, not the runtime or the kernel.
func cellFrames(stack []byte) []frame {
	lines := strings.Split(string(stack), "\n")
	var out []frame
	for i := 1; i+1 < len(lines); i++ {
		fn := strings.TrimSpace(lines[i])
		if fn == "" || strings.HasPrefix(fn, "goroutine ") || !strings.HasPrefix(lines[i+1], "\t") {
			continue
		}
		file := strings.TrimSpace(lines[i+1])
		i++
		if j := strings.LastIndex(file, " +0x"); j >= 0 {
			file = file[:j]
		}
		skip := false
		for _, p := range []string{"runtime.", "runtime/debug.", "panic(", "github.com/retlab/retlab/kernel", "created by", cellsMod + "/p"} {
			if strings.HasPrefix(fn, p) {
				skip = true
			}
		}
		if strings.HasPrefix(fn, "main.Run") || skip {
			continue
		}
		f := frame{fn: cleanNames(trimArgs(fn)), pos: file}
		if m := posRE.FindStringSubmatch(file); m != nil {
			f.cell, _ = strconv.Atoi(m[1])
			f.line, _ = strconv.Atoi(m[2])
			f.pos = m[0]
			if f.fn == runName {
				f.fn = "the cell"
			}
		}
		out = append(out, f)
		if len(out) >= 20 {
			break
		}
	}
	return out
}

// trimArgs drops the argument words of a stack frame: pkg.f(0x1, ...) -> pkg.f.
func trimArgs(fn string) string {
	if i := strings.LastIndex(fn, "("); i > 0 && strings.HasSuffix(fn, ")") {
		return fn[:i]
	}
	return fn
}

// reportGoroutinePanic formats a panic of a goroutine a cell started.
func reportGoroutinePanic(s *session) func(r any, stack []byte) {
	return func(r any, stack []byte) {
		e := panicError(r, stack, s.source)
		fmt.Fprintln(os.Stderr, "panic in a goroutine a cell started (the goroutine ended; the kernel goes on):")
		for _, l := range e.Traceback {
			fmt.Fprintln(os.Stderr, l)
		}
	}
}
