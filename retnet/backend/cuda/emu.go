//go:build cudaemu && !cuda

package cuda

/*
#cgo CXXFLAGS: -std=c++17 -O2 -g -fno-strict-aliasing -Wno-unknown-pragmas -fsanitize=thread
#cgo CFLAGS: -O2 -g
#cgo LDFLAGS: -lstdc++ -lm
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int emu_launch(const char* name, int gx, int gy, int gz, int bx, int by, int bz, void** args, int nargs, char* err, int errlen);
void emu_config(unsigned seed, int check, unsigned preemptEvery);
void* emu_alloc(size_t bytes);
void emu_free(void* p, size_t bytes);
void emu_htod(void* dst, const void* src, size_t bytes);
void emu_memset(void* dst, int c, size_t bytes);
void emu_dtod(void* dst, const void* src, size_t bytes);

// emu_launch_vals passes pointers to the argument values, as cuLaunchKernel takes them.
static int emu_launch_vals(const char* name, int gx, int gy, int gz, int bx, int by, int bz, uint64_t* vals, int n, char* err, int errlen) {
	void* args[64];
	if (n > 64) { strcpy(err, "emu: more than 64 kernel arguments"); return -1; }
	for (int i = 0; i < n; i++) args[i] = &vals[i];
	return emu_launch(name, gx, gy, gz, bx, by, bz, args, n, err, errlen);
}
*/
import "C"

import (
	"debug/dwarf"
	"debug/elf"
	"embed"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/retlab/retlab/retnet/backend"
)

// emuSources are the files emu.cc includes. The go command does not track
// them as inputs of the cgo compile (they are outside the package's own
// files), but it does hash embedded files: embedding them rebuilds the
// emulator whenever a kernel changes.
//
//go:embed kernels/*.cu kernels/*.cuh emu/*.h emu/*.cuh
var emuSources embed.FS

// RegistryName is the name this build registers its backend under (the CPU emulator of the kernels, for tests).
const RegistryName = "cuda-emu"

// Compiled reports whether this binary can run the CUDA backend; under
// -tags cudaemu it runs the kernels on the CPU emulator.
const Compiled = true

func init() {
	backend.Register(RegistryName, func() (backend.Backend, error) {
		b, err := Open()
		if err != nil {
			return nil, err
		}
		return b, nil
	})
}

// Open returns a backend running the kernels in the CPU emulator
// (emu/cuda_emu.h): every thread a fiber, barriers and warp masks honoured,
// threads interleaved at random accesses, blocks in a random order, every
// access to shared and device memory checked (races, uninitialised reads,
// bounds). For tests only: it is thousands of times slower than the GPU.
//
// The environment tunes it: RETLAB_EMU_SEED (default 1) seeds the random
// schedule, and every error names it, so RETLAB_EMU_SEED=N repeats a run;
// RETLAB_EMU_CHECK=0 turns the access checks off (the schedule stays
// random); RETLAB_EMU_PREEMPT=N makes one access in N (default 8) yield to
// another thread, 0 never.
func Open() (*Backend, error) {
	opt, err := emuOptionsFromEnv()
	if err != nil {
		return nil, err
	}
	setEmuOptions(opt)
	return newBackend("cuda-emu", &emuDriver{mem: map[devPtr]emuAlloc{}}), nil
}

// emuOptions are the emulator's knobs (see Open).
type emuOptions struct {
	Seed    uint32
	Check   bool
	Preempt uint32 // one access in Preempt yields; 0: never
}

func emuOptionsFromEnv() (emuOptions, error) {
	opt := emuOptions{Seed: 1, Check: true, Preempt: 8}
	for _, v := range []struct {
		name string
		dst  *uint32
	}{{"RETLAB_EMU_SEED", &opt.Seed}, {"RETLAB_EMU_PREEMPT", &opt.Preempt}} {
		if s := os.Getenv(v.name); s != "" {
			n, err := strconv.ParseUint(s, 10, 32)
			if err != nil {
				return opt, fmt.Errorf("cuda: %s=%q is not an unsigned integer", v.name, s)
			}
			*v.dst = uint32(n)
		}
	}
	switch s := os.Getenv("RETLAB_EMU_CHECK"); s {
	case "", "1":
	case "0":
		opt.Check = false
	default:
		return opt, fmt.Errorf("cuda: RETLAB_EMU_CHECK=%q: want 0 or 1", s)
	}
	return opt, nil
}

// setEmuOptions configures the emulator (process-wide: it has one schedule).
func setEmuOptions(o emuOptions) {
	check := 0
	if o.Check {
		check = 1
	}
	C.emu_config(C.uint(o.Seed), C.int(check), C.uint(o.Preempt))
}

type emuAlloc struct {
	p     unsafe.Pointer
	bytes int64
}

// emuDriver is the driver over the emulator: device memory is host memory
// from emu_alloc, launches run to completion before returning.
type emuDriver struct {
	mem map[devPtr]emuAlloc
}

func (d *emuDriver) enter() (func(), error) { return func() {}, nil }

func (d *emuDriver) alloc(bytes int64) (devPtr, error) {
	p := C.emu_alloc(C.size_t(bytes))
	if p == nil {
		return 0, errors.New("emu: out of memory")
	}
	dp := devPtr(uintptr(p))
	d.mem[dp] = emuAlloc{p, bytes}
	return dp, nil
}

func (d *emuDriver) lookup(p devPtr, bytes int64) (unsafe.Pointer, error) {
	a, ok := d.mem[p]
	if !ok {
		return nil, fmt.Errorf("emu: %#x is not the start of an allocation", uintptr(p))
	}
	if bytes > a.bytes {
		return nil, fmt.Errorf("emu: copy of %d bytes into an allocation of %d", bytes, a.bytes)
	}
	return a.p, nil
}

