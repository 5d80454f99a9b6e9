package exec_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cosmos72/gomacro/imports"

	"github.com/retlab/retlab/display"
	"github.com/retlab/retlab/kernel/exec"
)

var (
	shared     *exec.Interp
	sharedOnce sync.Once
)

// interp returns one interpreter shared by the tests (creating one costs
// ~0.1 s); tests use distinct variable names.
func interp(t *testing.T) *exec.Interp {
	sharedOnce.Do(func() {
		var err error
		if shared, err = exec.New(nil); err != nil {
			t.Fatal(err)
		}
	})
	if shared == nil {
		t.Fatal("no interpreter")
	}
	return shared
}

func eval(t *testing.T, in *exec.Interp, code string) exec.Result {
	t.Helper()
	r := in.Eval(code)
	if r.Err != nil {
		t.Fatalf("%q: %v\n%s", code, r.Err, strings.Join(r.Err.Traceback, "\n"))
	}
	return r
}

func TestStateCarriesAcrossCells(t *testing.T) {
	in := interp(t)
	eval(t, in, "stateX := 2")
	eval(t, in, "func stateDouble(v int) int { return 2 * v }")
	r := eval(t, in, "stateDouble(stateX) * 10 + 2")
	if len(r.Values) != 1 || r.Values[0] != 42 || r.Bundle.Text() != "42" {
		t.Fatalf("got %v %v", r.Values, r.Bundle)
	}
}

func TestStatementsShowNothing(t *testing.T) {
	in := interp(t)
	for _, code := range []string{"stmtA := 1", `import "fmt"`, `fmt.Println("x")`, "var stmtE error\nstmtE", "for i := 0; i < 2; i++ {}"} {
		if r := eval(t, in, code); r.Bundle != nil {
			t.Errorf("%q shows %v", code, r.Bundle)
		}
	}
	eval(t, in, `import "strconv"`)
	if r := eval(t, in, `strconv.Atoi("17")`); r.Bundle.Text() != "17" {
		t.Errorf("(17, nil) shows %q, want 17", r.Bundle.Text())
	}
}

func TestErrorsKeepState(t *testing.T) {
	in := interp(t)
	eval(t, in, "errKeep := 7")
	for code, name := range map[string]string{
		"errKeep + undefinedName":         "CompileError",
		"panic(\"boom\")":                 "Panic",
		"var errS []int\n_ = errS[3]":     "Panic",
		"errKeep +":                       "SyntaxError",
		`import "slices"`:                 "ImportError",
		`import "example.com/not/linked"`: "ImportError",
		"%nosuchmagic":                    "MagicError",
	} {
		start := time.Now()
		r := in.Eval(code)
		if r.Err == nil || r.Err.Name != name {
			t.Errorf("%q: error %v, want %s", code, r.Err, name)
			continue
		}
		if len(r.Err.Traceback) == 0 || r.Err.Value == "" {
			t.Errorf("%q: empty traceback or value", code)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%q took %v", code, d)
		}
	}
	r := in.Eval("errKeep + undefinedName")
	if tb := strings.Join(r.Err.Traceback, "\n"); !strings.Contains(tb, "errKeep + undefinedName") || !strings.Contains(tb, "^") {
		t.Errorf("compile error traceback lacks the source line and caret:\n%s", tb)
	}
	if r := eval(t, in, "errKeep"); r.Values[0] != 7 {
		t.Fatalf("state lost after errors: %v", r.Values)
	}
}

func TestImportOurPackagesIsFast(t *testing.T) {
	in := interp(t)
	start := time.Now()
	eval(t, in, `import "github.com/retlab/retlab/retnet"`)
	d := time.Since(start)
	r := eval(t, in, `retnet.Gammas("torchscale", 2)`)
	g, ok := r.Values[0].([]float64)
	if !ok || len(g) != 2 || g[0] != 1-1.0/32 {
		t.Fatalf("retnet.Gammas through the interpreter: %v", r.Values)
	}
	t.Logf("import retnet: %v", d)
	if d > 500*time.Millisecond {
		t.Errorf("import retnet took %v", d)
	}
}

