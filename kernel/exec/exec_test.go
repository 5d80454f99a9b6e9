package exec_test

import (
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	kexec "github.com/retlab/retlab/kernel/exec"
)

var (
	shared     *kexec.Interp
	sharedOnce sync.Once
)

// interp returns one kernel session shared by the tests: every new cell is
// compiled into a plugin (~1 s on 2 cores), so tests share a session and
// use distinct names.
func interp(t *testing.T) *kexec.Interp {
	t.Helper()
	if testing.Short() {
		t.Skip("compiles cells with the Go toolchain; skipped with -short")
	}
	sharedOnce.Do(func() {
		var err error
		if shared, err = kexec.New(nil); err != nil {
			t.Fatal(err)
		}
		shared.StartWarm(nil)
	})
	if shared == nil {
		t.Fatal("no kernel session")
	}
	return shared
}

func eval(t *testing.T, in *kexec.Interp, code string) kexec.Result {
	t.Helper()
	r := in.Eval(code)
	if r.Err != nil {
		t.Fatalf("%q: %v\n%s", code, r.Err, strings.Join(r.Err.Traceback, "\n"))
	}
	return r
}

func text(t *testing.T, in *kexec.Interp, code string) string {
	t.Helper()
	return eval(t, in, code).Bundle.Text()
}

func fails(t *testing.T, in *kexec.Interp, code, name string) *kexec.Error {
	t.Helper()
	r := in.Eval(code)
	if r.Err == nil || r.Err.Name != name {
		t.Fatalf("%q: got %v, want a %s", code, r.Err, name)
	}
	return r.Err
}

func TestStateAcrossCells(t *testing.T) {
	in := interp(t)
	eval(t, in, "stX := 2\ntype stPoint struct{ x, y int }\nfunc (p stPoint) sum() int { return p.x + p.y }")
	if got := text(t, in, "stP := stPoint{x: stX, y: 40}\nstP.sum()"); got != "42" {
		t.Fatalf("sum %q", got)
	}
	if got := text(t, in, "stP.y++\nstP"); got != "{2 41}" {
		t.Fatalf("struct %q", got)
	}
	if got := text(t, in, `var stA, stB = 1, "s"
var (
	stC float64 = 2.5
	stD []string
)
stD = append(stD, stB)
stA + int(stC) + len(stD)`); got != "4" {
		t.Fatalf("vars %q", got)
	}
	if got := text(t, in, "stD"); got != "[s]" { // shown without compiling
		t.Fatalf("quick value %q", got)
	}
}

func TestGenericsAcrossCellsAndSlices(t *testing.T) {
	in := interp(t)
	eval(t, in, "func genMap[T, U any](xs []T, f func(T) U) []U {\n\tout := make([]U, 0, len(xs))\n\tfor _, x := range xs { out = append(out, f(x)) }\n\treturn out\n}\ntype genBox[T any] struct{ v T }")
	eval(t, in, "import \"slices\"\ngenXs := []int{3, 1, 2}\nslices.Sort(genXs)")
	if got := text(t, in, "import \"strconv\"\ngenMap(genXs, strconv.Itoa)"); got != "[1 2 3]" {
		t.Fatalf("genMap %q", got)
	}
	if got := text(t, in, "genBox[string]{v: \"b\"}.v + slices.Max([]string{\"a\", \"c\"})"); got != "bc" {
		t.Fatalf("genBox %q", got)
	}
	if got := text(t, in, "strconv.Atoi(\"7\")"); got != "7" { // (7, nil) shows 7
		t.Fatalf("Atoi %q", got)
	}
}

func TestRedefinition(t *testing.T) {
	in := interp(t)
	eval(t, in, "rdV := 1\nfunc rdF() int { return rdV }\ntype rdT struct{ a int }\nrdOld := rdT{a: 5}")
	eval(t, in, "rdV := \"now a string\"\nfunc rdF() string { return rdV + \"!\" }\ntype rdT struct{ b string }")
	if got := text(t, in, "rdF()"); got != "now a string!" {
		t.Fatalf("redefined func %q", got)
	}
	if got := text(t, in, "rdT{b: \"x\"}"); got != "{x}" {
		t.Fatalf("redefined type %q", got)
	}
	if got := text(t, in, "rdOld"); got != "{5}" { // old values keep their old type
		t.Fatalf("old value %q", got)
	}
}