func (d *emuDriver) free(p devPtr) error {
	a, ok := d.mem[p]
	if !ok {
		return fmt.Errorf("emu: free of %#x, not an allocation", uintptr(p))
	}
	C.emu_free(a.p, C.size_t(a.bytes))
	delete(d.mem, p)
	return nil
}

func (d *emuDriver) htod(dst devPtr, src unsafe.Pointer, bytes int64) error {
	p, err := d.lookup(dst, bytes)
	if err != nil {
		return err
	}
	C.emu_htod(p, src, C.size_t(bytes))
	return nil
}

func (d *emuDriver) dtoh(dst unsafe.Pointer, src devPtr, bytes int64) error {
	p, err := d.lookup(src, bytes)
	if err != nil {
		return err
	}
	C.memcpy(dst, p, C.size_t(bytes))
	return nil
}

func (d *emuDriver) zero(p devPtr, n int64) error {
	q, err := d.lookup(p, 4*n)
	if err != nil {
		return err
	}
	C.emu_memset(q, 0, C.size_t(4*n))
	return nil
}

func (d *emuDriver) copy(dst, src devPtr, bytes int64) error {
	p, err := d.lookup(dst, bytes)
	if err != nil {
		return err
	}
	q, err := d.lookup(src, bytes)
	if err != nil {
		return err
	}
	C.emu_dtod(p, q, C.size_t(bytes))
	return nil
}

func (d *emuDriver) launch(name string, l launchCfg, args []uint64) error {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var msg [512]C.char
	var vals *C.uint64_t
	if len(args) > 0 {
		vals = (*C.uint64_t)(unsafe.Pointer(&args[0]))
	}
	rc := C.emu_launch_vals(cname, C.int(l.Grid[0]), C.int(l.Grid[1]), C.int(l.Grid[2]),
		C.int(l.Block[0]), C.int(l.Block[1]), C.int(l.Block[2]), vals, C.int(len(args)), &msg[0], C.int(len(msg)))
	if rc != 0 {
		return errors.New(withSourceLines(C.GoString(&msg[0])))
	}
	return nil
}

var pcRe = regexp.MustCompile(`pc 0x([0-9a-f]+)`)

// withSourceLines appends the kernel source line to every "pc 0x..." of an
// emulator error, read from this binary's DWARF line tables.
func withSourceLines(msg string) string {
	return pcRe.ReplaceAllStringFunc(msg, func(m string) string {
		pc, err := strconv.ParseUint(pcRe.FindStringSubmatch(m)[1], 16, 64)
		if err != nil {
			return m
		}
		if line := sourceLine(pc); line != "" {
			return m + " (" + line + ")"
		}
		return m
	})
}

// exeDebug is this binary's DWARF (absent under plain go test, which links
// with -w) and its function symbols.
var exeDebug = sync.OnceValues(func() (*dwarf.Data, []elf.Symbol) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil
	}
	f, err := elf.Open(exe)
	if err != nil {
		return nil, nil
	}
	defer f.Close()
	d, _ := f.DWARF()
	syms, _ := f.Symbols()
	var funcs []elf.Symbol
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Size > 0 {
			funcs = append(funcs, s)
		}
	}
	return d, funcs
})

// sourceLine returns "file:line" of code address pc from the DWARF line
// tables, or else "function+offset" from the symbol table, or "".
func sourceLine(pc uint64) string {
	d, funcs := exeDebug()
	if d != nil {
		r := d.Reader()
		for {
			cu, err := r.Next()
			if err != nil || cu == nil {
				break
			}
			if cu.Tag != dwarf.TagCompileUnit {
				continue
			}
			r.SkipChildren()
			ranges, err := d.Ranges(cu)
			if err != nil {
				continue
			}
			for _, rg := range ranges {
				if pc < rg[0] || pc >= rg[1] {
					continue
				}
				lr, err := d.LineReader(cu)
				var le dwarf.LineEntry
				if err == nil && lr != nil && lr.SeekPC(pc, &le) == nil && le.File != nil {
					name := le.File.Name
					if i := strings.Index(name, "retnet/backend/cuda/"); i >= 0 {
						name = name[i+len("retnet/backend/cuda/"):]
					}
					return fmt.Sprintf("%s:%d", name, le.Line)
				}
			}
		}
	}
	for _, s := range funcs {
		if pc >= s.Value && pc < s.Value+s.Size {
			return fmt.Sprintf("%s+%#x", s.Name, pc-s.Value)
		}
	}
	return ""
}

func (d *emuDriver) blasGemm(bool, bool, int, int, int, float32, devPtr, int, devPtr, int, float32, devPtr, int) (bool, error) {
	return false, nil // no vendor BLAS: sgemm_tiled
}

func (d *emuDriver) sync() error { return nil }

func (d *emuDriver) timer() (func() error, func() (float64, error), error) {
	var t0 time.Time
	return func() error { t0 = time.Now(); return nil },
		func() (float64, error) { return float64(time.Since(t0).Nanoseconds()) / 1e6, nil }, nil
}

func (d *emuDriver) info() backend.Info {
	return backend.Info{Device: "CPU emulator of the CUDA kernels (fibers; for tests, not speed)",
		Details: map[string]string{"kernels": "retnet/backend/cuda/kernels/*.cu compiled as C++"}}
}

func (d *emuDriver) close() error {
	for p := range d.mem {
		if err := d.free(p); err != nil {
			return err
		}
	}
	return nil
}
