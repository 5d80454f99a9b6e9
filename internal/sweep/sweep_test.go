package sweep_test

import (
	"errors"
	"testing"
	"time"

	"github.com/retlab/retlab/internal/sweep"
)

// Repeat warms up once, times n runs, and sorts them; errors stop it.
func TestRepeat(t *testing.T) {
	calls := 0
	fake := []time.Duration{9, 5, 7, 3} // warm-up, then the timed runs
	clock := func(run func() error) (time.Duration, error) {
		d := fake[calls]
		calls++
		return d, run()
	}
	runs := 0
	s, err := sweep.Repeat(3, func() error { runs++; return nil }, clock)
	if err != nil || runs != 4 || len(s) != 3 || s.Best() != 3 || s.Median() != 5 {
		t.Fatalf("samples %v err %v runs %d: want [3 5 7], 4 runs", s, err, runs)
	}
	boom := errors.New("boom")
	if _, err := sweep.Repeat(2, func() error { return boom }, sweep.Wall); !errors.Is(err, boom) {
		t.Fatalf("error %v, want boom", err)
	}
}
