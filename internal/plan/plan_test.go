package plan

import (
	"errors"
	"testing"
)

type shaped struct{ B, T int }

func (s *shaped) shape() (int, int) { return s.B, s.T }

// The same shape keeps its plan; another releases the old one first and
// plans the new; a failure leaves the slot empty.
func TestShape(t *testing.T) {
	var slot *shaped
	var made, released []shaped
	newPlan := func(B, T int) (*shaped, error) {
		made = append(made, shaped{B, T})
		return &shaped{B, T}, nil
	}
	release := func(p *shaped) error { released = append(released, *p); return nil }

	first, err := Shape(&slot, (*shaped).shape, 2, 4, newPlan, release)
	if err != nil || slot != first || len(made) != 1 || len(released) != 0 {
		t.Fatalf("first plan: %v, made %v, released %v", err, made, released)
	}
	if again, _ := Shape(&slot, (*shaped).shape, 2, 4, newPlan, release); again != first || len(made) != 1 {
		t.Errorf("the same (B,T) re-planned: made %v", made)
	}
	second, _ := Shape(&slot, (*shaped).shape, 1, 8, newPlan, release)
	if second == first || slot != second || len(released) != 1 || released[0] != (shaped{2, 4}) || made[1] != (shaped{1, 8}) {
		t.Errorf("a new (B,T): made %v, released %v", made, released)
	}

	bad := errors.New("out of device memory")
	if _, err := Shape(&slot, (*shaped).shape, 3, 3, func(int, int) (*shaped, error) { return nil, bad }, release); !errors.Is(err, bad) || slot != nil {
		t.Errorf("failed plan: err %v, slot %v", err, slot)
	}
	if len(released) != 2 {
		t.Errorf("the old plan was not released before planning anew: %v", released)
	}
	slot = &shaped{1, 1}
	if _, err := Shape(&slot, (*shaped).shape, 2, 2, newPlan, func(*shaped) error { return bad }); !errors.Is(err, bad) || slot != nil {
		t.Errorf("failed release: err %v, slot %v", err, slot)
	}
	// Without release (Go memory) the old plan is simply dropped.
	if p, err := Shape(&slot, (*shaped).shape, 5, 1, newPlan, nil); err != nil || slot != p || *p != (shaped{5, 1}) {
		t.Errorf("plan without release: %v, %v", p, err)
	}
}
