package train

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/retlab/retlab/internal/human"
)

// Training data is byte-level: every byte is a token (vocabulary 256), so no
// tokenizer is needed and any text works. The default corpus needs no
// download: the Go standard library sources of the toolchain on the machine.

// DataOptions select a corpus.
type DataOptions struct {
	// Path is a text file or a directory of text files; "" means the Go
	// standard library (`go env GOROOT`/src, *.go, testdata excluded).
	Path string
	// ValPercent is the share of the corpus held out for validation, in
	// percent (default 5). A directory is split by file: a file is held out
	// when the FNV-1a hash of its path relative to the root, mod 100, is
	// below ValPercent, so the split never depends on the walk order or on
	// which other files exist. A single file is split by position: its last
	// ValPercent of bytes.
	ValPercent int
	// MaxBytes caps the bytes read (default 128 MiB); files are read in
	// lexical path order until the cap, and no file is read past it. The
	// path must be a regular file or a directory holding only regular files
	// and directories (a device, a FIFO or a symbolic link is an error
	// naming it; dot files are skipped).
	MaxBytes int64
}

// Dataset is a corpus of byte tokens split into training and validation.
type Dataset struct {
	Path        string // DataOptions.Path ("" = the Go standard library)
	Source      string // what was read, for logs and checkpoints
	Train, Val  []byte // the splits; each file's bytes are concatenated
	Files       int    // files read
	ValFiles    int    // files held out (directories)
	Fingerprint string // FNV-1a 64 of the paths and contents, hex
}

