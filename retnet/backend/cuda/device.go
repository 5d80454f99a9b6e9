package cuda

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/retlab/retlab/retnet/backend"
)

// ErrNoCUDA is returned by Open in a binary built without -tags cuda (or
// -tags cudaemu, the CPU emulator used by the tests).
var ErrNoCUDA = errors.New("cuda: built without GPU support (rebuild with -tags cuda)")

// devPtr is a device address.
type devPtr uintptr

// driver is what the backend needs from a device: the CUDA driver through
// gorgonia.org/cu (driver_cu.go, -tags cuda) or the CPU emulator of the
// kernels (emu.go, -tags cudaemu). All calls happen between enter and the
// function enter returns, with the backend's lock held.
type driver interface {
	// enter makes the device usable from this goroutine (binds the context
	// to the OS thread) and returns the function that undoes it.
	enter() (leave func(), err error)
	alloc(bytes int64) (devPtr, error)
	free(p devPtr) error
	htod(dst devPtr, src unsafe.Pointer, bytes int64) error
	dtoh(dst unsafe.Pointer, src devPtr, bytes int64) error
	// zero sets n float32 at p to 0.
	zero(p devPtr, n int64) error
	// copy enqueues a device-to-device copy.
	copy(dst, src devPtr, bytes int64) error
	// launch enqueues kernel name; args are the argument values, each in
	// 8 bytes (see arg helpers).
	launch(name string, l launchCfg, args []uint64) error
	// blasGemm runs C = alpha op(A) op(B) + beta C (row-major) with a
	// vendor BLAS when the driver has one; ok is false when it has not.
	blasGemm(transA, transB bool, m, n, k int, alpha float32, a devPtr, lda int, b devPtr, ldb int, beta float32, c devPtr, ldc int) (ok bool, err error)
	// sync waits for all enqueued work and reports its first error.
	sync() error
	// timer returns a start/stop pair measuring device time between them.
	timer() (start func() error, stop func() (ms float64, err error), err error)
	info() backend.Info
	close() error
}

// Kernel arguments travel as 8-byte values (gorgonia.org/cu copies 8 bytes
// per argument; the kernel reads its parameter's size from the start,
// little-endian).
func argI(v int) uint64                  { return uint64(uint32(int32(v))) }
func argL(v int64) uint64                { return uint64(v) }
func argF(v float32) uint64              { return uint64(math.Float32bits(v)) }
func argD(v float64) uint64              { return math.Float64bits(v) }
func argP(p devPtr) uint64               { return uint64(p) }
func argB(b *Buffer) uint64              { return uint64(b.p) }
func argOff(p devPtr, floats int) uint64 { return uint64(p) + 4*uint64(floats) }

// Backend runs the retention operations on one GPU. It implements
// backend.Backend (host slices: upload, compute, download) and offers the
// device-resident API the benchmarks and decoders use: Buffers, plans that
// keep their scratch on the device, and Decoders. One Backend serialises
// its calls; it is safe for concurrent use.
type Backend struct {
	mu     sync.Mutex
	drv    driver
	name   string
	pool   map[string]*Buffer      // grow-only scratch of the host-slice operations
	chunks map[chunkKey]*ChunkPlan // plans of the host-slice chunkwise calls
	closed bool
	err    atomic.Pointer[error] // first error Sgemm recovered from
	noBLAS bool                  // SetVendorBLAS(false): products on sgemm_tiled
}

type chunkKey struct {
	s backend.Shape
	C int
}

func newBackend(name string, drv driver) *Backend {
	return &Backend{drv: drv, name: name, pool: map[string]*Buffer{}, chunks: map[chunkKey]*ChunkPlan{}}
}

// Name is the registry name: "cuda", or "cuda-emu" for the CPU emulator.
func (b *Backend) Name() string { return b.name }

// do runs fn with the lock held and the device bound to this thread.
func (b *Backend) do(fn func() error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errors.New("cuda: backend is closed")
	}
	leave, err := b.drv.enter()
	if err != nil {
		return err
	}
	defer leave()
	return fn()
}

// Close frees every device buffer the backend holds for its host-slice
// operations and releases the device. Buffers, plans and decoders made
// from it must be closed first.
func (b *Backend) Close() error {
	return b.do(func() error {
		var first error
		for _, p := range b.chunks {
			if err := p.close(); err != nil && first == nil {
				first = err
			}
		}
		for _, x := range b.pool {
			if err := x.free(); err != nil && first == nil {
				first = err
			}
		}
		b.chunks, b.pool = map[chunkKey]*ChunkPlan{}, map[string]*Buffer{}
		if err := b.drv.close(); err != nil && first == nil {
			first = err
		}
		b.closed = true
		return first
	})
}

