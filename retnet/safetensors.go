package retnet

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/nlpodyssey/safetensors"
	"github.com/retlab/retlab/internal/atomicfile"
)

// TensorFile is a parsed safetensors file (header validated: offsets
// contiguous and matching each tensor's dtype and shape). Parsing goes through
// github.com/nlpodyssey/safetensors, a port of the reference Rust reader;
// this type adds dtype conversion to float32 and errors that name the file
// and tensor.
type TensorFile struct {
	Path     string            // for error messages
	Metadata map[string]string // __metadata__ (may be nil)
	st       safetensors.SafeTensors
	names    []string
}

// ReadSafetensors reads and parses a safetensors file. It checks the file
// first (CheckSafetensorsFile with MaxSafetensorsFile): a device, a sparse
// file with a huge header length or a header past MaxSafetensorsHeader fails
// at once, having allocated no more than the header.
func ReadSafetensors(path string) (*TensorFile, error) {
	f, size, err := openSafetensors(path, MaxSafetensorsFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data := make([]byte, size)
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, fmt.Errorf("retnet: %s: reading %d bytes: %w", path, size, err)
	}
	return ParseSafetensors(data, path)
}

// ParseSafetensors parses a whole safetensors file held in data; path is
// used in errors only. Malformed input gives an error, never a panic.
func ParseSafetensors(data []byte, path string) (*TensorFile, error) {
	if len(data) < 8 {
		return nil, fmt.Errorf("retnet: %s: not a safetensors file: %d bytes, need an 8-byte header length", path, len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	if err := checkHeaderLength(n, uint64(len(data)-8)); err != nil {
		return nil, fmt.Errorf("retnet: %s: %w", path, err)
	}
	if err := checkHeaderOffsets(data[8:8+n], uint64(len(data)-8)-n); err != nil {
		return nil, fmt.Errorf("retnet: %s: %w", path, err)
	}
	st, err := safetensors.Deserialize(data)
	if err != nil {
		return nil, fmt.Errorf("retnet: %s: bad safetensors file: %w", path, err)
	}
	f := &TensorFile{Path: path, st: st, names: st.Names()}
	_, md, _ := safetensors.ReadMetadata(data)
	f.Metadata = md.Metadata()
	for _, n := range f.names {
		tv, _ := st.Tensor(n)
		if _, err := shapeInts(tv.Shape()); err != nil {
			return nil, fmt.Errorf("retnet: %s: tensor %q: %w", path, n, err)
		}
	}
	return f, nil
}

// Names lists the tensors in file order.
func (f *TensorFile) Names() []string { return f.names }

// Has reports whether the file holds a tensor called name.
func (f *TensorFile) Has(name string) bool { _, ok := f.st.Tensor(name); return ok }

// Shape returns a tensor's shape and dtype name ("F32", "BF16", ...).
func (f *TensorFile) Shape(name string) ([]int, string, error) {
	tv, s, err := f.view(name)
	return s, tv.DType().String(), err
}

// Raw returns a tensor's bytes as they lie in the file (a view, not a
// copy: for a memory-mapped file, the mapped pages), its shape and dtype
// name. Callers that compute in BF16 or F16 directly use it to avoid a
// float32 copy of the weights.
func (f *TensorFile) Raw(name string) ([]byte, []int, string, error) {
	tv, s, err := f.view(name)
	if err != nil {
		return nil, nil, "", err
	}
	return tv.Data(), s, tv.DType().String(), nil
}

func shapeInts(s []uint64) ([]int, error) {
	out := make([]int, len(s))
	n := uint64(1)
	for i, d := range s {
		if d > math.MaxInt32 {
			return nil, fmt.Errorf("dimension %d is %d, too large", i, d)
		}
		out[i] = int(d)
		n *= d
		if n > math.MaxInt32*8 {
			return nil, fmt.Errorf("shape %v has too many elements", s)
		}
	}
	return out, nil
}

// view returns a tensor's raw view and shape, or an error naming it.
func (f *TensorFile) view(name string) (safetensors.TensorView, []int, error) {
	tv, ok := f.st.Tensor(name)
	if !ok {
		return tv, nil, fmt.Errorf("retnet: %s: no tensor %q", f.Path, name)
	}
	shape, err := shapeInts(tv.Shape())
	if err != nil {
		return tv, nil, fmt.Errorf("retnet: %s: tensor %q: %w", f.Path, name, err)
	}
	return tv, shape, nil
}

// Float32 returns a tensor converted to float32 (from F32, F16, BF16 or
// F64) and its shape.
func (f *TensorFile) Float32(name string) ([]float32, []int, error) {
	tv, shape, err := f.view(name)
	if err != nil {
		return nil, nil, err
	}
	b := tv.Data()
	switch tv.DType() {
	case safetensors.F32:
		out := make([]float32, len(b)/4)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return out, shape, nil
	case safetensors.BF16:
		out := make([]float32, len(b)/2)
		for i := range out {
			out[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[2*i:])) << 16)
		}
		return out, shape, nil
	case safetensors.F16:
		out := make([]float32, len(b)/2)
		for i := range out {
			out[i] = halfToFloat32(binary.LittleEndian.Uint16(b[2*i:]))
		}
		return out, shape, nil
	case safetensors.F64:
		out := make([]float32, len(b)/8)
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
		}
		return out, shape, nil
	}
	return nil, nil, fmt.Errorf("retnet: %s: tensor %q has dtype %s, want F32, F16, BF16 or F64", f.Path, name, tv.DType())
}

