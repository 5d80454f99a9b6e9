package train

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/retlab/retlab/internal/runlock"
	"github.com/retlab/retlab/retnet"
)

// Issue 16 item 5: a second run on the same directory is refused and told
// who holds it.
func TestRunDirectoryLocked(t *testing.T) {
	data, _ := LoadDataset(DataOptions{Path: corpus(t, 10)})
	dir := t.TempDir()
	held, err := runlock.Acquire(dir) // the first run
	if err != nil {
		t.Fatal(err)
	}
	tr, _ := New(tinyLMs(t)[retnet.KindRetNet](), data, smallTrain(2), dir)
	tr.Progress = NoProgress
	_, err = tr.Run(context.Background())
	host, _ := os.Hostname()
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("pid %d on %s, started ", os.Getpid(), host)) {
		t.Fatalf("second run: %v, want an error naming the holder's pid, host and start", err)
	}
	if _, err := os.Stat(filepath.Join(dir, CheckpointFile)); err == nil {
		t.Fatal("the refused run wrote a checkpoint")
	}
	held.Unlock()
	if _, err := tr.Run(context.Background()); err != nil {
		t.Fatalf("after the first run ended: %v", err)
	}
}

// nanAt makes the n-th ForwardBackward return NaN (a diverged step).
type nanAt struct {
	retnet.LanguageModel
	n, calls int
}

func (m *nanAt) ForwardBackward(in, tg []int32, B, T int) float64 {
	m.calls++
	l := m.LanguageModel.ForwardBackward(in, tg, B, T)
	if m.calls == m.n {
		return math.NaN()
	}
	return l
}

// Issue 16 item 6: training stops at the first non-finite loss with a
// message naming the step, the log holds only valid lines, and the last
// good checkpoint stays loadable with finite weights.
func TestNonFiniteLossStopsAndKeepsCheckpoint(t *testing.T) {
	data, _ := LoadDataset(DataOptions{Path: corpus(t, 10)})
	dir := t.TempDir()
	cfg := smallTrain(6)
	cfg.CheckpointEvery = 2
	tr, _ := New(&nanAt{LanguageModel: tinyLMs(t)[retnet.KindRetNet](), n: 4}, data, cfg, dir)
	tr.Progress = NoProgress
	_, err := tr.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "training loss is NaN at step 4") || !strings.Contains(err.Error(), "checkpoint, of step 2, is kept") {
		t.Fatalf("err %v", err)
	}
	log, err := ReadLog(filepath.Join(dir, LogFile))
	if err != nil || len(log) != 3 {
		t.Fatalf("log: %d entries (%v), want 3", len(log), err)
	}
	m, f, err := retnet.LoadLanguageModel(filepath.Join(dir, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := StateOf(f); st == nil || st.Step != 2 {
		t.Fatalf("checkpoint state %+v, want step 2", st)
	}
	_ = m
}

// Issue 16 item 6: non-finite settings are refused.
func TestNonFiniteSettingsRefused(t *testing.T) {
	for name, mut := range map[string]func(*Config){
		"lr Inf":           func(c *Config) { c.LR = math.Inf(1) },
		"lr NaN":           func(c *Config) { c.LR = math.NaN() },
		"min_lr NaN":       func(c *Config) { c.MinLR = math.NaN() },
		"weight_decay NaN": func(c *Config) { c.AdamW = DefaultAdamW; c.AdamW.WeightDecay = math.NaN() },
		"grad_clip Inf":    func(c *Config) { c.GradClip = math.Inf(1) },
		"eps 0":            func(c *Config) { c.AdamW = DefaultAdamW; c.AdamW.Eps = 0 },
	} {
		c := smallTrain(2)
		mut(&c)
		if err := c.WithDefaults().Validate(); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

// Issue 16 item 8: temporary files a killed run left are removed at the
// next start, and checkpoints follow the umask like the log.
func TestOrphansRemovedAndUmaskFollowed(t *testing.T) {
	data, _ := LoadDataset(DataOptions{Path: corpus(t, 10)})
	dir := t.TempDir()
	orphan := filepath.Join(dir, "."+CheckpointFile+".tmp123456")
	os.WriteFile(orphan, make([]byte, 1000), 0o600)
	old := syscall.Umask(0o027)
	defer syscall.Umask(old)
	tr, _ := New(tinyLMs(t)[retnet.KindRetNet](), data, smallTrain(2), dir)
	tr.Progress = NoProgress
	if _, err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Error("the orphan temporary checkpoint survived the next start")
	}
	ck, _ := os.Stat(filepath.Join(dir, CheckpointFile))
	lg, _ := os.Stat(filepath.Join(dir, LogFile))
	if ck.Mode().Perm() != 0o640 || lg.Mode().Perm() != 0o640 {
		t.Errorf("umask 027: checkpoint %v, log %v, want both -rw-r-----", ck.Mode().Perm(), lg.Mode().Perm())
	}
}

// Issue 16 item 3: a data path is read only when it is a regular file or a
// directory of them, and never past the size limit.
func TestDataPathHostile(t *testing.T) {
	if _, err := LoadDataset(DataOptions{Path: "/dev/zero"}); err == nil || !strings.Contains(err.Error(), "/dev/zero is a device") {
		t.Errorf("/dev/zero: %v", err)
	}
	dir := corpus(t, 3)
	link := filepath.Join(dir, "pkg", "passwd")
	os.Symlink("/etc/passwd", link)
	if _, err := LoadDataset(DataOptions{Path: dir}); err == nil || !strings.Contains(err.Error(), link+" is a symbolic link") {
		t.Errorf("directory with a symbolic link: %v", err)
	}
	os.Remove(link)
	fifo := filepath.Join(dir, "pkg", "fifo")
	if syscall.Mkfifo(fifo, 0o644) == nil {
		if _, err := LoadDataset(DataOptions{Path: dir}); err == nil || !strings.Contains(err.Error(), "named pipe") {
			t.Errorf("directory with a FIFO: %v", err)
		}
		os.Remove(fifo)
	}
	big := filepath.Join(t.TempDir(), "big.txt")
	f, _ := os.Create(big)
	f.WriteString(strings.Repeat("text\n", 1000))
	f.Truncate(8 << 30) // 8 GB, sparse
	f.Close()
	d, err := LoadDataset(DataOptions{Path: big, MaxBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(d.Train) + len(d.Val); n != 4096 {
		t.Fatalf("read %d bytes with a limit of 4096", n)
	}
}
