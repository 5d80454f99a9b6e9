package cuda_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
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

// kernels is the backend with the host-slice entry points of its other
// kernels (backendtest.Kernels), so the suite checks those too.
type kernels struct{ *cuda.Backend }

// NewDecoder opens the device-resident state cuda/lm decodes with.
func (k kernels) NewDecoder(B, H, Dk, Dv int, logGamma []float32) (backendtest.Decoder, error) {
	d, err := k.OpenDecoder(B, H, Dk, Dv, logGamma)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// TestConformance runs every kernel against the CPU code of package retnet
// (relative error <= 1e-4): on the GPU with the production-sized shapes
// too, on the emulator the small ones. With RETLAB_GPU_OUT set (by
// scripts/gpu-check.sh) it writes every comparison to parity.json there.
func TestConformance(t *testing.T) {
	b := open(t)
	old := cuda.GemmMinWork.Load()
	cuda.GemmMinWork.Store(0) // every product on the device
	defer cuda.GemmMinWork.Store(old)
	cfg := backendtest.Config{Large: b.Name() == "cuda" && !testing.Short()}
	var mu sync.Mutex
	var results []backendtest.Result
	if dir := os.Getenv("RETLAB_GPU_OUT"); dir != "" {
		// parity.json is rewritten after every comparison, so a run cut
		// short by gpu-check.sh's time limit keeps what it compared.
		write := func(done bool) {
			rec := struct {
				Backend  string               `json:"backend"`
				Device   string               `json:"device"`
				Large    bool                 `json:"large"`
				Failed   bool                 `json:"failed"`
				Finished bool                 `json:"finished"`
				Results  []backendtest.Result `json:"results"`
			}{b.Name(), b.Info().Device, cfg.Large, t.Failed(), done, results}
			data, err := json.MarshalIndent(rec, "", " ")
			if err == nil {
				tmp := filepath.Join(dir, "parity.json.tmp")
				if err = os.WriteFile(tmp, data, 0o644); err == nil {
					err = os.Rename(tmp, filepath.Join(dir, "parity.json"))
				}
			}
			if err != nil {
				t.Error(err)
			}
		}
		cfg.Report = func(r backendtest.Result) {
			mu.Lock()
			defer mu.Unlock()
			results = append(results, r)
			write(false)
		}
		defer func() {
			mu.Lock()
			defer mu.Unlock()
			write(true)
		}()
	}
	backendtest.RunAllConfig(t, kernels{b}, cfg)
	// With cuBLAS in use, the sgemm_tiled kernel must pass too.
	if b.SetVendorBLAS(true) {
		b.SetVendorBLAS(false)
		defer b.SetVendorBLAS(true)
		cfg.Only = []string{"Sgemm"}
		t.Run("sgemm_tiled", func(t *testing.T) { backendtest.RunAllConfig(t, kernels{b}, cfg) })
	}
	if err := b.Err(); err != nil {
		t.Errorf("Sgemm fell back to the CPU: %v", err)
	}
}
