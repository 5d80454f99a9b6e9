package cuda

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/retnet/backend"
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
	t.Run("torch_reference_computes_the_go_function", func(t *testing.T) {
		if testing.Short() {
			t.Skip("runs PyTorch")
		}
		python := "/usr/bin/python3"
		if err := exec.Command(python, "-c", "import torch").Run(); err != nil {
			t.Skipf("no torch for %s", python)
		}
		torchComputesGo(t, func(args ...string) []byte {
			return run(t, python, append([]string{"scripts/gpu/torch_reference.py"}, args...)...)
		})
	})
}

// torchComputesGo checks that the cores torch_reference.py times compute
// what the Go code (package retnet, the kernels' parity oracle) computes:
// the parallel form, the chunkwise form at three chunk sizes (one ragged)
// and the recurrent steps, on one random input, to float32 rounding. So the
// goals compare the same work on both sides.
func torchComputesGo(t *testing.T, torchRef func(args ...string) []byte) {
	s := backend.Shape{B: 2, T: 70, H: 3, Dk: 8, Dv: 6}
	rng := rand.New(rand.NewPCG(3, 4))
	randn := func(n int, scale float64) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * scale)
		}
		return x
	}
	q, k, v := randn(s.QKLen(), 1), randn(s.QKLen(), 1/math.Sqrt(float64(s.Dk))), randn(s.VLen(), 1)
	lg := retnet.LogGammas(retnet.ScheduleTorchscale, s.H)
	chunks := []int{1, 16, 64}
	in, err := json.Marshal(map[string]any{"B": s.B, "T": s.T, "H": s.H, "dk": s.Dk, "dv": s.Dv, "log_gamma": lg,
		"chunks": chunks, "q": q, "k": k, "v": v})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "inputs.json")
	if err := os.WriteFile(file, in, 0o644); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Parallel  []float64            `json:"parallel"`
		Chunkwise map[string][]float64 `json:"chunkwise"`
		Recurrent []float64            `json:"recurrent"`
	}
	if err := json.Unmarshal(torchRef("--compare", file), &got); err != nil {
		t.Fatal(err)
	}
	heads := func(o []float32, f func(h retnet.Head[float32], bh int)) {
		for b := 0; b < s.B; b++ {
			for h := 0; h < s.H; h++ {
				qk, vo := b*s.T*s.H*s.Dk+h*s.Dk, b*s.T*s.H*s.Dv+h*s.Dv
				f(retnet.Head[float32]{Q: q[qk:], K: k[qk:], V: v[vo:], O: o[vo:], LdQK: s.H * s.Dk, LdV: s.H * s.Dv,
					LdO: s.H * s.Dv, T: s.T, Dk: s.Dk, Dv: s.Dv, LogGamma: lg[h]}, b*s.H+h)
			}
		}
	}
	compare := func(name string, torch []float64, def func(o []float32)) {
		t.Helper()
		want := make([]float32, s.VLen())
		def(want)
		if len(torch) != len(want) {
			t.Fatalf("%s: %d outputs from torch_reference.py, want %d", name, len(torch), len(want))
		}
		var maxDiff, maxAbs float64
		for i := range want {
			maxDiff = max(maxDiff, math.Abs(torch[i]-float64(want[i])))
			maxAbs = max(maxAbs, math.Abs(torch[i]))
		}
		t.Logf("%s: max |torch - go| / max |torch| = %.2e", name, maxDiff/maxAbs)
		if maxDiff > 1e-5*maxAbs {
			t.Errorf("%s: torch_reference.py and the Go code differ: %.2e relative", name, maxDiff/maxAbs)
		}
	}
	compare("parallel", got.Parallel, func(o []float32) {
		heads(o, func(h retnet.Head[float32], _ int) {
			retnet.ParallelRetention(h, nil, make([]float32, retnet.ParallelWorkSize(s.T)))
		})
	})
	for _, C := range chunks {
		compare(fmt.Sprintf("chunkwise C=%d", C), got.Chunkwise[strconv.Itoa(C)], func(o []float32) {
			heads(o, func(h retnet.Head[float32], _ int) {
				retnet.ChunkwiseRetention(h, C, nil, make([]float32, retnet.ChunkwiseWorkSize(C, s.Dv)))
			})
		})
	}
	compare("recurrent", got.Recurrent, func(o []float32) {
		heads(o, func(h retnet.Head[float32], _ int) {
			var scale float32
			retnet.RecurrentRetention(h, make([]float32, s.Dv*s.Dk), &scale)
		})
	})
}
