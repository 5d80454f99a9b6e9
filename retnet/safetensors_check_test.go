package retnet

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// sparseSafetensors writes a sparse file of size bytes whose header length
// field is n and whose header is header (both at the start).
// n == 0 means len(header).
func sparseSafetensors(t *testing.T, name string, size int64, n uint64, header string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if n == 0 {
		n = uint64(len(header))
	}
	f.Write(binary.LittleEndian.AppendUint64(nil, n))
	f.WriteString(header)
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	return p
}

// Issue 16 item 3: sizes come from the file's stat and the header before
// anything is allocated; a device, a huge header length or a huge header
// fails at once with an error naming the file.
func TestReadSafetensorsHostileSizes(t *testing.T) {
	bigHeader := `{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"__metadata__":{"pad":"` + strings.Repeat("p", 47<<20) + `"}}`
	for _, tc := range []struct {
		name, path, want string
	}{
		{"/dev/zero", "/dev/zero", "not a regular file"},
		{"a directory", t.TempDir(), "not a regular file"},
		{"3 GB sparse, header length 2^63", sparseSafetensors(t, "huge-len.safetensors", 3<<30, 1<<63, ""), "exceeds the file"},
		{"47 MB header", sparseSafetensors(t, "big-header.safetensors", 48<<20, uint64(len(bigHeader)), bigHeader), "exceeds the limit"},
		{"3 GB sparse, header claims 4 bytes of data", sparseSafetensors(t, "padded.safetensors", 3<<30, 0, `{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`), "tensors end at byte 4"},
		{"offsets past the data", sparseSafetensors(t, "past.safetensors", 8+59+4, 0, `{"x":{"dtype":"F32","shape":[9],"data_offsets":[0,36]}}    `), "outside the 4-byte data section"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			alloc := allocated(func() { _, err = ReadSafetensors(tc.path) })
			if err == nil || !strings.Contains(err.Error(), tc.path) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want one naming the file and saying %q", err, tc.want)
			}
			if alloc > 1<<20 {
				t.Errorf("allocated %d bytes before failing", alloc)
			}
			if _, cerr := CheckSafetensorsFile(tc.path, MaxSafetensorsFile); cerr == nil {
				t.Error("CheckSafetensorsFile accepted it")
			}
		})
	}
	good := filepath.Join(t.TempDir(), "good.safetensors")
	if err := tinyModel(t, 1e-6).Save(good, nil, nil); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(good)
	if n, err := CheckSafetensorsFile(good, MaxSafetensorsFile); err != nil || n != st.Size() {
		t.Fatalf("good checkpoint: size %d, %v", n, err)
	}
	if _, err := CheckSafetensorsFile(good, st.Size()-1); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("file limit not applied: %v", err)
	}
}

// Issue 16 item 6: a NaN or infinite weight is reported at load, naming the
// tensor and the element, for both architectures.
func TestLoadRejectsNonFiniteWeights(t *testing.T) {
	dir := t.TempDir()
	m := tinyModel(t, 1e-6)
	tm, _ := NewTransformer(tinyTransformerConfig())
	tm.InitWeights(1)
	for _, tc := range []struct {
		kind   string
		save   func(string) error
		tensor []float32
		name   string
	}{
		{"retnet", func(p string) error { return m.Save(p, nil, nil) }, m.Params.Layers[1].Wg, "layers.1.retention.g_proj.weight"},
		{"transformer", func(p string) error { return tm.Save(p, nil, nil) }, tm.Params.Embed, "embed_tokens.weight"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
				old := tc.tensor[3]
				tc.tensor[3] = bad
				p := filepath.Join(dir, tc.kind+".safetensors")
				if err := tc.save(p); err != nil {
					t.Fatal(err)
				}
				tc.tensor[3] = old
				_, _, err := LoadLanguageModel(p)
				if err == nil || !strings.Contains(err.Error(), tc.name) || !strings.Contains(err.Error(), "element 3") {
					t.Errorf("with %v: err %v, want one naming %s element 3", bad, err, tc.name)
				}
			}
		})
	}
}

// Issue 16 item 7: a RetNet checkpoint with optimizer state (what retlab
// train writes) loads with Load; a Transformer one gets an error that says
// what it is.
func TestLoadReadsTrainCheckpoints(t *testing.T) {
	dir := t.TempDir()
	m := tinyModel(t, 1e-6)
	p := filepath.Join(dir, "train.safetensors")
	optim := []Tensor{{Name: OptimPrefix + "m", Shape: []int{2}, Data: []float32{1, 2}}, {Name: OptimPrefix + "v", Shape: []int{2}, Data: []float32{3, 4}}}
	if err := m.Save(p, optim, map[string]string{"retlab_train": `{"step":3}`}); err != nil {
		t.Fatal(err)
	}
	got, err := Load(p, LoadOptions{})
	if err != nil {
		t.Fatalf("Load of a train checkpoint: %v", err)
	}
	if !slices.Equal(got.Params.Flat, m.Params.Flat) {
		t.Fatal("weights differ after load")
	}
	tm, _ := NewTransformer(tinyTransformerConfig())
	tp := filepath.Join(dir, "transformer.safetensors")
	if err := tm.Save(tp, optim, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(tp, LoadOptions{}); err == nil || !strings.Contains(err.Error(), "a transformer checkpoint") {
		t.Fatalf("Load of a Transformer checkpoint: %v", err)
	}
}
