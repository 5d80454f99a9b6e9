// Package cellrt is what compiled notebook cells call into. The kernel
// links it, and every cell plugin shares the kernel's copy, so its state
// (the interrupt flag, the last result, registered variables) is one.
//
// The kernel's source rewriting inserts the calls; cell authors never
// write them:
//
//	C()              at the top of every function without loops: stops an interrupted cell
//	F                a function with loops takes the flag's address once (Ω0 := F)
//	                 and checks Ω0.C() at its top and in every loop body
//	Sleep(d)         for time.Sleep: wakes on interrupt
//	Recv, Recv2, Send  for <-ch and ch <- v: wake on interrupt
//	Done()           an extra case of every select without default
//	Guard()          deferred in every function literal and go statement:
//	                 a panic on a goroutine other than the cell's is reported, not fatal
//	Result(v...)     the value of the cell's last expression
//	Register         the cell's Run and the addresses of its top-level variables
//
// It imports no more than time, sync and errors (no fmt, os, reflect or
// display): every cell's plugin links what cellrt imports, so a cell that
// imports nothing itself links 46 packages, not 113, in ~0.12-0.15 s where
// one that prints (fmt) takes ~0.15-0.19 s (2-core EPYC, busy). The kernel
// installs what needs more: Stopped, Report, ShowHook and ReadInput.
package cellrt

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Stopped is the panic value that ends an interrupted cell: the kernel sets
// it to display.ErrInterrupted.
var Stopped = errors.New("interrupted")

var (
	flag Flag
	mu   sync.Mutex
	done = make(chan struct{})
)

// Flag is the interrupt flag.
type Flag struct{ on atomic.Bool }

// F is the interrupt flag's address, for loops: a cell function with
// loops copies it into a local once (Ω0 := F) and checks Ω0.C() at the
// top of each loop body. In a plugin the address of a package variable is
// loaded from the GOT, so C() costs two loads and a branch per iteration,
// Ω0.C() one load and a branch. Measured (2-core EPYC, a loop of 1e7
// additions in 12 layouts): 1.0x the unchecked loop against 1.25x for C()
// where the loop stays within a 64-byte line; where it crosses one (2 of
// 12 layouts unchecked, 3 with Ω0.C(), 4 with C()) each takes ~2x.
var F = &flag

// C panics with Stopped once the cell is interrupted. It is inlined: one
// atomic load (a plain load on amd64) and a branch.
func (f *Flag) C() {
	if f.on.Load() {
		panic(Stopped)
	}
}

// C panics with Stopped once the cell is interrupted. It is inlined: the
// flag's address and the flag, and a branch.
func C() { flag.C() }

// Interrupt asks the running cell, and every goroutine cells started, to
// stop at their next check (the kernel also sets display.Interrupted for
// RetLab's long calls).
func Interrupt() {
	mu.Lock()
	defer mu.Unlock()
	if !flag.on.Load() {
		flag.on.Store(true)
		close(done)
	}
}

// Reset clears the interrupt before a cell starts.
func Reset() {
	mu.Lock()
	defer mu.Unlock()
	if flag.on.Load() {
		flag.on.Store(false)
		done = make(chan struct{})
	}
}

// Done is closed once the cell is interrupted.
func Done() <-chan struct{} {
	mu.Lock()
	defer mu.Unlock()
	return done
}

// Sleep is time.Sleep that returns early, panicking with Stopped, on interrupt.
func Sleep(d time.Duration) {
	C()
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-Done():
		panic(Stopped)
	}
}

// Recv is <-c that stops on interrupt.
func Recv[T any](c <-chan T) T {
	select {
	case v := <-c:
		return v
	default:
	}
	select {
	case v := <-c:
		return v
	case <-Done():
		panic(Stopped)
	}
}

// Recv2 is v, ok := <-c that stops on interrupt.
func Recv2[T any](c <-chan T) (T, bool) {
	select {
	case v, ok := <-c:
		return v, ok
	default:
	}
	select {
	case v, ok := <-c:
		return v, ok
	case <-Done():
		panic(Stopped)
	}
}

// Send is c <- v that stops on interrupt.
func Send[T any](c chan<- T, v T) {
	select {
	case c <- v:
		return
	default:
	}
	select {
	case c <- v:
	case <-Done():
		panic(Stopped)
	}
}

// Range is a range over c that stops on interrupt.
func Range[T any](c <-chan T) func(yield func(T) bool) {
	return func(yield func(T) bool) {
		for {
			v, ok := Recv2(c)
			if !ok || !yield(v) {
				return
			}
		}
	}
}

