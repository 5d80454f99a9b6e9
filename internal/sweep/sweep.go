// Package sweep is what every RetLab benchmark shares, CPU and GPU alike:
// one timing policy (Repeat: one untimed warm-up run, then n timed runs;
// the best and the median of the samples), and a sweep's progress bar that
// stops the sweep at the user's interrupt (display.ErrInterrupted).
package sweep

import (
	"slices"
	"time"

	"github.com/retlab/retlab/display"
)

// Clock times one run: Wall for host code, a device-event timer for GPU
// kernels.
type Clock func(run func() error) (time.Duration, error)

// Wall times run by the wall clock.
func Wall(run func() error) (time.Duration, error) {
	t0 := time.Now()
	err := run()
	return time.Since(t0), err
}

// Samples are the timed runs of one point, fastest first.
type Samples []time.Duration

// Best is the fastest run: the figure a benchmark reports as its time, the
// least disturbed by other load on the machine.
func (s Samples) Best() time.Duration { return s[0] }

// Median is the middle run (the upper one of an even count).
func (s Samples) Median() time.Duration { return s[len(s)/2] }

// Repeat is the one timing policy: run once untimed by clock (warm-up:
// allocation, caches, first launches), then n >= 1 times timed by clock. It
// returns the samples sorted, or the first error of run. It panics if n < 1.
func Repeat(n int, run func() error, clock Clock) (Samples, error) {
	if n < 1 {
		panic("sweep: Repeat needs n >= 1")
	}
	if _, err := clock(run); err != nil {
		return nil, err
	}
	s := make(Samples, n)
	for i := range s {
		d, err := clock(run)
		if err != nil {
			return nil, err
		}
		s[i] = d
	}
	slices.Sort(s)
	return s, nil
}

// Sweep is a benchmark sweep's progress: a bar over its points (a notebook
// output under the kernel, a stderr line elsewhere).
type Sweep struct{ bar *display.Progress }

// Start shows a bar of points points labelled desc.
func Start(points int, desc string) *Sweep {
	bar := display.NewProgress(points, desc)
	bar.SetUnit("point")
	return &Sweep{bar: bar}
}

// Check returns display.ErrInterrupted if the user asked to stop (call it
// before each point and return what was measured so far), else nil.
func (s *Sweep) Check() error { return display.CheckInterrupt() }

// Done marks one point measured, showing its headline figure.
func (s *Sweep) Done(m display.Metric) { s.bar.Add(1, m) }

// Close finishes the bar.
func (s *Sweep) Close() { s.bar.Close() }