// Info describes the device (name, compute capability, memory).
func (b *Backend) Info() backend.Info {
	var in backend.Info
	_ = b.do(func() error { in = b.drv.info(); return nil })
	in.Backend = b.name
	return in
}

// Capabilities implements backend.Backend: the retention forms run on the
// device.
func (b *Backend) Capabilities() backend.Capabilities { return backend.Capabilities{Retention: true} }

// Buffer is a float32 array in device memory.
type Buffer struct {
	b *Backend
	p devPtr
	n int
}

// Alloc returns a device buffer of n float32 (contents undefined).
func (b *Backend) Alloc(n int) (*Buffer, error) {
	var x *Buffer
	err := b.do(func() (err error) { x, err = b.alloc(n); return err })
	return x, err
}

func (b *Backend) alloc(n int) (*Buffer, error) {
	if n < 1 {
		n = 1
	}
	p, err := b.drv.alloc(4 * int64(n))
	if err != nil {
		return nil, fmt.Errorf("cuda: allocating %d floats (%.1f MiB): %w", n, float64(n)*4/(1<<20), err)
	}
	return &Buffer{b: b, p: p, n: n}, nil
}

// Len is the number of float32 in x.
func (x *Buffer) Len() int { return x.n }

// CopyFrom copies src to the start of x. It panics if src is longer than x.
func (x *Buffer) CopyFrom(src []float32) error {
	return x.b.do(func() error { return x.upload(src) })
}

// CopyTo copies the first len(dst) floats of x to dst (waiting for the
// work enqueued before). It panics if dst is longer than x.
func (x *Buffer) CopyTo(dst []float32) error {
	return x.b.do(func() error { return x.download(dst) })
}

func (x *Buffer) upload(src []float32) error {
	if len(src) > x.n {
		panic(fmt.Sprintf("cuda: copying %d floats into a buffer of %d", len(src), x.n))
	}
	if len(src) == 0 {
		return nil
	}
	return x.b.drv.htod(x.p, unsafe.Pointer(&src[0]), 4*int64(len(src)))
}

func (x *Buffer) download(dst []float32) error {
	if len(dst) > x.n {
		panic(fmt.Sprintf("cuda: copying %d floats out of a buffer of %d", len(dst), x.n))
	}
	if len(dst) == 0 {
		return nil
	}
	return x.b.drv.dtoh(unsafe.Pointer(&dst[0]), x.p, 4*int64(len(dst)))
}

// Free releases x's device memory; x is unusable afterwards.
func (x *Buffer) Free() error {
	return x.b.do(x.free)
}

func (x *Buffer) free() error {
	if x == nil || x.p == 0 {
		return nil
	}
	err := x.b.drv.free(x.p)
	x.p, x.n = 0, 0
	return err
}

// scratch returns the pooled buffer name with at least n floats, growing
// it when needed (old contents are lost).
func (b *Backend) scratch(name string, n int) (*Buffer, error) {
	if x := b.pool[name]; x != nil && x.n >= n {
		return x, nil
	} else if x != nil {
		if err := x.free(); err != nil {
			return nil, err
		}
		delete(b.pool, name)
	}
	x, err := b.alloc(n)
	if err != nil {
		return nil, err
	}
	b.pool[name] = x
	return x, nil
}

// staged uploads each host slice into a pooled buffer named by its key and
// returns the buffers in order.
func (b *Backend) staged(names []string, src ...[]float32) ([]*Buffer, error) {
	out := make([]*Buffer, len(src))
	for i, s := range src {
		x, err := b.scratch(names[i], len(s))
		if err != nil {
			return nil, err
		}
		if err := x.upload(s); err != nil {
			return nil, err
		}
		out[i] = x
	}
	return out, nil
}

func (b *Backend) launch(name string, l launchCfg, args ...uint64) error {
	if err := l.check(name); err != nil {
		return err
	}
	if err := b.drv.launch(name, l, args); err != nil {
		return fmt.Errorf("cuda: launching %s %v: %w", name, l.Grid, err)
	}
	return nil
}

// Sync waits for the enqueued device work and returns its first error.
func (b *Backend) Sync() error { return b.do(b.drv.sync) }

// Time runs fn (which enqueues device work through the *Dev methods, or
// plan and decoder runs) between two device events and returns the device
// milliseconds it took.
func (b *Backend) Time(fn func() error) (float64, error) {
	var start func() error
	var stop func() (float64, error)
	err := b.do(func() (err error) { start, stop, err = b.drv.timer(); return err })
	if err != nil {
		return 0, err
	}
	if err := b.do(start); err != nil {
		return 0, err
	}
	if err := fn(); err != nil {
		return 0, err
	}
	var ms float64
	err = b.do(func() (err error) { ms, err = stop(); return err })
	return ms, err
}
