package retnet

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/retlab/retlab/internal/numtest"
)

func saveTiny(t *testing.T, m *Model, tensors []Tensor, meta map[string]string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "m.safetensors")
	if err := WriteSafetensors(p, tensors, meta); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheckpointRoundTrip(t *testing.T) {
	m := tinyModel(t, 1e-6)
	m.Config.Activation = "gelu"
	p := filepath.Join(t.TempDir(), "m.safetensors")
	if err := m.Save(p, nil, nil); err != nil {
		t.Fatal(err)
	}
	got, err := Load(p, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Config != m.Config {
		t.Errorf("config %+v, want %+v", got.Config, m.Config)
	}
	if d := numtest.MaxAbsDiff(got.Params.Flat, m.Params.Flat); d != 0 {
		t.Errorf("params differ by %g", d)
	}
	// No temp files left behind.
	ents, _ := os.ReadDir(filepath.Dir(p))
	if len(ents) != 1 {
		t.Errorf("directory holds %d entries, want just the checkpoint", len(ents))
	}
}

// Without __metadata__ the config comes from the shapes (heads from the
// decay buffer) with fairseq defaults.
func TestCheckpointInfersConfig(t *testing.T) {
	m := tinyModel(t, 1e-6)
	p := saveTiny(t, m, m.Tensors(), nil)
	got, err := Load(p, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := m.Config
	if got.Config != want {
		t.Errorf("inferred %+v, want %+v", got.Config, want)
	}
	no := true
	got, _ = Load(p, LoadOptions{Activation: "gelu", NoEmbedScale: &no})
	if got.Config.Activation != "gelu" || !got.Config.NoEmbedScale {
		t.Errorf("overrides not applied: %+v", got.Config)
	}
}

func TestCheckpointErrorsNameTheTensor(t *testing.T) {
	m := tinyModel(t, 1e-6)
	all := m.Tensors()
	drop := func(name string) []Tensor {
		var out []Tensor
		for _, t := range all {
			if t.Name != name {
				out = append(out, t)
			}
		}
		return out
	}
	reshape := func(name string, shape []int) []Tensor {
		out := append([]Tensor(nil), all...)
		for i := range out {
			if out[i].Name == name {
				out[i].Shape = shape
			}
		}
		return out
	}
	meta := m.Config.MarshalMetadata()
	cases := []struct {
		name    string
		tensors []Tensor
		meta    map[string]string
		want    string
	}{
		{"missing", drop("layers.1.ffn.gate.weight"), meta, `missing tensor "layers.1.ffn.gate.weight" (shape [20,16])`},
		{"extra", append(append([]Tensor(nil), all...), Tensor{"layers.0.retention.bias", []int{2}, []float32{1, 2}}), meta, `unexpected tensor "layers.0.retention.bias"`},
		{"misshaped", reshape("layers.0.retention.v_proj.weight", []int{16, 24}), meta, `tensor "layers.0.retention.v_proj.weight" has shape [16,24], want [24,16]`},
		{"infer without decay", drop("retnet_rel_pos.decay"), nil, `cannot infer the config without tensor "retnet_rel_pos.decay"`},
		{"bad metadata", all, map[string]string{MetaConfigKey: `{"embed_dim": "x"}`}, "is not a valid config"},
	}
	for _, c := range cases {
		p := saveTiny(t, m, c.tensors, c.meta)
		_, err := Load(p, LoadOptions{})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: err = %v, want it to name %s and the file", c.name, err, c.want)
		}
	}
}

func TestTruncatedAndCorruptFiles(t *testing.T) {
	m := tinyModel(t, 1e-6)
	p := saveTiny(t, m, m.Tensors(), m.Config.MarshalMetadata())
	data, _ := os.ReadFile(p)
	hdr := binary.LittleEndian.Uint64(data)
	cases := map[string][]byte{
		"empty":            nil,
		"short":            data[:5],
		"header past end":  data[:8+hdr/2],
		"truncated data":   data[:len(data)-7],
		"trailing garbage": append(append([]byte(nil), data...), 1, 2, 3),
		"not json":         append(binary.LittleEndian.AppendUint64(nil, 4), []byte("nope")...),
	}
	for name, b := range cases {
		if _, err := ParseSafetensors(b, "x.safetensors"); err == nil {
			t.Errorf("%s: parsed without error", name)
		} else if !strings.Contains(err.Error(), "x.safetensors") {
			t.Errorf("%s: error %v does not name the file", name, err)
		}
	}
}

func TestHalfToFloat32(t *testing.T) {
	cases := map[uint16]float32{0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0001: 5.960464477539063e-08, 0x3555: 0.33325195, 0x0000: 0}
	for h, want := range cases {
		if got := halfToFloat32(h); got != want {
			t.Errorf("half %#04x = %g, want %g", h, got, want)
		}
	}
}

// FuzzParseSafetensors: arbitrary bytes give an error or a file whose tensors
// all convert, never a panic or an allocation beyond the input's size class.
func FuzzParseSafetensors(f *testing.F) {
	m := tinyModel(f, 1e-6)
	var buf bytes.Buffer
	p := filepath.Join(f.TempDir(), "seed.safetensors")
	if err := m.Save(p, nil, nil); err != nil {
		f.Fatal(err)
	}
	data, _ := os.ReadFile(p)
	buf.Write(data)
	f.Add(buf.Bytes())
	f.Add(data[:len(data)/2])
	f.Add([]byte(`{"a":1}`))
	small := []byte(`{"x":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]},"__metadata__":{"k":"v"}}`)
	f.Add(append(append(binary.LittleEndian.AppendUint64(nil, uint64(len(small))), small...), 0, 0, 0x80, 0x3f))
	// Adversarial headers (issue 16): a length of 2^63, one just past the
	// limit, offsets past the data, a data section longer than the tensors,
	// reversed offsets, a NaN weight.
	hdr := func(n uint64, h string, data ...byte) []byte {
		return append(append(binary.LittleEndian.AppendUint64(nil, n), h...), data...)
	}
	f.Add(hdr(1<<63, `{}`))
	f.Add(hdr(MaxSafetensorsHeader+1, `{}`))
	x := `{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`
	f.Add(hdr(uint64(len(x)), x, 0, 0, 0x80))
	f.Add(hdr(uint64(len(x)), x, 0, 0, 0x80, 0x3f, 0, 0, 0, 0))
	rev := `{"x":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}`
	f.Add(hdr(uint64(len(rev)), rev, 0, 0, 0, 0))
	f.Add(hdr(uint64(len(x)), x, 0, 0, 0xc0, 0x7f))
	nan := filepath.Join(f.TempDir(), "nan.safetensors")
	m.Params.Embed[0] = float32(math.NaN())
	if err := m.Save(nan, nil, nil); err != nil {
		f.Fatal(err)
	}
	data, _ = os.ReadFile(nan)
	f.Add(data)
	f.Fuzz(func(t *testing.T, b []byte) {
		tf, err := ParseSafetensors(b, "fuzz")
		if err != nil {
			return
		}
		for _, n := range tf.Names() {
			if d, _, err := tf.Float32(n); err == nil && len(d) > len(b) {
				t.Fatalf("tensor %q has %d floats from %d bytes", n, len(d), len(b))
			}
			tf.Int64(n)
		}
		LoadFrom(tf, LoadOptions{})
	})
}
