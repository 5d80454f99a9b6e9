package exec

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Inspect returns documentation for the identifier at byte offset cursor
// (or the call whose argument list the cursor is in): `go doc` for package
// members (standard library, RetLab, added modules; the package need not
// be imported yet when written with its path's last element: ?strings.Cut),
// and the declaration of names cells declared. found is false when nothing
// is known. While a cell runs it answers nothing.
func (in *Interp) Inspect(code string, cursor int) (text string, found bool) {
	expr := exprAt(code, clamp(cursor, 0, len(code)))
	if expr == "" {
		return "", false
	}
	return in.Doc(expr)
}

// Doc returns the documentation of expr: pkg.Name, pkg.Type.Method, a
// variable, function or type cells declared, or a builtin.
func (in *Interp) Doc(expr string) (string, bool) {
	if !in.mu.TryLock() {
		return "", false
	}
	defer in.mu.Unlock()
	return in.docLocked(expr)
}

func (in *Interp) docLocked(expr string) (string, bool) {
	parts := strings.Split(expr, ".")
	if sym := in.s.names[parts[0]]; sym != nil {
		var b strings.Builder
		t := in.typeOf(parts[0])
		switch sym.kind {
		case "type":
			if t != nil {
				fmt.Fprintf(&b, "type %s %s\n", parts[0], cleanNames(t.Underlying().String()))
			}
		default:
			if t != nil {
				fmt.Fprintf(&b, "%s %s %s\n", sym.kind, parts[0], cleanNames(t.String()))
			}
		}
		fmt.Fprintf(&b, "declared in cell [%d]\n", sym.cell)
		if len(parts) > 1 && t != nil {
			for _, m := range in.members(parts[0]) {
				if m == parts[1] {
					fmt.Fprintf(&b, "has %s\n", m)
				}
			}
		}
		return b.String(), true
	}
	path, ok := in.s.imports[parts[0]]
	if !ok && parts[0] == "display" {
		path, ok = displayPath, true
	}
	if ok {
		return in.docs.lookup(in.ws, path, strings.Join(parts[1:], "."))
	}
	if len(parts) == 1 {
		return in.docs.lookup(in.ws, "builtin", parts[0])
	}
	// Not imported yet: let go doc find the package by its last element.
	return in.docs.lookup(in.ws, parts[0], strings.Join(parts[1:], "."))
}

// exprAt finds the dotted identifier around cursor, or the one before the
// '(' of the call the cursor is in.
func exprAt(code string, cursor int) string {
	isID := func(c byte) bool { return c == '.' || isIdent(c) }
	s, e := cursor, cursor
	for s > 0 && isID(code[s-1]) {
		s--
	}
	for e < len(code) && isID(code[e]) && code[e] != '.' {
		e++
	}
	expr := strings.Trim(code[s:e], ".")
	if expr != "" {
		return expr
	}
	// Inside a call: look before the innermost unclosed '('.
	depth := 0
	for i := cursor - 1; i >= 0; i-- {
		switch code[i] {
		case ')':
			depth++
		case '(':
			if depth == 0 {
				return exprAt(code, i)
			}
			depth--
		case '\n':
			return ""
		}
	}
	return ""
}

// docCache answers doc lookups with `go doc` in the workspace module, cached.
type docCache struct {
	mu    sync.Mutex
	cache map[string]docEntry
}

type docEntry struct {
	text string
	ok   bool
}

func newDocCache() *docCache { return &docCache{cache: map[string]docEntry{}} }

// maxDoc bounds the text of one doc answer.
const maxDoc = 32 << 10

func (d *docCache) lookup(w *workspace, path, name string) (string, bool) {
	key := path + "." + name
	d.mu.Lock()
	e, hit := d.cache[key]
	d.mu.Unlock()
	if hit {
		return e.text, e.ok
	}
	arg := path
	if name != "" {
		arg = path + "." + name
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "doc", arg)
	cmd.Dir = w.dir
	cmd.Env = w.env
	out, err := cmd.Output()
	e = docEntry{text: string(out), ok: err == nil && len(out) > 0}
	if len(e.text) > maxDoc {
		e.text = e.text[:maxDoc] + "\n..."
	}
	d.mu.Lock()
	d.cache[key] = e
	d.mu.Unlock()
	return e.text, e.ok
}
