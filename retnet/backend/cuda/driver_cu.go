//go:build cuda

package cuda

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"unsafe"

	"gorgonia.org/cu"

	"github.com/retlab/retlab/retnet/backend"
)

// The kernels' PTX (go generate), JIT-compiled by the driver at Open.
var (
	//go:embed kernels/retention.ptx
	retentionPTX string
	//go:embed kernels/gemm.ptx
	gemmPTX string
	//go:embed kernels/model.ptx
	modelPTX string
)

// RegistryName is the name this build registers its backend under (the GPU backend).
const RegistryName = "cuda"

// Compiled reports whether this binary can run the CUDA backend: true
// under -tags cuda. Such a binary needs an NVIDIA driver and a GPU:
// gorgonia.org/cu initialises the driver before main and exits the
// process if that fails (there is no error to return at that point).
const Compiled = true

var (
	sharedOnce sync.Once
	shared     *Backend
	sharedErr  error
)

func init() {
	// The registry shares one Backend (one CUDA context) per process:
	// backend.Use("cuda") may run more than once.
	backend.Register(RegistryName, func() (backend.Backend, error) {
		sharedOnce.Do(func() { shared, sharedErr = Open() })
		if sharedErr != nil {
			return nil, sharedErr
		}
		return shared, nil
	})
}

// Open creates a CUDA context on device RETLAB_CUDA_DEVICE (default 0),
// loads the kernels and returns a backend using them. Close releases it.
func Open() (*Backend, error) {
	ordinal := 0
	if s := os.Getenv("RETLAB_CUDA_DEVICE"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("cuda: RETLAB_CUDA_DEVICE=%q is not a device number", s)
		}
		ordinal = v
	}
	d, err := newCUDriver(ordinal)
	if err != nil {
		return nil, err
	}
	return newBackend("cuda", d), nil
}

// cuDriver is the driver over the CUDA driver API (gorgonia.org/cu): one
// context, the legacy default stream, PTX modules loaded with cuModuleLoadData.
type cuDriver struct {
	dev      cu.Device
	ctx      cu.CUContext
	mods     []cu.Module
	fns      map[string]cu.Function
	blas     *cublas // nil: sgemm_tiled does the products
	blasNote string  // why blas is nil
}

func newCUDriver(ordinal int) (*cuDriver, error) {
	n, err := cu.NumDevices()
	if err != nil {
		return nil, fmt.Errorf("cuda: counting devices: %w", err)
	}
	if ordinal >= n {
		return nil, fmt.Errorf("cuda: device %d requested, %d present", ordinal, n)
	}
	dev, err := cu.GetDevice(ordinal)
	if err != nil {
		return nil, fmt.Errorf("cuda: device %d: %w", ordinal, err)
	}
	// The context becomes current on this OS thread: keep the goroutine on it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ctx, err := dev.MakeContext(cu.SchedAuto)
	if err != nil {
		return nil, fmt.Errorf("cuda: creating a context on device %d: %w", ordinal, err)
	}
	d := &cuDriver{dev: dev, ctx: ctx, fns: map[string]cu.Function{}}
	for _, ptx := range []struct{ name, src string }{{"retention.ptx", retentionPTX}, {"gemm.ptx", gemmPTX}, {"model.ptx", modelPTX}} {
		mod, err := cu.LoadData(ptx.src)
		if err != nil {
			_ = d.close()
			return nil, fmt.Errorf("cuda: loading %s (PTX JIT): %w", ptx.name, err)
		}
		d.mods = append(d.mods, mod)
	}
	for _, name := range kernelNames {
		var fn cu.Function
		var ferr error
		for _, m := range d.mods {
			if fn, ferr = m.Function(name); ferr == nil {
				break
			}
		}
		if ferr != nil {
			_ = d.close()
			return nil, fmt.Errorf("cuda: kernel %s not in the PTX: %w", name, ferr)
		}
		d.fns[name] = fn
	}
	d.blas, d.blasNote = openCUBLAS()
	return d, nil
}

func (d *cuDriver) enter() (func(), error) {
	runtime.LockOSThread()
	if err := cu.SetCurrentContext(d.ctx); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("cuda: binding the context: %w", err)
	}
	return runtime.UnlockOSThread, nil
}

func (d *cuDriver) alloc(bytes int64) (devPtr, error) {
	p, err := cu.MemAlloc(bytes)
	return devPtr(p), err
}

