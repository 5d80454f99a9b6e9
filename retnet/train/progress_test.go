package train

import (
	"strings"
	"testing"

	"github.com/retlab/retlab/retnet"
)

// The progress line reports the model FLOP/s utilisation next to GFLOP/s
// when the log entry carries the peak, and leaves it out when it does not.
func TestTextProgressMFU(t *testing.T) {
	var b strings.Builder
	p := &TextProgress{W: &b}
	p.Update(retnet.LogEntry{Step: 2, TotalSteps: 2, Loss: 1.5, TokensPerS: 1000, GFlopPerS: 20, PeakGFlopPerS: 160, StepMs: 10})
	if got := b.String(); !strings.Contains(got, "20.0 GFLOP/s (MFU 12.5%)") {
		t.Errorf("progress line %q lacks the MFU", got)
	}
	b.Reset()
	q := &TextProgress{W: &b}
	q.Update(retnet.LogEntry{Step: 2, TotalSteps: 2, TokensPerS: 1000, GFlopPerS: 20})
	if got := b.String(); strings.Contains(got, "MFU") {
		t.Errorf("progress line %q shows an MFU without a peak", got)
	}
}

// cpuPeak measures once per setting and gives a plausible figure on the
// CPU backend.
func TestCPUPeak(t *testing.T) {
	f := cpuPeak()
	if f != 0 && (f < 1e9 || f > 1e13) {
		t.Fatalf("cpuPeak() = %g FLOP/s", f)
	}
	if g := cpuPeak(); g != f {
		t.Fatalf("cpuPeak() changed between calls: %g then %g", f, g)
	}
}
