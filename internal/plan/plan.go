// Package plan is the one rule by which a model's memory meets a batch
// shape. Every model plans its activations for one (B,T) up front and keeps
// that plan in a slot (STYLE.md habit 4, after llm.c's gpt2_forward); Shape
// is the only code that fills such a slot. The same (B,T) gets the plan the
// slot holds; another (B,T) re-plans on purpose: the old plan is released
// and a new one made for the new shape. Nothing is resized in place.
//
// Its users: the CPU models of package retnet (ForwardBackward and Loss,
// one slot each) and the GPU model of retnet/backend/cuda/lm (Logits and
// Prefill share one slot, a Decoder's steps keep their own). The
// explicit-memory APIs of retnet (Activations, TransformerActs, MSRActs)
// never re-plan: handed another shape, they panic.
//
//	a, err := plan.Shape(&m.acts, (*acts).shape, B, T, m.newActs, m.freeActs)
package plan

// Shape returns *slot when it holds a plan for (B,T) (shape reads a plan's
// B and T). Otherwise it releases the plan *slot holds, if any (release,
// when not nil, frees what the garbage collector does not, such as device
// memory), makes a plan for (B,T) with newPlan and keeps it in *slot. When
// release or newPlan fails, *slot is left nil and the error returned.
func Shape[P any](slot **P, shape func(*P) (B, T int), B, T int, newPlan func(B, T int) (*P, error), release func(*P) error) (*P, error) {
	if old := *slot; old != nil {
		if b, t := shape(old); b == B && t == T {
			return old, nil
		}
		*slot = nil
		if release != nil {
			if err := release(old); err != nil {
				return nil, err
			}
		}
	}
	p, err := newPlan(B, T)
	if err != nil {
		return nil, err
	}
	*slot = p
	return p, nil
}