// A cell's own names may be those the kernel's rewriting uses for itself
// (the cellrt import, the check function, cell package aliases, the hot
// profile's caller) without a clash: rt, run, c1 and hot were once
// "use of package rt not in selector".
func TestCellNamesMayBeTheKernels(t *testing.T) {
	in := interp(t)
	eval(t, in, "rt := 3\nrun := 4\nc1 := 5\nhot := 6\nfunc f() int { return rt + run + c1 + hot }")
	if got := text(t, in, "f()"); got != "18" {
		t.Fatalf("f() = %q, want 18", got)
	}
}

func TestDeferSelectAndGoroutines(t *testing.T) {
	in := interp(t)
	eval(t, in, "import \"fmt\"\nimport \"sync\"\ndsOut := []string{}\ndefer func() { dsOut = append(dsOut, \"deferred\") }()\ndsOut = append(dsOut, \"first\")")
	if got := text(t, in, "dsOut"); got != "[first deferred]" {
		t.Fatalf("top-level defer ran at %q", got)
	}
	got := text(t, in, `dsCh := make(chan int)
var dsWG sync.WaitGroup
dsWG.Add(1)
go func() { defer dsWG.Done(); dsCh <- 7 }()
dsR := 0
select {
case v := <-dsCh:
	dsR = v
case <-make(chan int):
}
dsWG.Wait()
fmt.Sprint(dsR)`)
	if got != "7" {
		t.Fatalf("select %q", got)
	}
}

func TestErrorsCarryCellLines(t *testing.T) {
	in := interp(t)
	text(t, in, "erOK := 1") // state from before the errors
	in.SetCount(41)
	e := fails(t, in, "erA := 1\n\nerA = erA + \"x\"", "CompileError")
	if !strings.Contains(e.Value, "cell[41]:3:") || !strings.Contains(strings.Join(e.Traceback, "\n"), `   3 | erA = erA + "x"`) {
		t.Fatalf("compile error without its line: %q\n%s", e.Value, strings.Join(e.Traceback, "\n"))
	}
	in.SetCount(42)
	e = fails(t, in, "erXs := []int{1, 2, 3}\nfunc erAt(i int) int {\n\treturn erXs[i]\n}\nerAt(5)", "Panic")
	tb := strings.Join(e.Traceback, "\n")
	if !strings.Contains(e.Value, "index out of range [5] with length 3") || !strings.Contains(tb, "cell[42]:3 in erAt") ||
		!strings.Contains(tb, "\treturn erXs[i]") || !strings.Contains(tb, "cell[42]:5") {
		t.Fatalf("panic without cell lines: %q\n%s", e.Value, tb)
	}
	if strings.Contains(tb, "runtime.") || strings.Contains(tb, "Ω") {
		t.Fatalf("panic stack not trimmed:\n%s", tb)
	}
	e = fails(t, in, "import \"example.com/not/there\"", "ImportError")
	if !strings.Contains(e.Value, "%go get") {
		t.Fatalf("import error without the fix: %q", e.Value)
	}
	fails(t, in, "erB := )", "SyntaxError")
	if got := text(t, in, "erOK + 1"); got != "2" {
		t.Fatalf("state lost after errors: %q", got)
	}
}