func (d *cuDriver) free(p devPtr) error { return cu.MemFree(cu.DevicePtr(p)) }

func (d *cuDriver) htod(dst devPtr, src unsafe.Pointer, bytes int64) error {
	return cu.MemcpyHtoD(cu.DevicePtr(dst), src, bytes)
}

func (d *cuDriver) dtoh(dst unsafe.Pointer, src devPtr, bytes int64) error {
	return cu.MemcpyDtoH(dst, cu.DevicePtr(src), bytes)
}

func (d *cuDriver) zero(p devPtr, n int64) error { return cu.MemsetD32(cu.DevicePtr(p), 0, n) }

func (d *cuDriver) copy(dst, src devPtr, bytes int64) error {
	return cu.MemcpyDtoD(cu.DevicePtr(dst), cu.DevicePtr(src), bytes)
}

func (d *cuDriver) launch(name string, l launchCfg, args []uint64) error {
	fn, ok := d.fns[name]
	if !ok {
		return fmt.Errorf("no kernel %s loaded", name)
	}
	params := make([]unsafe.Pointer, len(args))
	for i := range args {
		params[i] = unsafe.Pointer(&args[i])
	}
	return fn.Launch(l.Grid[0], l.Grid[1], l.Grid[2], l.Block[0], l.Block[1], l.Block[2], l.Smem, cu.Stream{}, params)
}

func (d *cuDriver) blasGemm(transA, transB bool, m, n, k int, alpha float32, a devPtr, lda int, b devPtr, ldb int, beta float32, c devPtr, ldc int) (bool, error) {
	if d.blas == nil {
		return false, nil
	}
	if m == 0 || n == 0 {
		return true, nil // a probe (SetVendorBLAS) or an empty product
	}
	return true, d.blas.sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func (d *cuDriver) sync() error { return cu.Synchronize() }

func (d *cuDriver) timer() (func() error, func() (float64, error), error) {
	start, err := cu.MakeEvent(cu.DefaultEvent)
	if err != nil {
		return nil, nil, err
	}
	stop, err := cu.MakeEvent(cu.DefaultEvent)
	if err != nil {
		_ = cu.DestroyEvent(&start)
		return nil, nil, err
	}
	return func() error { return start.Record(cu.Stream{}) },
		func() (float64, error) {
			defer func() { _ = cu.DestroyEvent(&start); _ = cu.DestroyEvent(&stop) }()
			if err := stop.Record(cu.Stream{}); err != nil {
				return 0, err
			}
			if err := stop.Synchronize(); err != nil {
				return 0, err
			}
			return start.Elapsed(stop)
		}, nil
}

func (d *cuDriver) info() backend.Info {
	in := backend.Info{Details: map[string]string{}}
	name, err := d.dev.Name()
	if err != nil {
		name = "?"
	}
	attrs, err := d.dev.Attributes(cu.ComputeCapabilityMajor, cu.ComputeCapabilityMinor, cu.MultiprocessorCount,
		cu.MemoryClockRate, cu.GlobalMemoryBusWidth)
	if err == nil {
		in.Device = fmt.Sprintf("%s (sm_%d%d, %d SMs)", name, attrs[0], attrs[1], attrs[2])
		// Peak DRAM bandwidth: double data rate x clock (kHz) x bus width (bits) / 8.
		peak := 2 * float64(attrs[3]) * 1e3 * float64(attrs[4]) / 8
		in.Details["peak_bandwidth_GBs"] = fmt.Sprintf("%.0f", peak/1e9)
	} else {
		in.Device = name
	}
	if free, total, err := cu.MemInfo(); err == nil {
		in.MemFree, in.MemTotal = free, total
	}
	in.Details["driver_version"] = strconv.Itoa(cu.Version())
	in.Details["kernels"] = "PTX compute_80 (nvcc 11.8), JIT-compiled by the driver"
	if d.blas != nil {
		in.Details["sgemm"] = "cuBLAS (" + d.blas.name + ", loaded at run time)"
	} else {
		in.Details["sgemm"] = "sgemm_tiled kernel; cuBLAS: " + d.blasNote
	}
	return in
}

func (d *cuDriver) close() error {
	var errs []error
	if d.blas != nil {
		errs = append(errs, d.blas.close())
		d.blas = nil
	}
	for _, m := range d.mods {
		if err := m.Unload(); err != nil {
			errs = append(errs, err)
		}
	}
	d.mods = nil
	if err := d.ctx.Destroy(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