// GoRoot returns the Go installation root: runtime.GOROOT() when it exists
// on disk, else `go env GOROOT`.
func GoRoot() (string, error) {
	if r := runtime.GOROOT(); r != "" {
		if _, err := os.Stat(filepath.Join(r, "src")); err == nil {
			return r, nil
		}
	}
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return "", fmt.Errorf("train: cannot find the Go standard library for the default corpus (go env GOROOT: %v); pass a data path", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// LoadDataset reads the corpus opt describes. Errors say what is wrong
// with the path: missing, empty, no text files, or too little text to hold
// out a validation split.
func LoadDataset(opt DataOptions) (*Dataset, error) {
	if opt.ValPercent == 0 {
		opt.ValPercent = 5
	}
	if opt.ValPercent < 0 || opt.ValPercent >= 100 {
		return nil, fmt.Errorf("train: validation share %d%% must be in [1,99]", opt.ValPercent)
	}
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = 128 << 20
	}
	root, goOnly := opt.Path, false
	if root == "" {
		r, err := GoRoot()
		if err != nil {
			return nil, err
		}
		root, goOnly = filepath.Join(r, "src"), true
	}
	info, err := os.Stat(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("train: data path %s does not exist", root)
	}
	if err != nil {
		return nil, fmt.Errorf("train: data path: %w", err)
	}
	h := fnv.New64a()
	if !info.IsDir() {
		if !info.Mode().IsRegular() {
			return nil, fmt.Errorf("train: data path %s is %s: want a text file or a directory of them", root, modeName(info.Mode()))
		}
		b, err := readAtMost(root, opt.MaxBytes)
		if err != nil {
			return nil, fmt.Errorf("train: data path: %w", err)
		}
		if len(bytes.TrimSpace(b)) == 0 {
			return nil, fmt.Errorf("train: data file %s is empty", root)
		}
		if isBinary(b) {
			return nil, fmt.Errorf("train: data file %s is not text (it holds NUL bytes)", root)
		}
		h.Write(b)
		cut := len(b) - len(b)*opt.ValPercent/100
		d := &Dataset{Path: opt.Path, Source: root, Train: b[:cut], Val: b[cut:], Files: 1}
		d.Fingerprint = fmt.Sprintf("%016x", h.Sum64())
		return d, d.check(root)
	}
	d := &Dataset{Path: opt.Path, Source: root}
	if goOnly {
		d.Source = root + " (*.go)"
	}
	var train, val bytes.Buffer
	var total int64
	truncated := false
	err = filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if path != root && (e.Name() == "testdata" || strings.HasPrefix(e.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(e.Name(), ".") {
			return nil
		}
		if !e.Type().IsRegular() {
			return fmt.Errorf("%s is %s: a data directory may hold only text files and directories", path, modeName(e.Type()))
		}
		if goOnly && !strings.HasSuffix(e.Name(), ".go") {
			return nil
		}
		if total >= opt.MaxBytes {
			truncated = true
			return filepath.SkipAll
		}
		b, err := readAtMost(path, opt.MaxBytes-total)
		if err != nil {
			return err
		}
		if len(b) == 0 || isBinary(b) {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		h.Write([]byte(rel))
		h.Write(b)
		total += int64(len(b))
		d.Files++
		fh := fnv.New64a()
		fh.Write([]byte(rel))
		if int(fh.Sum64()%100) < opt.ValPercent {
			val.Write(b)
			d.ValFiles++
		} else {
			train.Write(b)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("train: reading data directory %s: %w", root, err)
	}
	if d.Files == 0 {
		return nil, fmt.Errorf("train: data directory %s holds no text files", d.Source)
	}
	d.Train, d.Val = train.Bytes(), val.Bytes()
	if len(d.Val) == 0 || len(d.Train) == 0 {
		// Too few files for the hash split: fall back to splitting by position.
		all := append(d.Train, d.Val...)
		cut := len(all) - len(all)*opt.ValPercent/100
		d.Train, d.Val, d.ValFiles = all[:cut], all[cut:], 0
	}
	if truncated {
		d.Source += fmt.Sprintf(" (first %d bytes)", opt.MaxBytes)
	}
	d.Fingerprint = fmt.Sprintf("%016x", h.Sum64())
	return d, d.check(d.Source)
}

func (d *Dataset) check(src string) error {
	if len(d.Val) < 2 || len(d.Train) < 2 {
		return fmt.Errorf("train: data %s has %d bytes: too little text to split into training and validation", src, len(d.Train)+len(d.Val))
	}
	return nil
}

// readAtMost reads up to limit bytes of the regular file at path (never
// more, however large the file or whatever it turned into since its stat).
func readAtMost(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is %s, not a text file", path, modeName(st.Mode()))
	}
	return io.ReadAll(io.LimitReader(f, min(limit, st.Size())))
}

// modeName says what kind of file m is, for errors.
func modeName(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file (" + m.Type().String() + ")"
}

// isBinary reports whether b looks like a binary file (a NUL byte in its
// first 8 KiB).
func isBinary(b []byte) bool {
	return bytes.IndexByte(b[:min(len(b), 8192)], 0) >= 0
}

// String summarises d.
func (d *Dataset) String() string {
	return fmt.Sprintf("%s: %d files, %s train / %s validation bytes", d.Source, d.Files, human.Count(int64(len(d.Train))), human.Count(int64(len(d.Val))))
}

// TrainBatch fills inputs and targets (B,T) with B windows of the training
// split at offsets drawn from a generator seeded by (seed, step): a batch
// depends only on the seed and the step number, so a resumed run sees the
// same batches as an uninterrupted one. It returns an error if the split is
// shorter than T+1 bytes.
func (d *Dataset) TrainBatch(seed uint64, step, B, nT int, inputs, targets []int32) error {
	if len(d.Train) < nT+1 {
		return fmt.Errorf("train: training split has %d bytes, need at least T+1 = %d for one sequence", len(d.Train), nT+1)
	}
	rng := rand.New(rand.NewPCG(seed, uint64(step)))
	for b := 0; b < B; b++ {
		off := rng.IntN(len(d.Train) - nT)
		fillWindow(d.Train[off:off+nT+1], inputs[b*nT:(b+1)*nT], targets[b*nT:(b+1)*nT])
	}
	return nil
}

func fillWindow(w []byte, inputs, targets []int32) {
	for i := range inputs {
		inputs[i], targets[i] = int32(w[i]), int32(w[i+1])
	}
}

// ValTokens returns the validation split's leading whole windows of T+1
// bytes, consecutive and non-overlapping (each predicts T tokens), as byte
// token ids: n*T+1 bytes for n = (len(Val)-1)/T windows, fewer when n*T
// would pass maxTokens predicted tokens (<= 0: no cap; at least one
// window). It returns an error if the split is shorter than T+1 bytes.
func (d *Dataset) ValTokens(nT int, maxTokens int64) ([]int, error) {
	n := (len(d.Val) - 1) / nT
	if n < 1 {
		return nil, fmt.Errorf("train: validation split has %d bytes, need at least T+1 = %d for one sequence", len(d.Val), nT+1)
	}
	if maxTokens > 0 && int64(n)*int64(nT) > maxTokens {
		n = max(1, int(maxTokens/int64(nT)))
	}
	ids := make([]int, n*nT+1)
	for i := range ids {
		ids[i] = int(d.Val[i])
	}
	return ids, nil
}
