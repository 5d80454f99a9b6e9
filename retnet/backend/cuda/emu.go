//go:build cudaemu && !cuda

package cuda

/*
#cgo CXXFLAGS: -std=c++17 -O2 -fno-strict-aliasing -Wno-unknown-pragmas
#cgo LDFLAGS: -lstdc++ -lm
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int emu_launch(const char* name, int gx, int gy, int gz, int bx, int by, int bz, void** args, int nargs, char* err, int errlen);
void emu_seed(unsigned s);
void* emu_alloc(size_t bytes);
void emu_free(void* p, size_t bytes);

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
	"embed"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
	"unsafe"

	"github.com/retlab/retlab/retnet/backend"
)

// emuSources are the files emu.cc includes. The go command does not track
// them as inputs of the cgo compile (they are outside the package's own
// files), but it does hash embedded files: embedding them rebuilds the
// emulator whenever a kernel changes.
//
//go:embed kernels/*.cu kernels/*.cuh emu/*.h
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
// (emu/cuda_emu.h): every thread a fiber, barriers honoured, thread order
// shuffled per phase (seed RETLAB_EMU_SEED, default 1). For tests only:
// it is thousands of times slower than the GPU.
func Open() (*Backend, error) {
	seed := uint64(1)
	if s := os.Getenv("RETLAB_EMU_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("cuda: RETLAB_EMU_SEED=%q is not an unsigned integer", s)
		}
		seed = v
	}
	C.emu_seed(C.uint(seed))
	return newBackend("cuda-emu", &emuDriver{mem: map[devPtr]emuAlloc{}}), nil
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
	C.memcpy(p, src, C.size_t(bytes))
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
	C.memset(q, 0, C.size_t(4*n))
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
	C.memmove(p, q, C.size_t(bytes))
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
		return errors.New(C.GoString(&msg[0]))
	}
	return nil
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
