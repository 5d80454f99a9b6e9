package exec

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/retlab/retlab/display"
)

// Magics are lines at the top of a cell that talk to the kernel, not Go.
const magicHelp = `RetLab kernel magics (lines at the top of a cell):
  %cd [DIR]            change the working directory (default: home)
  %env [NAME[=VALUE]]  print or set environment variables
  %go get MODULE[@V]   add a module to the notebook (recorded in go.notebook.mod beside it)
  %time                print the wall time of the rest of the cell
  %who                 the variables cells declared, with their types
  %help                this text
  !COMMAND  or  $ COMMAND   run a shell command; its output streams to the cell
  ?NAME  or  NAME?     documentation of NAME (pkg.Func, pkg.Type.Method, a variable)
Cells are Go, compiled: declarations (func, type, const, var, x := ...) stay for later
cells, a later cell may redeclare them, the last expression is shown. The display package
is there as "display" without an import. Methods belong in the cell that declares their type.
`

var helpRE = regexp.MustCompile(`^\s*(?:\?\s*([\p{L}\w.]+)|([\p{L}\w.]+)\s*\?)\s*$`)

// helpRequest answers cells of the form ?name or name?.
func (in *Interp) helpRequest(code string) (display.Bundle, bool) {
	m := helpRE.FindStringSubmatch(code)
	if m == nil {
		return nil, false
	}
	name := m[1] + m[2]
	text, ok := in.docLocked(name)
	if !ok {
		text = "no documentation found for " + name
	}
	return display.Text(text), true
}

// magics runs the magic lines at the top of code and returns the rest,
// with the magic lines blanked so that line numbers stay the cell's.
// Output goes to os.Stdout and os.Stderr, which the kernel streams.
func (in *Interp) magics(code string) (rest string, timed bool, err error) {
	lines := strings.Split(code, "\n")
	for i, line := range lines {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "//") {
			continue
		}
		switch {
		case t == "%time" || strings.HasPrefix(t, "%time "):
			timed = true
			if r := strings.TrimSpace(strings.TrimPrefix(t, "%time")); r != "" {
				lines[i] = strings.Repeat(" ", len(line)-len(strings.TrimLeft(line, " \t"))+5) + r
				return strings.Join(lines[i:], "\n"), timed, nil
			}
		case t[0] == '%':
			if err := in.magic(t); err != nil {
				return "", timed, err
			}
		case t[0] == '!':
			if err := shell(strings.TrimSpace(t[1:])); err != nil {
				return "", timed, err
			}
		case t[0] == '$':
			if err := shell(strings.TrimSpace(t[1:])); err != nil {
				return "", timed, err
			}
		default:
			return strings.Repeat("\n", i) + strings.Join(lines[i:], "\n"), timed, nil
		}
		lines[i] = ""
	}
	return "", timed, nil
}

func (in *Interp) magic(line string) error {
	name, arg, _ := strings.Cut(line, " ")
	arg = strings.TrimSpace(arg)
	switch name {
	case "%cd":
		if arg == "" {
			h, err := os.UserHomeDir()
			if err != nil {
				return fmt.Errorf("%%cd: %w", err)
			}
			arg = h
		}
		if err := os.Chdir(arg); err != nil {
			return fmt.Errorf("%%cd: %w", err)
		}
		wd, _ := os.Getwd()
		fmt.Println(wd)
	case "%env":
		switch {
		case arg == "":
			for _, kv := range os.Environ() {
				fmt.Println(kv)
			}
		case strings.Contains(arg, "="):
			k, v, _ := strings.Cut(arg, "=")
			return os.Setenv(strings.TrimSpace(k), strings.TrimSpace(v))
		default:
			fmt.Println(os.Getenv(arg))
		}
	case "%help":
		os.Stdout.WriteString(magicHelp)
	case "%who":
		in.who()
	case "%go":
		sub, mods, _ := strings.Cut(arg, " ")
		if sub != "get" || strings.TrimSpace(mods) == "" {
			return errors.New("usage: %go get MODULE[@VERSION] ...")
		}
		return in.goGet(strings.Fields(mods))
	default:
		return fmt.Errorf("unknown magic %s (try %%help)", name)
	}
	return nil
}

