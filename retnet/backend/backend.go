package backend

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
)

// ErrNotImplemented is returned by a backend for an operation it lacks;
// callers fall back to the CPU implementation.
var ErrNotImplemented = errors.New("backend: operation not implemented")

// Backend is the compute interface. Slices are row-major float32 host memory.
//
// Besides Sgemm, which every backend has, the operations are optional: a
// backend that lacks one returns ErrNotImplemented (embed NotImplemented to
// get that for every operation) and the caller runs the CPU code of package
// retnet instead. The cpu backend implements only Sgemm: for it the
// retention operations *are* retnet's CPU functions, which are also the
// oracle the conformance suite (package backendtest) checks every other
// backend against.
//
// The interface holds only what a caller hands over: Sgemm (every product
// of the models) and the two stateless retention forms (retnet.MSR.Forward
// offloads them when Capabilities says so). A GPU backend's other kernels
// (the recurrent step, rotation, group norm) serve its own device-resident
// model (cuda/lm) and are checked by backendtest's optional Kernels part,
// not offered here: no CPU caller would hand them over one op at a time.
//
// Misuse (slices too short for the shape, impossible dimensions) panics;
// failures of the device (out of memory, a launch error) are returned.
type Backend interface {
	// Name is the registry name ("cpu", "cuda").
	Name() string
	// Sgemm computes C = alpha*op(A)*op(B) + beta*C, row-major, where op(X)
	// is X or X^T: op(A) is (m,k), op(B) is (k,n), C is (m,n); lda, ldb, ldc
	// are the row strides of A, B, C as stored. It panics on bad dimensions.
	// With beta = 0, C is overwritten (its old contents may be NaN).
	Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

	// ParallelRetention computes the parallel form of every (sequence, head)
	// as retnet.ParallelRetention does for one head: q, k are (B,T,H*Dk)
	// (already rotated, k already scaled by Dk^-1/2), v and the output o are
	// (B,T,H*Dv), logGamma is (H). o is overwritten.
	ParallelRetention(s Shape, q, k, v, o, logGamma []float32) error
	// ChunkwiseRetention computes the chunkwise form with chunk size chunk
	// (retnet.ChunkwiseRetention per head; T need not be a multiple of it),
	// same layouts as ParallelRetention.
	ChunkwiseRetention(s Shape, chunk int, q, k, v, o, logGamma []float32) error
	// Info describes the backend and its device (for `retlab info`).
	Info() Info
	// Capabilities declares what the backend runs on its own device, so
	// callers decide what to hand it without knowing backends by name.
	Capabilities() Capabilities
}

// Capabilities is what a backend declares it runs on its own device.
type Capabilities struct {
	// Retention: ParallelRetention and ChunkwiseRetention run on the
	// device, so a forward pass gains by handing the retention core over
	// (retnet.MSR.Forward does, for stateless inference). False for the
	// cpu backend, whose retention is retnet's own code.
	Retention bool `json:"retention"`
}

// Shape is the shape of a batched retention call: B sequences of T tokens,
// H heads of key dim Dk and value dim Dv. The matching slices are
// q, k (B,T,H*Dk) and v, o (B,T,H*Dv): the layout of the model's
// projections, so no transposes are needed.
type Shape struct {
	B, T, H, Dk, Dv int
}

// QKLen is the length q and k must have: B*T*H*Dk.
func (s Shape) QKLen() int { return s.B * s.T * s.H * s.Dk }

// VLen is the length v and o must have: B*T*H*Dv.
func (s Shape) VLen() int { return s.B * s.T * s.H * s.Dv }

// StateLen is the length of a recurrent state S: B*H*Dv*Dk.
func (s Shape) StateLen() int { return s.B * s.H * s.Dv * s.Dk }

