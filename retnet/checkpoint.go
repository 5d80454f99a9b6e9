package retnet

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Checkpoints are safetensors files with torchscale's state_dict names (see
// Params), float32, plus the buffers retnet_rel_pos.angle (dk) and
// retnet_rel_pos.decay (H). The config is stored as JSON in __metadata__
// under "retlab_config"; without it, the config is inferred from the shapes.

// MetaConfigKey is the __metadata__ key holding the config JSON.
const MetaConfigKey = "retlab_config"

// Buffer names in torchscale's state_dict.
const (
	angleName = "retnet_rel_pos.angle"
	decayName = "retnet_rel_pos.decay"
)

// Tensors returns every tensor a checkpoint of m holds: parameters, then the
// angle and decay buffers (views, not copies).
func (m *ModelOf[T]) Tensors() []TensorOf[T] {
	ts := m.Params.Tensors(m.Config)
	return append(ts,
		TensorOf[T]{Name: angleName, Shape: []int{len(m.Angle)}, Data: m.Angle},
		TensorOf[T]{Name: decayName, Shape: []int{len(m.LogGamma)}, Data: m.LogGamma},
	)
}

// Save writes m to path as a safetensors checkpoint, atomically (temp file,
// fsync, rename). extra tensors (e.g. optimizer state) and metadata are
// added; their names must not clash with the model's.
func (m *ModelOf[T]) Save(path string, extra []Tensor, metadata map[string]string) error {
	md := m.Config.MarshalMetadata()
	for k, v := range metadata {
		md[k] = v
	}
	return WriteSafetensors(path, append(float32Tensors(m.Tensors()), extra...), md)
}

// float32Tensors returns ts as float32 tensors: the same views for float32,
// converted copies otherwise.
func float32Tensors[T Float](ts []TensorOf[T]) []Tensor {
	if t32, ok := any(ts).([]Tensor); ok {
		return t32
	}
	out := make([]Tensor, len(ts))
	for i, t := range ts {
		d := make([]float32, len(t.Data))
		for j, v := range t.Data {
			d[j] = float32(v)
		}
		out[i] = Tensor{Name: t.Name, Shape: t.Shape, Data: d}
	}
	return out
}

// LoadOptions override parts of a checkpoint's config: fields left at their
// zero value keep the checkpoint's value (or the default when the checkpoint
// has no config metadata).
type LoadOptions struct {
	Activation   string // "swish" or "gelu"
	NoEmbedScale *bool  // embedding scale off/on
	// AllowExtra lists name prefixes of extra tensors to ignore; any other
	// unknown tensor is an error. The optimizer state retlab train stores
	// (OptimPrefix) is always ignored, so every checkpoint it writes loads.
	AllowExtra []string
}

// Load reads a checkpoint written by Save or converted from torchscale.
func Load(path string, opt LoadOptions) (*Model, error) {
	f, err := ReadSafetensors(path)
	if err != nil {
		return nil, err
	}
	return LoadFrom(f, opt)
}