// who prints the cells' variables with their types.
func (in *Interp) who() {
	var names []string
	for n, s := range in.s.names {
		if s.kind == "var" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		fmt.Println("no variables")
		return
	}
	w := 0
	for _, n := range names {
		w = max(w, len(n))
	}
	for _, n := range names {
		fmt.Printf("%-*s  %s\n", w, n, in.s.names[n].typ)
	}
}

// shell runs a command line with /bin/sh; output streams to the cell
// through fresh pipes (the child never shares the kernel's stderr).
func shell(cmdline string) error {
	if cmdline == "" {
		return nil
	}
	cmd := exec.Command("/bin/sh", "-c", cmdline)
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = writerOnly{os.Stdout}, writerOnly{os.Stderr}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("! %s: %w", cmdline, err)
	}
	return nil
}

type writerOnly struct{ f *os.File }

func (w writerOnly) Write(p []byte) (int, error) { return w.f.Write(p) }

// notebookMod is the file, in the kernel's working directory (the
// notebook's), that records the modules %go get added, in go.mod syntax.
const notebookMod = "go.notebook.mod"

// goGet adds modules to the workspace, refuses versions of modules the
// kernel links that differ from the kernel's own, and records the result.
func (in *Interp) goGet(mods []string) error {
	gomod := filepath.Join(in.ws.dir, "go.mod")
	gosum := filepath.Join(in.ws.dir, "go.sum")
	oldMod, _ := os.ReadFile(gomod)
	oldSum, _ := os.ReadFile(gosum)
	restore := func() {
		os.WriteFile(gomod, oldMod, 0o644)
		os.WriteFile(gosum, oldSum, 0o644)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := in.ws.goCmd(ctx, append([]string{"get"}, mods...)...)
	if err != nil {
		restore()
		return fmt.Errorf("%%go get: %v\n%s", err, out)
	}
	if msg := in.ws.linkedVersionConflicts(ctx); msg != "" {
		restore()
		return errors.New("%go get: " + msg)
	}
	os.Stdout.Write(out)
	in.ws.forget()
	return in.recordModules(ctx)
}

// recordModules writes the notebook's direct requirements to notebookMod.
func (in *Interp) recordModules(ctx context.Context) error {
	out, err := in.ws.goCmd(ctx, "mod", "edit", "-json")
	if err != nil {
		return fmt.Errorf("reading the workspace go.mod: %v\n%s", err, out)
	}
	reqs := parseRequires(out)
	var b strings.Builder
	b.WriteString("// Modules this notebook's cells use (written by the RetLab kernel's %go get;\n// the kernel adds them again when it starts in this directory).\nmodule notebook\n\n")
	for _, r := range reqs {
		if r[0] == "github.com/retlab/retlab" {
			continue
		}
		fmt.Fprintf(&b, "require %s %s\n", r[0], r[1])
	}
	tmp := notebookMod + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, notebookMod); err != nil {
		return err
	}
	wd, _ := os.Getwd()
	fmt.Printf("recorded in %s\n", filepath.Join(wd, notebookMod))
	return nil
}

var requireRE = regexp.MustCompile(`"Path":\s*"([^"]+)",\s*"Version":\s*"([^"]+)"`)

func parseRequires(j []byte) [][2]string {
	var out [][2]string
	s := string(j)
	i := strings.Index(s, `"Require"`)
	if i < 0 {
		return nil
	}
	s = s[i:]
	if e := strings.Index(s, "]"); e >= 0 {
		s = s[:e]
	}
	for _, m := range requireRE.FindAllStringSubmatch(s, -1) {
		out = append(out, [2]string{m[1], m[2]})
	}
	return out
}

// restoreModules adds the modules of notebookMod in the working directory
// to the workspace (offline: they must be in the module cache).
func (in *Interp) restoreModules() error {
	data, err := os.ReadFile(notebookMod)
	if err != nil {
		return nil
	}
	var args []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "require" {
			args = append(args, "-require="+f[1]+"@"+f[2])
		}
	}
	if len(args) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := in.ws.goCmd(ctx, append([]string{"mod", "edit"}, args...)...); err != nil {
		return fmt.Errorf("%v\n%s", err, out)
	}
	return nil
}
