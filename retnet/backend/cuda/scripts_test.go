package cuda

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The GPU check's scripts work before a GPU session spends time on them:
// gpu-check.sh and bundle.sh pass shellcheck, summarize.py passes its tests
// on made-up results, and the PyTorch reference runs on the CPU (small
// shapes) and writes records that pair with `retlab bench gpu`'s.
func TestGPUScripts(t *testing.T) {
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	run := func(t *testing.T, name string, args ...string) []byte {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			msg := ""
			if ee, ok := err.(*exec.ExitError); ok {
				msg = string(ee.Stderr)
			}
			t.Fatalf("%s %v: %v\n%s%s", name, args, err, out, msg)
		}
		return out
	}
	t.Run("shellcheck", func(t *testing.T) {
		if _, err := exec.LookPath("shellcheck"); err != nil {
			t.Skip("no shellcheck")
		}
		run(t, "shellcheck", "scripts/gpu-check.sh", "scripts/gpu/bundle.sh")
	})
	t.Run("summarize", func(t *testing.T) {
		if _, err := exec.LookPath("python3"); err != nil {
			t.Skip("no python3")
		}
		run(t, "python3", "scripts/gpu/summarize_test.py")
	})
	t.Run("torch_reference", func(t *testing.T) {
		if testing.Short() {
			t.Skip("runs PyTorch")
		}
		python := "/usr/bin/python3"
		if err := exec.Command(python, "-c", "import torch").Run(); err != nil {
			t.Skipf("no torch for %s", python)
		}
		var recs []KernelBench
		if err := json.Unmarshal(run(t, python, "scripts/gpu/torch_reference.py", "--quick", "--device", "cpu"), &recs); err != nil {
			t.Fatal(err)
		}
		// The shapes of --quick are those of gpu-check.sh's GPU_CHECK_QUICK
		// bench flags, so summarize.py pairs them.
		want := map[string]int{"copy": 1, "chunkwise": 2, "parallel": 1, "recurrent_step": 1, "sgemm": 1}
		got := map[string]int{}
		for _, r := range recs {
			got[r.Op]++
			if r.Impl != "pytorch" || !(r.Ms > 0) || r.MsMedian < r.Ms {
				t.Errorf("bad record %+v", r)
			}
			if r.Op == "chunkwise" && (r.T != 200 || r.H != 2 || r.Dk != 16 || r.Dv != 24 || (r.Chunk != 16 && r.Chunk != 64)) {
				t.Errorf("chunkwise record %+v does not match gpu-check.sh's quick shapes", r)
			}
		}
		for op, n := range want {
			if got[op] != n {
				t.Errorf("%d %s records, want %d", got[op], op, n)
			}
		}
	})
	if _, err := os.Stat(filepath.Join(root, "scripts/gpu-check.sh")); err != nil {
		t.Fatal(err)
	}
}
