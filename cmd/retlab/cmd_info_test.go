package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/retlab/retlab/retnet/backend/cuda"
)

func TestInfo(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"info", "--json", "--backend", "cpu"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var rec infoRecord
	if err := json.Unmarshal(out.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Backend != "cpu" || !strings.Contains(rec.Device, "CPU") || rec.NumCPU < 1 || rec.CUDACompiled != (cuda.RegistryName == "cuda") {
		t.Errorf("info record %+v", rec)
	}
	out.Reset()
	if code := run([]string{"info", "--backend", "cpu"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "backend     cpu") {
		t.Errorf("text info (exit %d): %q", code, out.String())
	}
	if code := run([]string{"info", "--backend", "nosuch"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "no backend") {
		t.Errorf("unknown backend: exit %d, stderr %q", code, errb.String())
	}
}

// Without GPU support, `retlab bench gpu` says how to get it.
func TestBenchGPUWithoutCUDA(t *testing.T) {
	if cuda.Compiled {
		t.Skip("built with GPU support")
	}
	var out, errb bytes.Buffer
	if code := run([]string{"bench", "gpu"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "-tags cuda") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
}
