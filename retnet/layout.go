package retnet

import (
	"fmt"
	"strconv"
)

// A model's parameters are one flat slice with named views into it (llm.c
// style). Each architecture declares its tensors once, as a table of slots
// (retnetSlots in params.go, transformerSlots in transformer.go); from that
// table come the public Layout, the one allocator (allocSlots), the
// checkpoint names (slotTensors) and the checkpoint shape checks
// (checkLayout), so they cannot disagree.

// Slot is one tensor of a model's parameter table.
type Slot struct {
	Name   string // checkpoint name (torchscale state_dict key)
	Shape  []int  // e.g. [V D] for embed_tokens.weight
	Offset int    // first element in the flat parameter slice
	Size   int    // elements: the product of Shape
}

// Layout is a model's parameter table: every trainable tensor in storage
// order. Params.Flat, the gradients, the optimizer moments and a checkpoint's
// tensors all follow it. Config.Layout and TransformerConfig.Layout build
// it; it is sized once, from the config alone.
type Layout struct {
	Slots []Slot
	Size  int // total elements: len(Params.Flat)
}

// Slot returns the slot named name.
func (l Layout) Slot(name string) (Slot, bool) {
	for _, s := range l.Slots {
		if s.Name == name {
			return s, true
		}
	}
	return Slot{}, false
}

// paramSlot is one entry of a parameter table: a name, a shape and the view
// field to point at its part of the flat storage.
type paramSlot[T Float] struct {
	name  string
	shape []int
	view  *[]T
}

// ffnViews are the views of a block's FFN half: its pre-norm and GLU weights.
type ffnViews[T Float] struct{ norm, fc1, gate, fc2 *[]T }

// lmSlots is the table both architectures share around their token mixers:
// embed_tokens, then per block l the mixer's slots (from block) followed by
// final_layer_norm and the GLU's fc1, gate, fc2, then layer_norm and
// output_projection.
func lmSlots[T Float](V, D, F, L int, embed, finalNorm, out *[]T, block func(l int, pre string) ([]paramSlot[T], ffnViews[T])) []paramSlot[T] {
	s := make([]paramSlot[T], 0, 3+10*L)
	s = append(s, paramSlot[T]{"embed_tokens.weight", []int{V, D}, embed})
	for l := 0; l < L; l++ {
		pre := "layers." + strconv.Itoa(l) + "."
		mixer, f := block(l, pre)
		s = append(append(s, mixer...),
			paramSlot[T]{pre + "final_layer_norm.weight", []int{D}, f.norm},
			paramSlot[T]{pre + "ffn.fc1.weight", []int{F, D}, f.fc1},
			paramSlot[T]{pre + "ffn.gate.weight", []int{F, D}, f.gate},
			paramSlot[T]{pre + "ffn.fc2.weight", []int{D, F}, f.fc2},
		)
	}
	return append(s,
		paramSlot[T]{"layer_norm.weight", []int{D}, finalNorm},
		paramSlot[T]{"output_projection.weight", []int{V, D}, out})
}

// layoutOf is the public Layout of a parameter table.
func layoutOf[T Float](slots []paramSlot[T]) Layout {
	l := Layout{Slots: make([]Slot, len(slots))}
	for i, s := range slots {
		n := numel(s.shape)
		l.Slots[i] = Slot{Name: s.name, Shape: s.shape, Offset: l.Size, Size: n}
		l.Size += n
	}
	return l
}

// allocSlots allocates one zeroed flat slice for the table and points every
// view at its part (capacity-capped, so an append cannot spill into the next
// tensor). It returns the flat slice.
func allocSlots[T Float](slots []paramSlot[T]) []T {
	l := layoutOf(slots)
	flat := make([]T, l.Size)
	for i, s := range l.Slots {
		*slots[i].view = flat[s.Offset : s.Offset+s.Size : s.Offset+s.Size]
	}
	return flat
}

// slotTensors returns the table's views as named tensors, in storage order.
func slotTensors[T Float](slots []paramSlot[T]) []TensorOf[T] {
	out := make([]TensorOf[T], len(slots))
	for i, s := range slots {
		out[i] = TensorOf[T]{Name: s.name, Shape: s.shape, Data: *s.view}
	}
	return out
}

// checkLayout checks, before anything is allocated, that f holds exactly the
// tensors of layout with their shapes, plus the buffers in extra (name ->
// shape) and any tensor whose name starts with one of allow. Errors name the
// file, the tensor and what was wanted for cfg.
func checkLayout(f *TensorFile, layout Layout, extra []Slot, allow []string, cfg fmt.Stringer) error {
	want := make(map[string]bool, len(layout.Slots)+len(extra))
	for _, s := range append(layout.Slots[:len(layout.Slots):len(layout.Slots)], extra...) {
		if !f.Has(s.Name) {
			return fmt.Errorf("retnet: %s: missing tensor %q (shape %s) for %s", f.Path, s.Name, shapeString(s.Shape), cfg)
		}
		if got, _, _ := f.Shape(s.Name); !equalInts(got, s.Shape) {
			return fmt.Errorf("retnet: %s: tensor %q has shape %s, want %s for %s", f.Path, s.Name, shapeString(got), shapeString(s.Shape), cfg)
		}
		want[s.Name] = true
	}
	for _, n := range f.Names() {
		if !want[n] && !hasAnyPrefix(n, allow) {
			return fmt.Errorf("retnet: %s: unexpected tensor %q (not part of %s)", f.Path, n, cfg)
		}
	}
	return nil
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

// Activations are planned from a table too: each architecture lists the
// buffers of a (B,T) plan once (ActivationsOf.table, TransformerActsOf.table),
// and allocation and the byte count both walk that list.

// actSlot is one activation buffer of a plan and its length.
type actSlot[T Float] struct {
	buf *[]T
	n   int
}

// allocActs allocates every buffer of an activation table.
func allocActs[T Float](slots []actSlot[T]) {
	for _, s := range slots {
		*s.buf = make([]T, s.n)
	}
}

// actsLen is the number of elements an activation table holds.
func actsLen[T Float](slots []actSlot[T]) int64 {
	var n int64
	for _, s := range slots {
		n += int64(len(*s.buf))
	}
	return n
}

// blockActs are the buffers both architectures' blocks keep around their
// mixer, for N = B*T rows: the block input and its pre-norm, the residual
// and its FFN pre-norm, and the GLU's activations.
func blockActs[T Float](N, D, F int, x, xn, xnRstd, h, hn, hnRstd *[]T, ffn *GLUActs[T]) []actSlot[T] {
	return []actSlot[T]{{x, N * D}, {xn, N * D}, {xnRstd, N}, {h, N * D}, {hn, N * D}, {hnRstd, N},
		{&ffn.FC1, N * F}, {&ffn.GateOut, N * F}, {&ffn.Act, N * F}}
}