// Int64 returns an integer tensor (I64 or I32) widened to int64.
func (f *TensorFile) Int64(name string) ([]int64, []int, error) {
	tv, shape, err := f.view(name)
	if err != nil {
		return nil, nil, err
	}
	b := tv.Data()
	switch tv.DType() {
	case safetensors.I64:
		out := make([]int64, len(b)/8)
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
		}
		return out, shape, nil
	case safetensors.I32:
		out := make([]int64, len(b)/4)
		for i := range out {
			out[i] = int64(int32(binary.LittleEndian.Uint32(b[4*i:])))
		}
		return out, shape, nil
	}
	return nil, nil, fmt.Errorf("retnet: %s: tensor %q has dtype %s, want I64 or I32", f.Path, name, tv.DType())
}

// halfToFloat32 converts an IEEE 754 binary16 value exactly.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	man := uint32(h) & 0x3ff
	switch {
	case exp == 0 && man == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: man * 2^-24
		v := float32(man) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | man<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | man<<13)
}

// f32View adapts a float32 slice to safetensors.View.
type f32View struct {
	shape []uint64
	data  []byte
}

func (v f32View) DType() safetensors.DType { return safetensors.F32 }
func (v f32View) Shape() []uint64          { return v.shape }
func (v f32View) Data() []byte             { return v.data }
func (v f32View) DataLen() uint64          { return uint64(len(v.data)) }

// WriteSafetensors writes tensors as float32 with metadata, atomically: the
// data goes to a temporary file in the same directory, is fsynced, then
// renamed over path, so a crash never leaves a half-written file. It panics
// if a tensor's data does not match its shape.
func WriteSafetensors(path string, tensors []Tensor, metadata map[string]string) (err error) {
	views := make(map[string]f32View, len(tensors))
	for _, t := range tensors {
		if numel(t.Shape) != len(t.Data) {
			panic(fmt.Sprintf("retnet: WriteSafetensors tensor %q shape %v has %d elements, data %d", t.Name, t.Shape, numel(t.Shape), len(t.Data)))
		}
		if _, dup := views[t.Name]; dup {
			panic(fmt.Sprintf("retnet: WriteSafetensors duplicate tensor %q", t.Name))
		}
		sh := make([]uint64, len(t.Shape))
		for i, d := range t.Shape {
			sh[i] = uint64(d)
		}
		b := make([]byte, 4*len(t.Data))
		for i, v := range t.Data {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		views[t.Name] = f32View{sh, b}
	}
	if err := atomicfile.Write(path, func(f *os.File) error {
		return safetensors.SerializeToWriter(views, metadata, f)
	}); err != nil {
		return fmt.Errorf("retnet: %w", err)
	}
	return nil
}

// HalfToFloat32 converts an IEEE 754 binary16 (F16) value to float32 exactly.
func HalfToFloat32(h uint16) float32 { return halfToFloat32(h) }
