package hf

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/retlab/retlab/retnet"
)

// File names of a Hugging Face model directory.
const (
	ConfigFile    = "config.json"
	WeightsFile   = "model.safetensors"
	IndexFile     = "model.safetensors.index.json"
	TokenizerFile = "tokenizer.json"
)

// maxIndexBytes bounds model.safetensors.index.json (a 70B model's is ~100 KB).
const maxIndexBytes = 64 << 20

// Checkpoint is an open Hugging Face model directory: config.json and one
// model.safetensors or several shards named by model.safetensors.index.json.
// The safetensors files are memory-mapped: tensors are views of the mapped
// pages, so a BF16 model costs its file size in memory (page cache shared
// with the OS), never a second copy. Close unmaps them; views must not be
// used after Close.
type Checkpoint struct {
	Dir    string
	Config Config

	files   []*shard
	tensors map[string]*shard // tensor name -> the file holding it
	names   []string          // sorted
}

type shard struct {
	path  string
	tf    *retnet.TensorFile
	unmap func() error
}

// Open opens the model directory dir (a path, not a hub name; see Resolve).
// Errors name the file that is missing, truncated or inconsistent.
func Open(dir string) (*Checkpoint, error) {
	cfg, err := ReadConfig(filepath.Join(dir, ConfigFile))
	if err != nil {
		return nil, err
	}
	c := &Checkpoint{Dir: dir, Config: cfg, tensors: map[string]*shard{}}
	ok := false
	defer func() {
		if !ok {
			c.Close()
		}
	}()
	index := filepath.Join(dir, IndexFile)
	if _, err := os.Stat(index); err == nil {
		if err := c.openSharded(index); err != nil {
			return nil, err
		}
	} else {
		single := filepath.Join(dir, WeightsFile)
		if _, err := os.Stat(single); err != nil {
			return nil, missingWeights(dir)
		}
		s, err := openShard(single)
		if err != nil {
			return nil, err
		}
		c.files = append(c.files, s)
		for _, n := range s.tf.Names() {
			c.tensors[n] = s
		}
	}
	for n := range c.tensors {
		c.names = append(c.names, n)
	}
	sort.Strings(c.names)
	ok = true
	return c, nil
}

// missingWeights explains a directory without safetensors weights.
func missingWeights(dir string) error {
	for _, pt := range []string{"pytorch_model.bin", "pytorch_model.bin.index.json"} {
		if _, err := os.Stat(filepath.Join(dir, pt)); err == nil {
			return fmt.Errorf("hf: %s holds %s (PyTorch pickle) but no %s: RetLab reads safetensors only; convert it with transformers (model.save_pretrained(dir, safe_serialization=True))", dir, pt, WeightsFile)
		}
	}
	return fmt.Errorf("hf: %s has neither %s nor %s: the download is incomplete or this is not a model directory", dir, WeightsFile, IndexFile)
}

// index is model.safetensors.index.json.
type index struct {
	Metadata  map[string]any    `json:"metadata"`
	WeightMap map[string]string `json:"weight_map"`
}

func (c *Checkpoint) openSharded(path string) error {
	raw, err := readBounded(path, maxIndexBytes)
	if err != nil {
		return err
	}
	var ix index
	if err := json.Unmarshal(raw, &ix); err != nil {
		return fmt.Errorf("hf: %s: not valid JSON: %w", path, err)
	}
	if len(ix.WeightMap) == 0 {
		return fmt.Errorf("hf: %s: weight_map is empty or missing", path)
	}
	byFile := map[string][]string{}
	for t, f := range ix.WeightMap {
		if f == "" || filepath.Base(f) != f {
			return fmt.Errorf("hf: %s: tensor %q maps to %q, want a file name in the same directory", path, t, f)
		}
		byFile[f] = append(byFile[f], t)
	}
	files := make([]string, 0, len(byFile))
	for f := range byFile {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, f := range files {
		p := filepath.Join(c.Dir, f)
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			ts := byFile[f]
			sort.Strings(ts)
			return fmt.Errorf("hf: %s: missing shard (%s names it for %d tensors, e.g. %q): the download is incomplete", p, IndexFile, len(ts), ts[0])
		}
		s, err := openShard(p)
		if err != nil {
			return err
		}
		c.files = append(c.files, s)
		for _, t := range byFile[f] {
			if !s.tf.Has(t) {
				return fmt.Errorf("hf: %s: %s names tensor %q in this file, which does not hold it", p, IndexFile, t)
			}
			c.tensors[t] = s
		}
	}
	return nil
}