func TestRenderCompiledAndInterpreted(t *testing.T) {
	in := interp(t)
	r := eval(t, in, `display.HTML("<b>x</b>")`)
	if r.Bundle[display.MIMEHTML] != "<b>x</b>" {
		t.Fatalf("display.HTML: %v", r.Bundle)
	}
	eval(t, in, "type rCard struct{ N int }\nfunc (c rCard) HTML() string { return \"<i>card</i>\" }\nfunc (c rCard) String() string { return \"card!\" }")
	r = eval(t, in, "rCard{3}")
	if r.Bundle[display.MIMEHTML] != "<i>card</i>" || r.Bundle.Text() != "card!" {
		t.Fatalf("interpreted HTMLer: %v", r.Bundle)
	}
	eval(t, in, "type rChart struct{}\nfunc (rChart) MIMEBundle() display.Bundle { return display.Bundle{\"image/svg+xml\": \"<svg/>\"} }")
	r = eval(t, in, "rChart{}")
	if r.Bundle[display.MIMESVG] != "<svg/>" || r.Bundle.Text() == "" {
		t.Fatalf("interpreted Renderer: %v", r.Bundle)
	}
	eval(t, in, `import "image"`)
	r = eval(t, in, "image.NewGray(image.Rect(0, 0, 4, 3))")
	if _, ok := r.Bundle[display.MIMEPNG].([]byte); !ok || r.Bundle.Text() != "<image 4x3>" {
		t.Fatalf("image: %v", r.Bundle.Types())
	}
}

// slowCalls counts iterations of the compiled loop below.
var slowCalls int

func init() {
	// A compiled "training loop" that checks display.Interrupted, as retnet does.
	imports.Packages["retlab.test/slow"] = imports.Package{Name: "slow", Binds: map[string]reflect.Value{
		"Train": reflect.ValueOf(func() error {
			for {
				slowCalls++
				if display.Interrupted() {
					return display.ErrInterrupted
				}
				time.Sleep(time.Millisecond)
			}
		}),
	}}
}

