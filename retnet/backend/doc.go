// Package backend is the narrow compute interface retention models run on,
// and the registry that picks one by name.
//
// The CPU backend ("cpu": package retnet's own CPU code, with the products
// of package retnet/backend/cpu, pure Go + Go assembly) is the default and
// is registered by package retnet. A CUDA backend registers
// itself when the binary is built with -tags cuda. RETLAB_BACKEND selects one
// by name at start; Use switches at run time.
//
// A backend implements what it can; optional operations report
// ErrNotImplemented and callers fall back to the CPU code.
//
// Where things live: backend.go is the interface (Sgemm and the retention
// forms every caller may hand over), Capabilities (what a backend declares
// it runs on its device: the models offload on that, never on a name),
// NotImplemented (embed it, override what you have) and the registry
// (Register, Use, Current, RETLAB_BACKEND, SetDefault). Subpackages: cpu
// (the CPU maths of the default backend: Sgemm, vector and exp kernels),
// cuda (build tag cuda, or cudaemu for its emulator),
// backendtest (the conformance suite every backend runs).
//
// Imports: nothing of RetLab; the backends import this package, never the
// reverse.
package backend
