package exec

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"

	"github.com/retlab/retlab/display"
)

// Magics are lines at the top of a cell that talk to the kernel, not Go:
//
//	%cd [DIR]            change the working directory (default: home)
//	%env [NAME[=VALUE]]  print or set environment variables
//	%help                list the magics
//	$ COMMAND ARGS...    run a shell command (output streams to the cell)
//	?NAME or NAME?       show NAME's documentation in the pager
const magicHelp = `RetLab kernel magics (lines at the top of a cell):
  %cd [DIR]            change the working directory (default: home)
  %env [NAME[=VALUE]]  print or set environment variables
  %help                this text
  $ COMMAND ARGS...    run a shell command; its output streams to the cell
  ?NAME  or  NAME?     documentation of NAME (pkg.Func, pkg.Type.Method, a variable)
Go code follows the magics. The display package is imported as "display".
`

var helpRE = regexp.MustCompile(`^\s*(?:\?\s*([\p{L}\w.]+)|([\p{L}\w.]+)\s*\?)\s*$`)

// helpRequest answers cells of the form ?name or name?.
func (in *Interp) helpRequest(code string) (display.Bundle, bool) {
	m := helpRE.FindStringSubmatch(code)
	if m == nil {
		return nil, false
	}
	name := m[1] + m[2]
	in.mu.Unlock()
	text, ok := in.Doc(name)
	in.mu.Lock()
	if !ok {
		text = "no documentation found for " + name
	}
	return display.Text(text), true
}

// magics runs the magic lines at the top of code and returns the rest.
// Output goes to os.Stdout and os.Stderr, which the kernel streams.
func (in *Interp) magics(code string) (string, error) {
	lines := strings.Split(code, "\n")
	for i, line := range lines {
		t := strings.TrimSpace(line)
		if t == "" {
			continue
		}
		switch t[0] {
		case '%':
			if err := magic(t); err != nil {
				return "", err
			}
		case '$':
			if err := shell(strings.TrimSpace(t[1:])); err != nil {
				return "", err
			}
		default:
			return strings.Repeat("\n", i) + strings.Join(lines[i:], "\n"), nil
		}
		lines[i] = ""
	}
	return "", nil
}

func magic(line string) error {
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
	default:
		return fmt.Errorf("unknown magic %s (try %%help)", name)
	}
	return nil
}

func shell(cmdline string) error {
	if cmdline == "" {
		return nil
	}
	cmd := exec.Command("/bin/sh", "-c", cmdline)
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("$ %s: %w", cmdline, err)
	}
	return nil
}
