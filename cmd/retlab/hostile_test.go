package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/retnet/train"
)

// The CLI attacks of issue 16, each run as its own retlab process (this test
// binary re-executed as the CLI), with its wall time and peak RSS measured.
// `make test-hostile` prints the table (attack, expected, observed).

func TestMain(m *testing.M) {
	if os.Getenv("RETLAB_TEST_AS_CLI") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// cliRun is one finished CLI process.
type cliRun struct {
	stdout, stderr string
	code           int
	wall           time.Duration
	rssMB          float64
}

func (r cliRun) String() string {
	// The error line: "retlab CMD: ..." when there is one, else the first.
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	msg := lines[0]
	for _, l := range lines {
		if strings.HasPrefix(l, "retlab ") && strings.Contains(l, ": ") && !strings.HasPrefix(l, "retlab kernel: warning") {
			msg = l
		}
	}
	if len(msg) > 110 {
		msg = msg[:110] + "..."
	}
	return fmt.Sprintf("exit %d in %.2fs, %.0f MB: %s", r.code, r.wall.Seconds(), r.rssMB, msg)
}

// cli runs the CLI with args, killing it after 30 s.
func cli(t *testing.T, env []string, args ...string) cliRun {
	t.Helper()
	self, _ := os.Executable()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Env = append(append(os.Environ(), "RETLAB_TEST_AS_CLI=1"), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	start := time.Now()
	err := cmd.Run()
	r := cliRun{stdout: o.String(), stderr: e.String(), wall: time.Since(start)}
	if cmd.ProcessState != nil {
		r.code = cmd.ProcessState.ExitCode()
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.rssMB = float64(ru.Maxrss) / 1024
		}
	} else if err != nil {
		r.code, r.stderr = -1, err.Error()
	}
	return r
}

type attack struct {
	name, expected string
	check          func(t *testing.T) (observed string, ok bool)
}

// refused is a check that the run failed fast (under 5 s and 500 MB) with
// an error holding every want.
func refused(r cliRun, want ...string) (string, bool) {
	ok := r.code != 0 && r.wall < 5*time.Second && r.rssMB < 500
	for _, w := range want {
		ok = ok && strings.Contains(r.stderr, w)
	}
	return r.String(), ok
}

func sparseFile(t *testing.T, size int64, n uint64, header string) string {
	p := filepath.Join(t.TempDir(), "hostile.safetensors")
	f, _ := os.Create(p)
	f.Write(binary.LittleEndian.AppendUint64(nil, n))
	f.WriteString(header)
	f.Truncate(size)
	f.Close()
	return p
}

// trainedCheckpoint writes a tiny checkpoint with training state (data_path
// as given) and optimizer tensors, as retlab train writes them.
func trainedCheckpoint(t *testing.T, kind, dataPath string, poison bool) string {
	var cfg retnet.ModelConfig = retnet.Config{Vocab: retnet.ByteVocab, Dim: 16, ValueDim: 32, FFNDim: 32, Layers: 1, Heads: 2}.WithDefaults()
	if kind == retnet.KindTransformer {
		cfg = retnet.TransformerConfig{Vocab: retnet.ByteVocab, Dim: 16, FFNDim: 32, Layers: 1, Heads: 2}.WithDefaults()
	}
	m, err := retnet.NewLanguageModel(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	if poison {
		m.Weights()[7] = float32(math.NaN())
	}
	n := len(m.Weights())
	st, _ := json.Marshal(train.State{Config: train.Config{Steps: 2, Batch: 2, SeqLen: 16}.WithDefaults(), Step: 2, DataPath: dataPath})
	md := m.CheckpointMetadata()
	md[train.MetaKey] = string(st)
	p := filepath.Join(t.TempDir(), kind+".safetensors")
	ts := append(m.CheckpointTensors(), retnet.Tensor{Name: retnet.OptimPrefix + "m", Shape: []int{n}, Data: make([]float32, n)},
		retnet.Tensor{Name: retnet.OptimPrefix + "v", Shape: []int{n}, Data: make([]float32, n)})
	if err := retnet.WriteSafetensors(p, ts, md); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHostileCLI(t *testing.T) {
	tiny := func(out, data string, extra ...string) []string {
		return append([]string{"train", "--model", "retnet", "--size", "xs", "--data", data, "--out", out, "--batch", "2",
			"--seq-len", "32", "--eval-tokens", "256", "--progress-every", "1h"}, extra...)
	}
	attacks := []attack{
		{"kernel install --name ../../../../escaped", "refused; nothing written outside the prefix", func(t *testing.T) (string, bool) {
			p := t.TempDir()
			r := cli(t, nil, "kernel", "install", "--prefix", p, "--name", "../../../../escaped-hostile")
			_, err := os.Stat(filepath.Join(p, "..", "..", "..", "..", "escaped-hostile"))
			obs, ok := refused(r, "invalid kernel name")
			return obs, ok && os.IsNotExist(err)
		}},
		{"kernel uninstall --name . (two kernels installed)", "refused; both kernelspecs kept", func(t *testing.T) (string, bool) {
			p := t.TempDir()
			cli(t, nil, "kernel", "install", "--prefix", p, "--name", "a")
			cli(t, nil, "kernel", "install", "--prefix", p, "--name", "b")
			r := cli(t, nil, "kernel", "uninstall", "--prefix", p, "--name", ".")
			_, ea := os.Stat(filepath.Join(p, "share", "jupyter", "kernels", "a", "kernel.json"))
			_, eb := os.Stat(filepath.Join(p, "share", "jupyter", "kernels", "b", "kernel.json"))
			obs, ok := refused(r, "invalid kernel name")
			return obs, ok && ea == nil && eb == nil
		}},
		{"kernel uninstall --name ../../x (x holds a kernel.json)", "refused; x kept", func(t *testing.T) (string, bool) {
			p := t.TempDir()
			x := filepath.Join(p, "share", "x")
			os.MkdirAll(x, 0o755)
			os.WriteFile(filepath.Join(x, "kernel.json"), []byte(`{}`), 0o644)
			r := cli(t, nil, "kernel", "uninstall", "--prefix", p, "--name", "../../x")
			_, err := os.Stat(x)
			obs, ok := refused(r, "invalid kernel name")
			return obs, ok && err == nil
		}},
		{"logits --checkpoint /dev/zero", "fast error naming the file, no big allocation", func(t *testing.T) (string, bool) {
			return refused(cli(t, nil, "logits", "--checkpoint", "/dev/zero", "--tokens", "1,2"), "/dev/zero", "not a regular file")
		}},
		{"logits: 3 GB sparse file, header length 2^63", "fast error naming the file", func(t *testing.T) (string, bool) {
			p := sparseFile(t, 3<<30, 1<<63, "")
			return refused(cli(t, nil, "logits", "--checkpoint", p, "--tokens", "1,2"), p, "exceeds the file")
		}},
		{"logits: 47 MB header", "fast error naming the file", func(t *testing.T) (string, bool) {
			// Written in pieces: the test process stays small (a child's peak RSS
			// as wait4 reports it starts from its parent's).
			p := sparseFile(t, 1<<30, 47<<20, `{"__metadata__":{"x":"`)
			f, _ := os.OpenFile(p, os.O_WRONLY, 0)
			f.WriteAt([]byte(`"}}`), 8+47<<20-3)
			f.Close()
			return refused(cli(t, nil, "logits", "--checkpoint", p, "--tokens", "1,2"), p, "exceeds the limit")
		}},
		{"eval: checkpoint's data_path is /dev/zero", "error naming /dev/zero, nothing read", func(t *testing.T) (string, bool) {
			return refused(cli(t, nil, "eval", "--checkpoint", trainedCheckpoint(t, retnet.KindRetNet, "/dev/zero", false)), "/dev/zero is a device")
		}},
		{"eval: checkpoint's data_path is /etc", "error: /etc holds non-regular files", func(t *testing.T) (string, bool) {
			return refused(cli(t, nil, "eval", "--checkpoint", trainedCheckpoint(t, retnet.KindRetNet, "/etc", false)), "/etc/", "a data directory may hold only")
		}},
		{"train --batch 1000000000", "flag error naming -batch", func(t *testing.T) (string, bool) {
			return refused(cli(t, nil, "train", "--out", t.TempDir(), "--batch", "1000000000"), "flag -batch")
		}},
		{"eval --batch 1000000000", "flag error naming -batch", func(t *testing.T) (string, bool) {
			return refused(cli(t, nil, "eval", "--checkpoint", "x", "--batch", "1000000000"), "flag -batch")
		}},
		{"decay --heads 4 --len 2147483648", "flag error naming -len", func(t *testing.T) (string, bool) {
			return refused(cli(t, nil, "decay", "--heads", "4", "--len", "2147483648"), "flag -len")
		}},
		{"decay --heads 1 --len 4294967296 (guard overflow)", "flag error naming -len", func(t *testing.T) (string, bool) {
			return refused(cli(t, nil, "decay", "--heads", "1", "--len", "4294967296"), "flag -len")
		}},
		{"train --lr Inf / --weight-decay NaN", "flag errors naming them", func(t *testing.T) (string, bool) {
			a, ok1 := refused(cli(t, nil, "train", "--out", t.TempDir(), "--lr", "Inf"), "flag -lr")
			b, ok2 := refused(cli(t, nil, "train", "--out", t.TempDir(), "--weight-decay", "NaN"), "flag -weight-decay")
			return a + " / " + b, ok1 && ok2
		}},
		{"logits / generate on NaN weights", "error naming the tensor and element", func(t *testing.T) (string, bool) {
			p := trainedCheckpoint(t, retnet.KindRetNet, "", true)
			a, ok1 := refused(cli(t, nil, "logits", "--checkpoint", p, "--tokens", "1,2"), "element 7", "embed_tokens.weight")
			_, ok2 := refused(cli(t, nil, "generate", "--checkpoint", p, "--tokens", "4"), "element 7")
			return a, ok1 && ok2
		}},
		{"logits on train checkpoints (RetNet and Transformer, optim.* inside)", "logits JSON for both", func(t *testing.T) (string, bool) {
			var obs []string
			ok := true
			for _, k := range []string{retnet.KindRetNet, retnet.KindTransformer} {
				r := cli(t, nil, "logits", "--checkpoint", trainedCheckpoint(t, k, "", false), "--tokens", "72,105,33")
				var out struct{ NLL []float64 }
				good := r.code == 0 && json.Unmarshal([]byte(r.stdout), &out) == nil && len(out.NLL) == 2
				ok = ok && good
				obs = append(obs, fmt.Sprintf("%s: exit %d, %d NLLs", k, r.code, len(out.NLL)))
			}
			return strings.Join(obs, "; "), ok
		}},
		{"two train runs on one --out at once", "second refused, naming pid, host, start", func(t *testing.T) (string, bool) {
			data, out := textCorpus(t), filepath.Join(t.TempDir(), "run")
			self, _ := os.Executable()
			first := exec.Command(self, tiny(out, data, "--steps", "400")...)
			first.Env = append(os.Environ(), "RETLAB_TEST_AS_CLI=1")
			if err := first.Start(); err != nil {
				return err.Error(), false
			}
			defer func() { first.Process.Kill(); first.Wait() }()
			for i := 0; i < 100; i++ { // until the first holds the lock
				if b, _ := os.ReadFile(filepath.Join(out, ".lock")); bytes.Contains(b, []byte(fmt.Sprint(first.Process.Pid))) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			r := cli(t, nil, tiny(out, data, "--steps", "400")...)
			return refused(r, fmt.Sprintf("pid %d on ", first.Process.Pid), "started ")
		}},
		{"train --steps 10: cadence and warm-up follow --steps", "warm-up 1, checkpoint every 2, eval every 1", func(t *testing.T) (string, bool) {
			out := filepath.Join(t.TempDir(), "run")
			r := cli(t, nil, tiny(out, textCorpus(t), "--steps", "10")...)
			f, err := retnet.ReadSafetensors(filepath.Join(out, train.CheckpointFile))
			if err != nil {
				return r.String(), false
			}
			st, _ := train.StateOf(f)
			c := st.Config
			return fmt.Sprintf("warm-up %d, checkpoint every %d, eval every %d", c.Warmup, c.CheckpointEvery, c.EvalEvery), c.Warmup == 1 && c.CheckpointEvery == 2 && c.EvalEvery == 1
		}},
		{"orphan .tmp files of a killed run; umask 027", "removed at the next start; checkpoint -rw-r----- like the log", func(t *testing.T) (string, bool) {
			out := filepath.Join(t.TempDir(), "run")
			os.MkdirAll(out, 0o755)
			orphan := filepath.Join(out, "."+train.CheckpointFile+".tmp4242")
			os.WriteFile(orphan, make([]byte, 4096), 0o600)
			old := syscall.Umask(0o027)
			r := cli(t, nil, tiny(out, textCorpus(t), "--steps", "2")...)
			syscall.Umask(old)
			_, oerr := os.Stat(orphan)
			ck, cerr := os.Stat(filepath.Join(out, train.CheckpointFile))
			if cerr != nil {
				return r.String(), false
			}
			return fmt.Sprintf("orphan removed: %v; checkpoint %v", os.IsNotExist(oerr), ck.Mode().Perm()), os.IsNotExist(oerr) && ck.Mode().Perm() == 0o640
		}},
	}
	var rows [][3]string
	failed := 0
	for _, a := range attacks {
		obs, ok := a.check(t)
		if !ok {
			failed++
			t.Errorf("%s: expected %s; observed %s", a.name, a.expected, obs)
			obs = "FAIL: " + obs
		}
		rows = append(rows, [3]string{a.name, a.expected, obs})
	}
	fmt.Println("Each attack is a fresh retlab process; observed: exit code, wall time, peak RSS (wait4; at least the test process's own), error line.")
	fmt.Println("| attack | expected | observed |")
	fmt.Println("|---|---|---|")
	for _, r := range rows {
		fmt.Printf("| %s | %s | %s |\n", r[0], r[1], strings.ReplaceAll(r[2], "|", "/"))
	}
	fmt.Printf("hostile CLI: %d attacks, %d failed\n", len(attacks), failed)
}
