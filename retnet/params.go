package retnet

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

// RetNet's parameter table: the one list of its tensors (name, shape, view).
// Layout, the allocator, Tensors and the checkpoint loader all walk it.
func retnetSlots[T Float](c Config, p *ParamsOf[T]) []paramSlot[T] {
	D, DV, F, V := c.Dim, c.ValueDim, c.FFNDim, c.Vocab
	if p == nil { // layout only: views into a throwaway struct
		p = &ParamsOf[T]{Layers: make([]LayerParams[T], c.Layers)}
	}
	return lmSlots(V, D, F, c.Layers, &p.Embed, &p.FinalNorm, &p.Out, func(l int, pre string) ([]paramSlot[T], ffnViews[T]) {
		L := &p.Layers[l]
		return []paramSlot[T]{
			{pre + "retention_layer_norm.weight", []int{D}, &L.RetNorm},
			{pre + "retention.q_proj.weight", []int{D, D}, &L.Wq},
			{pre + "retention.k_proj.weight", []int{D, D}, &L.Wk},
			{pre + "retention.v_proj.weight", []int{DV, D}, &L.Wv},
			{pre + "retention.g_proj.weight", []int{DV, D}, &L.Wg},
			{pre + "retention.out_proj.weight", []int{D, DV}, &L.Wo},
		}, ffnViews[T]{&L.FFNNorm, &L.Fc1, &L.Gate, &L.Fc2}
	})
}

// Layout is RetNet's parameter table for c. It panics if c has no layers.
func (c Config) Layout() Layout { return layoutOf(retnetSlots[float32](c, nil)) }

// NewParams allocates zeroed parameters for c (use it for gradients too).
// It panics if c is invalid.
func NewParams(c Config) *Params { return newParams[float32](c) }

func newParams[T Float](c Config) *ParamsOf[T] {
	if err := c.Validate(); err != nil {
		panic(err)
	}
	p := &ParamsOf[T]{Layers: make([]LayerParams[T], c.Layers)}
	p.Flat = allocSlots(retnetSlots(c, p))
	return p
}

// Tensors returns the named views of p in storage order (torchscale names).
func (p *ParamsOf[T]) Tensors(c Config) []TensorOf[T] { return slotTensors(retnetSlots(c, p)) }