func TestInterrupt(t *testing.T) {
	in := interp(t)
	for name, code := range map[string]string{
		"interpreted loop": "intrN := 0\nfor { intrN++ }",
		"sleeping loop":    "import \"time\"\nfor { time.Sleep(time.Millisecond) }",
		"compiled call":    "import \"retlab.test/slow\"\nif err := slow.Train(); err != nil { panic(err) }",
	} {
		done := make(chan exec.Result)
		go func() { done <- in.Eval(code) }()
		for !in.Running() {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond)
		in.Interrupt()
		select {
		case r := <-done:
			if r.Err == nil || r.Err.Name != "Interrupted" {
				t.Errorf("%s: %v", name, r.Err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: interrupt did not stop the cell", name)
		}
		if r := eval(t, in, "1 + 1"); r.Values[0] != 2 {
			t.Fatalf("%s: interpreter broken after interrupt", name)
		}
	}
	if slowCalls == 0 {
		t.Fatal("compiled loop never ran")
	}
	if display.Interrupted() {
		t.Fatal("interrupt flag still set after the next cell started")
	}
}

func TestComplete(t *testing.T) {
	in := interp(t)
	eval(t, in, `import "fmt"`)
	eval(t, in, "completeMe := 1")
	for _, c := range []struct {
		code   string
		cursor int
		want   string
		start  int
	}{{"fmt.Pri", 7, "Println", 4}, {"x := complet", 12, "completeMe", 5}, {"a := 1\nfmt.Spr", 14, "Sprintf", 11}, {"fmt.Pri(1)", 7, "Printf", 4}} {
		m, start, end := in.Complete(c.code, c.cursor)
		found := false
		for _, x := range m {
			found = found || x == c.want
		}
		if !found || start != c.start || end != c.cursor {
			t.Errorf("%q@%d: %v [%d,%d), want %s at %d", c.code, c.cursor, m, start, end, c.want, c.start)
		}
	}
}

// While the kernel loads packages in the background (Warm), completions
// wait for it rather than coming back empty (a front end's first Tab).
func TestCompleteDuringWarm(t *testing.T) {
	in := interp(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		in.Warm([]string{"strings", "math", "time", "os", "strconv", "sort", "encoding/json", "bufio", "bytes"})
	}()
	for calls := 0; ; calls++ {
		select {
		case <-done:
			if calls == 0 {
				t.Log("Warm finished before the first completion")
			}
			return
		default:
		}
		m, _, _ := in.Complete("displ", 5)
		if !slices.Contains(m, "display") {
			t.Fatalf("completion %d while warming: %v, want display", calls, m)
		}
	}
}

func TestIsComplete(t *testing.T) {
	for code, want := range map[string]string{
		"1 + 1": "complete", "x := 3": "complete", "": "complete", "import \"fmt\"\nfmt.Println(1)": "complete",
		"func f() {": "incomplete", "for i := 0; i < 3; i++ {\n\tprint(i)": "incomplete", "x := 1 +": "incomplete",
		"s := `raw": "incomplete", "f(1,": "incomplete", "/* c": "incomplete",
		"x := )": "invalid", "}": "invalid", "1 2": "invalid", "\"abc": "invalid",
	} {
		if got, _ := exec.IsComplete(code); got != want {
			t.Errorf("IsComplete(%q) = %s, want %s", code, got, want)
		}
	}
	if _, indent := exec.IsComplete("func f() {\n\tif x {"); indent != "\t\t" {
		t.Errorf("indent %q", indent)
	}
}

func TestInspectAndHelp(t *testing.T) {
	in := interp(t)
	eval(t, in, `import "github.com/retlab/retlab/retnet"`)
	text, ok := in.Inspect("retnet.Preset(", 10)
	if !ok || !strings.Contains(text, "func Preset(name string, vocab int) (Config, error)") {
		t.Fatalf("inspect retnet.Preset: %v %q", ok, text)
	}
	text, ok = in.Inspect(`retnet.Preset("base", `, 20)
	if !ok || !strings.Contains(text, "Preset returns") {
		t.Fatalf("inspect inside the call: %v %q", ok, text)
	}
	eval(t, in, `inspCfg, _ := retnet.Preset("base", 256)`)
	text, ok = in.Inspect("inspCfg.Params", 14)
	if !ok || !strings.Contains(text, "retnet.Config") || !strings.Contains(text, "Params counts") {
		t.Fatalf("inspect method of a variable: %v %q", ok, text)
	}
	r := in.Eval("?display.Show")
	if r.Err != nil || !strings.Contains(r.Page.Text(), "Show displays") {
		t.Fatalf("?display.Show: %v %v", r.Err, r.Page)
	}
	if _, ok := in.Inspect("noSuchThing", 5); ok {
		t.Fatal("found docs for an unknown name")
	}
	if testing.Short() {
		return
	}
	eval(t, in, `import "strings"`)
	text, ok = in.Inspect("strings.ToUpper", 9)
	if !ok || !strings.Contains(text, "func ToUpper(s string) string") {
		t.Fatalf("go doc strings.ToUpper: %v %q", ok, text)
	}
}

func TestDisplayFunctionAndMagics(t *testing.T) {
	in := interp(t)
	var got []display.Bundle
	prev := display.SetSink(sinkFunc(func(b display.Bundle) { got = append(got, b) }))
	defer display.SetSink(prev)
	eval(t, in, `Display(display.Markdown("*hi*"))`)
	if len(got) != 1 || got[0][display.MIMEMarkdown] != "*hi*" {
		t.Fatalf("Display: %v", got)
	}
	eval(t, in, "%env RETLAB_EXEC_TEST=yes\nmagicV := 5")
	r := eval(t, in, `import "os"`+"\nos.Getenv(\"RETLAB_EXEC_TEST\")")
	if r.Values[0] != "yes" {
		t.Fatalf("%%env: %v", r.Values)
	}
	if r := eval(t, in, "magicV"); r.Values[0] != 5 {
		t.Fatal("code after magics not run")
	}
}

type sinkFunc func(display.Bundle)

func (f sinkFunc) Display(b display.Bundle, id string, update bool) { f(b) }
func (f sinkFunc) Clear(bool)                                       {}
func (f sinkFunc) Progress(display.ProgressState)                   {}

var _ = errors.New

// A panic in a goroutine a cell started is recovered and reported; the
// process (the kernel) survives with its state, whether the go statement is
// in the cell or in a function an earlier cell declared.
func TestGoroutinePanicIsRecovered(t *testing.T) {
	in := interp(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = w
	defer func() { os.Stderr = stderr }()
	eval(t, in, `gpDone := make(chan bool)
gpWorker := func(n int) { defer close(gpDone); var m map[string]int; m["x"] = n }
go gpWorker(1)
<-gpDone`)
	eval(t, in, `func gpStart(done chan bool) { go func() { defer func() { close(done) }(); panic("deep") }() }`)
	eval(t, in, `gpDone2 := make(chan bool); gpStart(gpDone2); <-gpDone2`)
	os.Stderr = stderr
	w.Close()
	out, _ := io.ReadAll(r)
	for _, want := range []string{"assignment to entry in nil map", "deep", "panic in a goroutine started by a cell"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("stderr %q lacks %q", out, want)
		}
	}
	if v := eval(t, in, "gpDone != nil").Values; len(v) != 1 || v[0] != true {
		t.Fatalf("state lost: %v", v)
	}
}

// Guarding go statements keeps their semantics: the function and arguments
// are evaluated when the statement runs (each loop iteration's values),
// builtins, variadic calls and untyped constants still work.
func TestGoStatementSemantics(t *testing.T) {
	in := interp(t)
	eval(t, in, `gsCh := make(chan int, 8)
gsSend := func(i int) { gsCh <- i }`)
	for _, c := range []struct{ code, want string }{
		{"for i := 0; i < 3; i++ { go gsSend(i * 10) }\n(<-gsCh) + (<-gsCh) + (<-gsCh)", "30"},
		{"for i := 1; i <= 3; i++ { go func(v int) { gsCh <- v }(i) }\n(<-gsCh) + (<-gsCh) + (<-gsCh)", "6"},
		{"gsV := func(xs ...int) { gsCh <- len(xs) }\ngo gsV([]int{1, 2, 3}...)\n<-gsCh", "3"},
		{"const gsN = 2\ngsF := func(v float32) { gsCh <- int(2 * v) }\ngo gsF(gsN)\n<-gsCh", "4"},
		{"gsC := make(chan int)\ngo close(gsC)\nv, ok := <-gsC\nfmt.Sprint(v, ok)", "0 false"},
		{"gsX := 7\ngo gsSend(gsX)\ngsX = 8\n<-gsCh", "7"},
		// Deferred builtins (rewritten around a gomacro defect) keep their
		// argument values from the defer statement too.
		{"func gsClose(c chan int) { defer close(c); c <- 5 }\ngsC2 := make(chan int, 1)\ngsClose(gsC2)\ngsV := <-gsC2\n_, gsOK := <-gsC2\nfmt.Sprint(gsV, gsOK)", "5 false"},
		{"func gsDel(m map[string]int) { k := \"a\"; defer delete(m, k); k = \"b\" }\ngsM := map[string]int{\"a\": 1, \"b\": 2}\ngsDel(gsM)\nfmt.Sprint(len(gsM), gsM[\"b\"])", "1 2"},
	} {
		res := eval(t, in, `import "fmt"`+"\n"+c.code)
		if len(res.Values) == 0 || fmt.Sprint(res.Values[0]) != c.want { // a receive also gives ok
			t.Errorf("%q: %v, want %s", c.code, res.Values, c.want)
		}
	}
}
