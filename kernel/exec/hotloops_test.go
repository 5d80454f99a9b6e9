package exec

import (
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestHotProfileNames checks the names hotProfile calls hot against the
// compiler's own: every one must be a function symbol of the compiled
// package (a wrong name would leave that function's loops unaligned).
func TestHotProfileNames(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the Go compiler; skipped with -short")
	}
	src := `package Ω1c7

var G int

func Run() {
	f := func() {
		g := func() { G++ }
		g()
		go func() { G++ }()
	}
	f()
	defer func() { G-- }()
	for i := range 3 {
		func() { G += i }()
	}
}

type T struct{}

func (t *T) M()   { func() { G++ }() }
func (t T) N()    { func() { G++ }() }
func Gen[E any]() { func() { G++ }() }
func init()       { G = 1 }
`
	dir := t.TempDir()
	file := filepath.Join(dir, "cell.go")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := parser.ParseFile(token.NewFileSet(), file, src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	prof := hotProfile(f, "retlabcells/c7")
	lines := strings.Split(strings.TrimSpace(prof), "\n")
	if lines[0] != "GO PREPROFILE V1" || (len(lines)-1)%3 != 0 {
		t.Fatalf("malformed profile:\n%s", prof)
	}
	var hot []string
	for i := 1; i < len(lines); i += 3 {
		hot = append(hot, lines[i+1])
	}
	obj := filepath.Join(dir, "c.o")
	// -l: no inlining, so that every closure keeps its own symbol.
	if out, err := exec.Command("go", "tool", "compile", "-p", "retlabcells/c7", "-l", "-o", obj, file).CombinedOutput(); err != nil {
		t.Fatalf("compile: %v\n%s", err, out)
	}
	out, err := exec.Command("go", "tool", "nm", obj).Output()
	if err != nil {
		t.Fatal(err)
	}
	syms := map[string]bool{}
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) >= 3 && f[1] == "T" {
			syms[f[2]] = true
		}
	}
	for _, n := range hot {
		if !syms[n] {
			t.Errorf("%s is not a function of the compiled package", n)
		}
	}
	// And every function the cell wrote is there: all of the package's,
	// less the generic ones, init and the wrappers the compiler adds.
	inHot := map[string]bool{}
	for _, n := range hot {
		inHot[n] = true
	}
	for s := range syms {
		if !strings.HasPrefix(s, "retlabcells/c7.") || strings.Contains(s, "Gen") || strings.Contains(s, "init") || s == "retlabcells/c7.(*T).N" {
			continue
		}
		if !inHot[s] {
			t.Errorf("%s is missing from the hot names", s)
		}
	}
	t.Logf("hot: %v", hot)
}
