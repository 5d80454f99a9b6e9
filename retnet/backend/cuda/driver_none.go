//go:build !cuda && !cudaemu

package cuda

// RegistryName is the name this build registers its backend under (empty: nothing is registered in this build).
const RegistryName = ""

// Compiled reports whether this binary can run the CUDA backend: false in
// the default (pure Go) build, true with -tags cuda (and -tags cudaemu).
const Compiled = false

// Open returns ErrNoCUDA: this binary was built without -tags cuda.
func Open() (*Backend, error) { return nil, ErrNoCUDA }