// interruptAfter interrupts in after d and returns how long Eval took
// after the interrupt.
func interruptAfter(t *testing.T, in *kexec.Interp, code string, d time.Duration) (kexec.Result, time.Duration) {
	t.Helper()
	var at time.Time
	go func() {
		for !in.Running() {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(d)
		at = time.Now()
		in.Interrupt()
	}()
	r := in.Eval(code)
	return r, time.Since(at)
}

func TestInterrupt(t *testing.T) {
	in := interp(t)
	eval(t, in, "import \"time\"\nitN := 0\nfunc itSpin() { for { itN++ } }\nfunc itFib(n int) int { if n < 2 { return n }; return itFib(n-1) + itFib(n-2) }")
	for _, c := range []string{
		"itSpin()",                    // a loop in a function the notebook defines
		"time.Sleep(time.Hour)",       // a sleep
		"<-make(chan int)",            // a channel wait
		"select {}",                   // blocks (and stops)
		"itFib(100)",                  // recursion without loops
		"for range make(chan int) {}", // a range over a channel
	} {
		r, took := interruptAfter(t, in, c, 300*time.Millisecond)
		if r.Err == nil || r.Err.Name != "Interrupted" {
			t.Fatalf("%q: %v", c, r.Err)
		}
		t.Logf("%-30q stopped %v after the interrupt", c, took.Round(time.Microsecond))
		if took > 100*time.Millisecond {
			t.Errorf("%q took %v to stop (goal 100 ms)", c, took)
		}
	}
	if got := text(t, in, "itN > 0"); got != "true" {
		t.Fatalf("state after interrupt %q", got)
	}
}

func TestGoroutinesStopAndPanicsAreReported(t *testing.T) {
	in := interp(t)
	eval(t, in, "import \"sync/atomic\"\nimport \"time\"\nvar grStopped atomic.Bool\ngo func() { defer grStopped.Store(true); for {} }()")
	r, _ := interruptAfter(t, in, "time.Sleep(time.Hour)", 100*time.Millisecond)
	if r.Err == nil || r.Err.Name != "Interrupted" {
		t.Fatalf("sleep: %v", r.Err)
	}
	time.Sleep(50 * time.Millisecond)
	if got := text(t, in, "grStopped.Load()"); got != "true" {
		t.Fatalf("a spinning goroutine survived the interrupt: %q", got)
	}
	// A panic on a goroutine the cell started ends that goroutine only.
	eval(t, in, "time.AfterFunc(time.Millisecond, func() { panic(\"in a timer\") })\ngo grBoom()\nfunc grBoom() { panic(\"in a go statement\") }\ntime.Sleep(50 * time.Millisecond)")
	if got := text(t, in, "1 + 1"); got != "2" {
		t.Fatalf("after goroutine panics %q", got)
	}
}

func TestMagics(t *testing.T) {
	in := interp(t)
	eval(t, in, "mgV := []float64{1}")
	if r := in.Eval("%who"); r.Err != nil {
		t.Fatal(r.Err)
	}
	if got := text(t, in, "%time\nlen(mgV)"); got != "1" {
		t.Fatalf("%%time cell %q", got)
	}
	if r := in.Eval("!true\n%env MG_X=1"); r.Err != nil || os.Getenv("MG_X") != "1" {
		t.Fatalf("shell and env: %v", r.Err)
	}
	fails(t, in, "!false", "MagicError")
}

// TestGoGetFromModuleCache adds a module found in the local module cache,
// offline (GOPROXY=off), and uses it.
func TestGoGetFromModuleCache(t *testing.T) {
	in := interp(t)
	out, err := exec.Command("go", "mod", "download", "-json", "github.com/pmezard/go-difflib@v1.0.0").Output()
	if err != nil {
		t.Skipf("github.com/pmezard/go-difflib@v1.0.0 not in the module cache: %v %s", err, out)
	}
	dir := t.TempDir()
	wd, _ := os.Getwd()
	os.Chdir(dir)
	defer os.Chdir(wd)
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOSUMDB", "off")
	eval(t, in, "%go get github.com/pmezard/go-difflib@v1.0.0")
	rec, err := os.ReadFile("go.notebook.mod")
	if err != nil || !strings.Contains(string(rec), "require github.com/pmezard/go-difflib v1.0.0") {
		t.Fatalf("versions not recorded: %v %s", err, rec)
	}
	got := text(t, in, "import \"github.com/pmezard/go-difflib/difflib\"\ndifflib.SplitLines(\"a\\nb\")")
	if got != "[a\n b\n]" {
		t.Fatalf("difflib %q", got)
	}
}

func TestCompleteAndInspect(t *testing.T) {
	in := interp(t)
	eval(t, in, "import \"strings\"\ntype ciT struct{ Name string }\nfunc (ciT) Hello() {}\nciV := ciT{}")
	m, start, _ := in.Complete("strings.Spl", len("strings.Spl"))
	if start != len("strings.") || !contains(m, "Split") || !contains(m, "SplitN") {
		t.Fatalf("strings.Spl -> %v at %d", m, start)
	}
	if m, _, _ := in.Complete("ciV.", 4); !contains(m, "Name") || !contains(m, "Hello") {
		t.Fatalf("ciV. -> %v", m)
	}
	if m, _, _ := in.Complete("ci", 2); !contains(m, "ciV") || !contains(m, "ciT") {
		t.Fatalf("ci -> %v", m)
	}
	if doc, ok := in.Inspect("strings.Cut", 9); !ok || !strings.Contains(doc, "func Cut(s, sep string)") {
		t.Fatalf("inspect strings.Cut: %v %q", ok, doc)
	}
	if doc, ok := in.Inspect("ciV", 2); !ok || !strings.Contains(doc, "ciT") {
		t.Fatalf("inspect ciV: %v %q", ok, doc)
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
