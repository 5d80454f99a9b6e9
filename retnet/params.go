package retnet

import (
	"strconv"
)

// Params holds every trainable parameter of a RetNet LM as named views over
// one flat slice (llm.c style): gradients and AdamW moments mirror it, so the
// optimizer is one flat loop and a checkpoint one write. Names in comments
// are torchscale's state_dict keys.
type Params = ParamsOf[float32]

// ParamsOf is Params with element type T (float64 for gradient checks).
type ParamsOf[T Float] struct {
	Flat      []T              // all parameters, in Tensors() order
	Embed     []T              // (V,D) embed_tokens.weight
	Layers    []LayerParams[T] // L blocks
	FinalNorm []T              // (D) layer_norm.weight
	Out       []T              // (V,D) output_projection.weight
}

// LayerParams are the views of one decoder block.
type LayerParams[T Float] struct {
	RetNorm []T // (D) layers.l.retention_layer_norm.weight
	Wq      []T // (D,D) layers.l.retention.q_proj.weight
	Wk      []T // (D,D) layers.l.retention.k_proj.weight
	Wv      []T // (DV,D) layers.l.retention.v_proj.weight
	Wg      []T // (DV,D) layers.l.retention.g_proj.weight
	Wo      []T // (D,DV) layers.l.retention.out_proj.weight
	FFNNorm []T // (D) layers.l.final_layer_norm.weight
	Fc1     []T // (F,D) layers.l.ffn.fc1.weight
	Gate    []T // (F,D) layers.l.ffn.gate.weight
	Fc2     []T // (D,F) layers.l.ffn.fc2.weight
}

// Tensor is a named, shaped view of parameter (or buffer) data.
type Tensor = TensorOf[float32]

// TensorOf is Tensor with element type T.
type TensorOf[T Float] struct {
	Name  string
	Shape []int
	Data  []T
}

// paramSlot is one entry of the parameter layout: a name, a shape and the
// view field to point at the flat storage.
type paramSlot[T Float] struct {
	name  string
	shape []int
	view  *[]T
}

// eachSlot calls fn for each entry of the parameter layout of config c, in
// storage order, stopping when fn returns false. With p == nil the views are
// nil: the layout can be walked without allocating anything.
func eachSlot[T Float](c Config, p *ParamsOf[T], fn func(paramSlot[T]) bool) {
	D, DV, F, V := c.Dim, c.ValueDim, c.FFNDim, c.Vocab
	views := p != nil
	if !views {
		p = &ParamsOf[T]{}
	}
	view := func(v *[]T) *[]T {
		if !views {
			return nil
		}
		return v
	}
	var none LayerParams[T]
	lp := func(l int) *LayerParams[T] {
		if !views {
			return &none
		}
		return &p.Layers[l]
	}
	if !fn(paramSlot[T]{"embed_tokens.weight", []int{V, D}, view(&p.Embed)}) {
		return
	}
	for l := 0; l < c.Layers; l++ {
		L := lp(l)
		pre := "layers." + strconv.Itoa(l) + "."
		for _, s := range []paramSlot[T]{
			{pre + "retention_layer_norm.weight", []int{D}, view(&L.RetNorm)},
			{pre + "retention.q_proj.weight", []int{D, D}, view(&L.Wq)},
			{pre + "retention.k_proj.weight", []int{D, D}, view(&L.Wk)},
			{pre + "retention.v_proj.weight", []int{DV, D}, view(&L.Wv)},
			{pre + "retention.g_proj.weight", []int{DV, D}, view(&L.Wg)},
			{pre + "retention.out_proj.weight", []int{D, DV}, view(&L.Wo)},
			{pre + "final_layer_norm.weight", []int{D}, view(&L.FFNNorm)},
			{pre + "ffn.fc1.weight", []int{F, D}, view(&L.Fc1)},
			{pre + "ffn.gate.weight", []int{F, D}, view(&L.Gate)},
			{pre + "ffn.fc2.weight", []int{D, F}, view(&L.Fc2)},
		} {
			if !fn(s) {
				return
			}
		}
	}
	if fn(paramSlot[T]{"layer_norm.weight", []int{D}, view(&p.FinalNorm)}) {
		fn(paramSlot[T]{"output_projection.weight", []int{V, D}, view(&p.Out)})
	}
}

// slots lists the parameter layout of p for config c, in storage order.
func (p *ParamsOf[T]) slots(c Config) []paramSlot[T] {
	var s []paramSlot[T]
	eachSlot(c, p, func(ps paramSlot[T]) bool { s = append(s, ps); return true })
	return s
}

// NewParams allocates zeroed parameters for c (use it for gradients too).
// It panics if c is invalid.
func NewParams(c Config) *Params { return newParams[float32](c) }

func newParams[T Float](c Config) *ParamsOf[T] {
	if err := c.Validate(); err != nil {
		panic(err)
	}
	p := &ParamsOf[T]{Layers: make([]LayerParams[T], c.Layers)}
	slots := p.slots(c)
	n := 0
	for _, s := range slots {
		n += numel(s.shape)
	}
	p.Flat = make([]T, n)
	off := 0
	for _, s := range slots {
		k := numel(s.shape)
		*s.view = p.Flat[off : off+k : off+k]
		off += k
	}
	return p
}

// Tensors returns the named views of p in storage order (torchscale names).
func (p *ParamsOf[T]) Tensors(c Config) []TensorOf[T] {
	slots := p.slots(c)
	out := make([]TensorOf[T], len(slots))
	for i, s := range slots {
		out[i] = TensorOf[T]{Name: s.name, Shape: s.shape, Data: *s.view}
	}
	return out
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

func shapeString(s []int) string {
	out := "["
	for i, d := range s {
		if i > 0 {
			out += ","
		}
		out += strconv.Itoa(d)
	}
	return out + "]"
}