// openShard maps one safetensors file after checking, from its stat and
// header (retnet.CheckSafetensorsFile), that it is a regular file exactly as
// long as its header says: a partial download is named as truncated.
func openShard(path string) (*shard, error) {
	size, err := retnet.CheckSafetensorsFile(path, math.MaxInt64)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("hf: %w", err)
	}
	defer f.Close()
	data, unmap, err := mapFile(f, size)
	if err != nil {
		return nil, fmt.Errorf("hf: %s: %w", path, err)
	}
	tf, err := retnet.ParseSafetensors(data, path)
	if err != nil {
		unmap()
		return nil, err
	}
	return &shard{path: path, tf: tf, unmap: unmap}, nil
}

func readBounded(path string, limit int64) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("hf: %w", err)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("hf: %s is %d bytes, more than the %d a %s may have", path, st.Size(), limit, filepath.Base(path))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("hf: %w", err)
	}
	return b, nil
}

// Close unmaps the files.
func (c *Checkpoint) Close() error {
	var first error
	for _, s := range c.files {
		if err := s.unmap(); err != nil && first == nil {
			first = err
		}
	}
	c.files = nil
	return first
}

// Names lists the tensors, sorted.
func (c *Checkpoint) Names() []string { return c.names }

// Files lists the safetensors files, in the order opened.
func (c *Checkpoint) Files() []string {
	out := make([]string, len(c.files))
	for i, s := range c.files {
		out[i] = s.path
	}
	return out
}

// Bytes is the total size of the safetensors files.
func (c *Checkpoint) Bytes() int64 {
	var n int64
	for _, s := range c.files {
		if st, err := os.Stat(s.path); err == nil {
			n += st.Size()
		}
	}
	return n
}

// Tensor is one tensor as it lies in the file: a view of the mapped bytes.
type Tensor struct {
	Name  string
	File  string // the safetensors file holding it
	DType string // "F32", "BF16", "F16", ...
	Shape []int
	Data  []byte // little-endian elements, len = numel * dtype size
}

// Tensor returns the named tensor, or an error naming the checkpoint and tensor.
func (c *Checkpoint) Tensor(name string) (Tensor, error) {
	s, ok := c.tensors[name]
	if !ok {
		return Tensor{}, fmt.Errorf("hf: %s: no tensor %q", c.Dir, name)
	}
	data, shape, dt, err := s.tf.Raw(name)
	if err != nil {
		return Tensor{}, err
	}
	return Tensor{Name: name, File: s.path, DType: dt, Shape: shape, Data: data}, nil
}

// Has reports whether the checkpoint holds the tensor.
func (c *Checkpoint) Has(name string) bool { _, ok := c.tensors[name]; return ok }

// Float32 returns the named tensor converted to float32 (a new slice).
func (c *Checkpoint) Float32(name string) ([]float32, []int, error) {
	s, ok := c.tensors[name]
	if !ok {
		return nil, nil, fmt.Errorf("hf: %s: no tensor %q", c.Dir, name)
	}
	return s.tf.Float32(name)
}

// Expect checks that the named tensor exists with the given shape; the
// error names the file and says what the config implies.
func (c *Checkpoint) Expect(name string, shape ...int) error {
	t, err := c.Tensor(name)
	if err != nil {
		return fmt.Errorf("hf: %s: missing tensor %q (shape %v) that %s implies", c.Dir, name, shape, ConfigFile)
	}
	if fmt.Sprint(t.Shape) != fmt.Sprint(shape) {
		return fmt.Errorf("hf: %s: tensor %q has shape %v, %s implies %v", t.File, name, t.Shape, ConfigFile, shape)
	}
	switch t.DType {
	case "F32", "BF16", "F16":
	default:
		return fmt.Errorf("hf: %s: tensor %q has dtype %s, want F32, BF16 or F16", t.File, name, t.DType)
	}
	return nil
}

// Unexpected lists tensors not in want (a set of names), skipping those
// with any of the given prefixes.
func (c *Checkpoint) Unexpected(want map[string]bool, skip ...string) []string {
	var out []string
	for _, n := range c.names {
		if want[n] {
			continue
		}
		skipped := false
		for _, p := range skip {
			if strings.HasPrefix(n, p) {
				skipped = true
			}
		}
		if !skipped {
			out = append(out, n)
		}
	}
	return out
}