// cellGoroutine is the id of the goroutine running the current cell.
var cellGoroutine atomic.Int64

// SetCellGoroutine records that the calling goroutine runs cells.
func SetCellGoroutine() { cellGoroutine.Store(goid()) }

// PanicStack is the stack of the first panic a Guard saw on the cell's
// goroutine before passing it on (the re-panic loses the original frames).
var PanicStack atomic.Pointer[[]byte]

// Guard is deferred at the top of every function literal and go statement
// of cell code. On the cell's own goroutine it passes a panic on (the cell
// reports it); on any other goroutine it reports the panic on stderr and
// lets that goroutine end, where Go would end the whole kernel.
func Guard() {
	r := recover()
	if r == nil {
		return
	}
	stack := stackOf()
	if goid() == cellGoroutine.Load() {
		PanicStack.CompareAndSwap(nil, &stack)
		panic(r)
	}
	if r == Stopped {
		return // an interrupted background goroutine ends quietly
	}
	if Report != nil {
		Report(r, stack)
		return
	}
	println("panic in a goroutine a cell started (the kernel goes on):")
	print(string(stack))
}

// stackOf is runtime/debug.Stack, without the package (it imports fmt).
func stackOf() []byte {
	buf := make([]byte, 4096)
	for {
		n := runtime.Stack(buf, false)
		if n < len(buf) {
			return buf[:n]
		}
		buf = make([]byte, 2*len(buf))
	}
}

// Report, when set by the kernel, formats a goroutine panic for the notebook.
var Report func(r any, stack []byte)

func goid() int64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)] // "goroutine 18 [running]: ..."
	var n int64
	for i := len("goroutine "); i < len(b) && '0' <= b[i] && b[i] <= '9'; i++ {
		n = 10*n + int64(b[i]-'0')
	}
	return n
}

var (
	resMu   sync.Mutex
	results []any
	resErr  bool
	hasRes  bool
)

// Result records the values of the cell's last expression.
func Result(v ...any) { setResult(v, false) }

// ResultE is Result for an expression whose last value is an error: a nil
// error is not shown.
func ResultE(v ...any) { setResult(v, true) }

func setResult(v []any, lastErr bool) {
	resMu.Lock()
	defer resMu.Unlock()
	results, resErr, hasRes = v, lastErr, true
}

// TakeResult returns and clears the last recorded result.
func TakeResult() (v []any, lastErr, ok bool) {
	resMu.Lock()
	defer resMu.Unlock()
	v, lastErr, ok = results, resErr, hasRes
	results, resErr, hasRes = nil, false, false
	return v, lastErr, ok
}

var (
	varsMu sync.Mutex
	vars   = map[string]map[string]any{}
	runs   = map[string]func(){}
)

// Register records the addresses of a cell package's top-level variables
// (name as written in the cell -> pointer), for %who and quick display,
// and run, the function that runs the cell's statements. A cell's init
// calls it; the kernel takes run once the plugin is loaded (RunOf).
func Register(pkg string, run func(), v map[string]any) {
	varsMu.Lock()
	defer varsMu.Unlock()
	vars[pkg] = v
	runs[pkg] = run
}

// RunOf returns the function that runs the statements of cell package pkg,
// registered when its plugin was loaded.
func RunOf(pkg string) (func(), bool) {
	varsMu.Lock()
	defer varsMu.Unlock()
	run, ok := runs[pkg]
	return run, ok && run != nil
}

// Var returns the pointer registered for name in pkg.
func Var(pkg, name string) (any, bool) {
	varsMu.Lock()
	defer varsMu.Unlock()
	p, ok := vars[pkg][name]
	return p, ok
}

// ShowHook is display.Show, installed by the kernel.
var ShowHook func(v any) string

// Display shows v in the notebook and returns its display id
// (gophernotes' spelling of display.Show).
func Display(v any) string { return ShowHook(v) }

// ReadInput is installed by the kernel: it asks the front end for a line.
var ReadInput func(prompt string, password bool) (string, error)

// Input asks the user for a line of text.
func Input(prompt string) string { return input(prompt, false) }

// Password asks the user for a line of text without echoing it.
func Password(prompt string) string { return input(prompt, true) }

func input(prompt string, password bool) string {
	if ReadInput == nil {
		panic(errors.New("Input: no front end to read from"))
	}
	s, err := ReadInput(prompt, password)
	if err != nil {
		panic(err)
	}
	return s
}
