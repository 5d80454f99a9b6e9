package cuda_test

import (
	"errors"
	"testing"

	"github.com/retlab/retlab/retnet/backend/backendtest"
	"github.com/retlab/retlab/retnet/backend/cuda"
)

// open returns the backend of this build: the GPU (-tags cuda), the CPU
// emulator of the kernels (-tags cudaemu), or a skip (default build).
func open(t *testing.T) *cuda.Backend {
	t.Helper()
	b, err := cuda.Open()
	if errors.Is(err, cuda.ErrNoCUDA) {
		t.Skip("built without -tags cuda or -tags cudaemu")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	})
	return b
}

// TestConformance runs every kernel against the CPU code of package retnet
// (relative error <= 1e-4): on the GPU with the production-sized shapes
// too, on the emulator the small ones.
func TestConformance(t *testing.T) {
	b := open(t)
	old := cuda.GemmMinWork.Load()
	cuda.GemmMinWork.Store(0) // every product on the device
	defer cuda.GemmMinWork.Store(old)
	backendtest.RunAllConfig(t, b, backendtest.Config{Large: b.Name() == "cuda" && !testing.Short()})
	if err := b.Err(); err != nil {
		t.Errorf("Sgemm fell back to the CPU: %v", err)
	}
}