// Check panics with a message naming the operation op unless every
// dimension is positive and each slice is at least as long as the shape
// needs (q, k: QKLen; v, o: VLen; logGamma: H).
func (s Shape) Check(op string, q, k, v, o, logGamma []float32) {
	if s.B < 1 || s.T < 1 || s.H < 1 || s.Dk < 1 || s.Dv < 1 {
		panic(fmt.Sprintf("backend: %s: bad shape %+v", op, s))
	}
	if len(q) < s.QKLen() || len(k) < s.QKLen() || len(v) < s.VLen() || len(o) < s.VLen() || len(logGamma) < s.H {
		panic(fmt.Sprintf("backend: %s: shape %+v needs q,k %d v,o %d logGamma %d floats, have q %d k %d v %d o %d logGamma %d",
			op, s, s.QKLen(), s.VLen(), s.H, len(q), len(k), len(v), len(o), len(logGamma)))
	}
}

// Info describes a backend for humans (`retlab info`). Zero fields are
// unknown or not applicable.
type Info struct {
	Backend  string            `json:"backend"`
	Device   string            `json:"device,omitempty"`    // e.g. "NVIDIA H200 (sm_90, 132 SMs)"
	MemTotal int64             `json:"mem_total,omitempty"` // device memory in bytes
	MemFree  int64             `json:"mem_free,omitempty"`
	Details  map[string]string `json:"details,omitempty"` // driver version, kernels, ...
}

// NotImplemented implements every optional operation of Backend by
// returning ErrNotImplemented (and Info with only the backend unknown).
// Embed it in a backend and override what the backend has.
type NotImplemented struct{}

// ParallelRetention returns ErrNotImplemented.
func (NotImplemented) ParallelRetention(Shape, []float32, []float32, []float32, []float32, []float32) error {
	return ErrNotImplemented
}

// ChunkwiseRetention returns ErrNotImplemented.
func (NotImplemented) ChunkwiseRetention(Shape, int, []float32, []float32, []float32, []float32, []float32) error {
	return ErrNotImplemented
}

// Info returns an empty Info.
func (NotImplemented) Info() Info { return Info{} }

// Capabilities declares nothing.
func (NotImplemented) Capabilities() Capabilities { return Capabilities{} }

var (
	mu          sync.RWMutex
	registry    = map[string]func() (Backend, error){}
	current     Backend
	defaultName = "cpu"
)

// SetDefault names the backend Current opens when neither Use nor
// RETLAB_BACKEND chose one ("cpu" unless set). A binary built with GPU
// support calls it so that it uses the GPU without configuration.
func SetDefault(name string) {
	mu.Lock()
	defaultName = name
	mu.Unlock()
}

// Register makes a backend constructor available under name. It panics if
// the name is taken (programmer error: two backends with one name).
func Register(name string, open func() (Backend, error)) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[name]; dup {
		panic("backend: Register called twice for " + name)
	}
	registry[name] = open
}

// Names lists the registered backends.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	var n []string
	for k := range registry {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Open constructs the backend registered under name.
func Open(name string) (Backend, error) {
	mu.RLock()
	open, ok := registry[name]
	mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("backend: no backend %q (registered: %v)", name, Names())
	}
	return open()
}

// Use makes the named backend the one Current returns.
func Use(name string) error {
	b, err := Open(name)
	if err != nil {
		return err
	}
	mu.Lock()
	current = b
	mu.Unlock()
	return nil
}

// Current returns the backend in use: the one chosen by Use, else the one
// named by RETLAB_BACKEND, else the default (SetDefault; "cpu"). If that
// cannot be opened it says why on stderr and uses "cpu". It panics if cpu
// cannot be opened either, which means the cpu backend was not linked
// (import retnet, which registers it).
func Current() Backend {
	mu.RLock()
	b, name := current, defaultName
	mu.RUnlock()
	if b != nil {
		return b
	}
	if env := os.Getenv("RETLAB_BACKEND"); env != "" {
		name = env
	}
	if err := Use(name); err != nil {
		if name == "cpu" {
			panic(err)
		}
		fmt.Fprintf(os.Stderr, "retlab: backend %s: %v; using cpu\n", name, err)
		if err := Use("cpu"); err != nil {
			panic(err)
		}
	}
	mu.RLock()
	defer mu.RUnlock()
	return current
}
