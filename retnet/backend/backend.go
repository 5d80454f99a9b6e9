// Package backend is the narrow compute interface retention models run on,
// and the registry that picks one by name.
//
// The CPU backend (package retnet/backend/cpu, pure Go + Go assembly) is the
// default and is always registered by package retnet. A CUDA backend registers
// itself when the binary is built with -tags cuda. RETLAB_BACKEND selects one
// by name at start; Use switches at run time.
//
// A backend implements what it can; optional operations report
// ErrNotImplemented and callers fall back to the CPU code.
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
type Backend interface {
	// Name is the registry name ("cpu", "cuda").
	Name() string
	// Sgemm computes C = alpha*op(A)*op(B) + beta*C, row-major, where op(X)
	// is X or X^T: op(A) is (m,k), op(B) is (k,n), C is (m,n); lda, ldb, ldc
	// are the row strides of A, B, C as stored. It panics on bad dimensions.
	// With beta = 0, C is overwritten (its old contents may be NaN).
	Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
}

var (
	mu       sync.RWMutex
	registry = map[string]func() (Backend, error){}
	current  Backend
)

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
// named by RETLAB_BACKEND, else "cpu". It panics if none can be opened,
// which means the cpu backend was not linked (import retnet, or
// retnet/backend/cpu).
func Current() Backend {
	mu.RLock()
	b := current
	mu.RUnlock()
	if b != nil {
		return b
	}
	name := os.Getenv("RETLAB_BACKEND")
	if name == "" {
		name = "cpu"
	}
	if err := Use(name); err != nil {
		if name == "cpu" {
			panic(err)
		}
		fmt.Fprintf(os.Stderr, "retlab: RETLAB_BACKEND=%s: %v; using cpu\n", name, err)
		if err := Use("cpu"); err != nil {
			panic(err)
		}
	}
	mu.RLock()
	defer mu.RUnlock()
	return current
}
