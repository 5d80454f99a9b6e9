package exec

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/cosmos72/gomacro/fast"
	xr "github.com/cosmos72/gomacro/xreflect"

	"github.com/retlab/retlab/kernel/bindings"
)

// Inspect returns documentation for the identifier at byte offset cursor
// (or the call whose argument list the cursor is in): the declaration and
// doc comment for package members (RetLab's from the bindings, the
// standard library's from `go doc`), the type of interpreter variables,
// and the docs of methods of typed values. found is false when nothing is
// known. While a cell runs it answers from the bindings only.
func (in *Interp) Inspect(code string, cursor int) (text string, found bool) {
	expr := exprAt(code, clamp(cursor, 0, len(code)))
	if expr == "" {
		return "", false
	}
	return in.Doc(expr)
}

// Doc returns the documentation of expr: pkg.Name, pkg.Type.Method,
// variable, variable.Method, a type name, or a builtin.
func (in *Interp) Doc(expr string) (string, bool) {
	parts := strings.Split(expr, ".")
	if !in.mu.TryLock() {
		return "", false
	}
	imported := in.importedLocked()
	var sym *fast.Symbol
	var typ xr.Type
	if _, isPkg := imported[parts[0]]; !isPkg {
		sym = in.ir.Comp.TryResolve(parts[0])
		if sym == nil {
			typ = in.ir.Comp.TryResolveType(parts[0])
		} else {
			typ = sym.Type
		}
	}
	in.mu.Unlock()

	if path, ok := imported[parts[0]]; ok {
		return in.docs.lookup(path, strings.Join(parts[1:], "."))
	}
	if sym != nil || typ != nil {
		var b strings.Builder
		if sym != nil {
			fmt.Fprintf(&b, "%s %v\n", parts[0], sym.Type)
		} else {
			fmt.Fprintf(&b, "type %s %v\n", parts[0], typ.GoType().Underlying())
		}
		named := typ
		for named != nil && named.Name() == "" && named.Kind() == reflect.Pointer {
			named = named.Elem()
		}
		if named != nil && named.PkgPath() != "" && named.PkgPath() != "main" && named.Name() != "" {
			key := named.Name()
			if len(parts) > 1 {
				key += "." + parts[1]
			}
			if d, ok := in.docs.lookup(named.PkgPath(), key); ok {
				b.WriteString("\n" + d)
			}
		}
		return b.String(), true
	}
	if len(parts) == 1 {
		return in.docs.lookup("builtin", parts[0])
	}
	return "", false
}

// exprAt finds the dotted identifier around cursor, or the one before the
// '(' of the call the cursor is in.
func exprAt(code string, cursor int) string {
	isID := func(c byte) bool {
		return c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
	}
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

// docCache answers doc lookups: bindings first, then `go doc`, cached.
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

func (d *docCache) lookup(path, name string) (string, bool) {
	if text, ok := bindings.Doc(path, name); ok {
		return text, true
	}
	for _, p := range bindings.Paths() {
		if p == path {
			return "", false // a RetLab package without that name
		}
	}
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
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GO111MODULE=off")
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