// LoadFrom builds a model from a parsed checkpoint. Every parameter must be
// present with the config's shape; F16/BF16 tensors are converted. Errors name
// the file and the tensor that is missing, extra or mis-shaped.
func LoadFrom(f *TensorFile, opt LoadOptions) (*Model, error) {
	if k := KindOf(f); k != KindRetNet {
		return nil, fmt.Errorf("retnet: %s: a %s checkpoint, not a RetNet one (LoadLanguageModel reads both)", f.Path, k)
	}
	c, err := checkpointConfig(f)
	if err != nil {
		return nil, err
	}
	if opt.Activation != "" {
		c.Activation = opt.Activation
	}
	if opt.NoEmbedScale != nil {
		c.NoEmbedScale = *opt.NoEmbedScale
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("retnet: %s: %w", f.Path, err)
	}
	// Check names and shapes before allocating: a config claiming more
	// layers than the file could hold fails here, cheaply.
	if c.Layers > len(f.Names()) {
		return nil, fmt.Errorf("retnet: %s: config has %d layers but the file holds only %d tensors", f.Path, c.Layers, len(f.Names()))
	}
	buffers := []Slot{{Name: angleName, Shape: []int{c.KeyHeadDim()}}, {Name: decayName, Shape: []int{c.Heads}}}
	if err := checkLayout(f, c.Layout(), buffers, append([]string{OptimPrefix}, opt.AllowExtra...), c); err != nil {
		return nil, err
	}
	m, err := New(c)
	if err != nil {
		return nil, err
	}
	for _, t := range m.Tensors() {
		data, _, err := f.Float32(t.Name)
		if err != nil {
			return nil, err
		}
		if err := checkFinite(f.Path, t.Name, data); err != nil {
			return nil, err
		}
		copy(t.Data, data)
	}
	return m, nil
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

var layerName = regexp.MustCompile(`^layers\.(\d+)\.`)

// checkpointConfig reads the config from metadata, or infers it from the
// tensor shapes: V, D from embed_tokens.weight, H from retnet_rel_pos.decay,
// DV from layer 0's v_proj, F from layer 0's fc1, L from the layer indices.
// Inferred configs use the fairseq defaults (swish, sqrt(D) embedding scale).
func checkpointConfig(f *TensorFile) (Config, error) {
	if js, ok := f.Metadata[MetaConfigKey]; ok {
		var c Config
		dec := json.NewDecoder(strings.NewReader(js))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return Config{}, fmt.Errorf("retnet: %s: __metadata__ %s is not a valid config: %w", f.Path, MetaConfigKey, err)
		}
		return c.WithDefaults(), nil
	}
	shape := func(name string, rank int) ([]int, error) {
		s, _, err := f.Shape(name)
		if err != nil {
			return nil, fmt.Errorf("retnet: %s: cannot infer the config without tensor %q", f.Path, name)
		}
		if len(s) != rank {
			return nil, fmt.Errorf("retnet: %s: tensor %q has shape %s, want rank %d", f.Path, name, shapeString(s), rank)
		}
		return s, nil
	}
	emb, err := shape("embed_tokens.weight", 2)
	if err != nil {
		return Config{}, err
	}
	dec, err := shape(decayName, 1)
	if err != nil {
		return Config{}, err
	}
	v, err := shape("layers.0.retention.v_proj.weight", 2)
	if err != nil {
		return Config{}, err
	}
	fc1, err := shape("layers.0.ffn.fc1.weight", 2)
	if err != nil {
		return Config{}, err
	}
	seen := map[int]bool{}
	for _, n := range f.Names() {
		if m := layerName.FindStringSubmatch(n); m != nil {
			i, err := strconv.Atoi(m[1])
			if err != nil || i > 1<<16 {
				return Config{}, fmt.Errorf("retnet: %s: tensor %q has a bad layer index", f.Path, n)
			}
			seen[i] = true
		}
	}
	idx := make([]int, 0, len(seen))
	for i := range seen {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	for k, i := range idx {
		if i != k {
			return Config{}, fmt.Errorf("retnet: %s: layer %d has no tensors but layer %d does", f.Path, k, i)
		}
	}
	c := Config{Vocab: emb[0], Dim: emb[1], ValueDim: v[0], FFNDim: fc1[0], Layers: len(idx), Heads: dec[0]}.WithDefaults()
	// Recognise the paper schedule from the stored decays; torchscale otherwise.
	if d, _, err := f.Float32(decayName); err == nil && c.Heads > 0 {
		paper := LogGammas(SchedulePaper, c.Heads)
		same := true
		for h := range d {
			if diff := d[h] - paper[h]; diff > 1e-6 || diff < -1e-6 {
				same = false
			}
		}
		if same && c.Heads > 1 {
			c.Schedule = SchedulePaper
		}
	}
	return c, nil
}
