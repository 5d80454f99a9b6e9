package display

import (
	"fmt"
	"html"
	"math"
	"strings"
	"sync"
	"time"
)

// Metric is a named number shown next to a progress bar, e.g. the loss or
// tokens per second of a training step.
type Metric struct {
	Name  string
	Value float64
}

// String formats m as name=value with 4 significant digits, thousands as k
// and millions as M (tok/s=12.3k).
func (m Metric) String() string { return m.Name + "=" + formatNumber(m.Value) }

func formatNumber(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return fmt.Sprint(v)
	case a >= 1e9:
		return fmt.Sprintf("%.3gG", v/1e9)
	case a >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case a >= 1e4:
		return fmt.Sprintf("%.3gk", v/1e3)
	}
	return fmt.Sprintf("%.4g", v)
}

// ProgressState is one snapshot of a progress bar, what a Sink receives.
type ProgressState struct {
	ID      string        // display id of the bar
	Desc    string        // description, e.g. "train"
	Unit    string        // what is counted, e.g. "step" (default "it")
	Done    int           // items done
	Total   int           // items in all; <= 0 when unknown
	Elapsed time.Duration // since the bar was created
	Rate    float64       // items per second, smoothed; 0 until known
	ETA     time.Duration // time left at Rate; < 0 when unknown
	Metrics []Metric      // the latest metrics given to Set or Add
	Closed  bool          // the final state, sent once by Close
}

// Fraction is Done/Total clamped to [0, 1], or 0 when Total is unknown.
func (s ProgressState) Fraction() float64 {
	if s.Total <= 0 {
		return 0
	}
	return math.Min(1, math.Max(0, float64(s.Done)/float64(s.Total)))
}

const barWidth = 24

// Line renders s as one line of text in the style of tqdm:
//
//	train  42%|##########              | 420/1000 [00:12<00:17, 34.1 step/s] loss=2.31
func (s ProgressState) Line() string {
	var b strings.Builder
	if s.Desc != "" {
		b.WriteString(s.Desc)
		b.WriteString(" ")
	}
	if s.Total > 0 {
		f := s.Fraction()
		fill := int(f * barWidth)
		fmt.Fprintf(&b, "%3d%%|%s%s| %d/%d", int(f*100), strings.Repeat("#", fill), strings.Repeat(" ", barWidth-fill), s.Done, s.Total)
	} else {
		fmt.Fprintf(&b, "%d", s.Done)
	}
	b.WriteString(" [")
	b.WriteString(formatDuration(s.Elapsed))
	if s.Total > 0 {
		b.WriteString("<")
		if s.ETA >= 0 && s.Rate > 0 {
			b.WriteString(formatDuration(s.ETA))
		} else {
			b.WriteString("?")
		}
	}
	b.WriteString(", ")
	b.WriteString(s.rateString())
	b.WriteString("]")
	for _, m := range s.Metrics {
		b.WriteString(" ")
		b.WriteString(m.String())
	}
	return b.String()
}

func (s ProgressState) unit() string {
	if s.Unit == "" {
		return "it"
	}
	return s.Unit
}

func (s ProgressState) rateString() string {
	switch {
	case s.Rate <= 0:
		return "? " + s.unit() + "/s"
	case s.Rate < 1:
		return fmt.Sprintf("%.3g s/%s", 1/s.Rate, s.unit())
	}
	return formatNumber(s.Rate) + " " + s.unit() + "/s"
}

// formatDuration is mm:ss, or h:mm:ss from one hour on.
func formatDuration(d time.Duration) string {
	sec := int64(d.Round(time.Second) / time.Second)
	if sec < 0 {
		sec = 0
	}
	h, m, s := sec/3600, sec/60%60, sec%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%02d:%02d", m, s)
}

// HTML renders s as a small HTML block with a <progress> element.
func (s ProgressState) HTML() string {
	var b strings.Builder
	b.WriteString(`<div class="retlab-progress" style="font-family:monospace;white-space:pre">`)
	if s.Desc != "" {
		b.WriteString(html.EscapeString(s.Desc) + " ")
	}
	if s.Total > 0 {
		fmt.Fprintf(&b, `<progress value="%d" max="%d" style="width:30ex;vertical-align:middle"></progress> %3d%% %d/%d`,
			s.Done, s.Total, int(s.Fraction()*100), s.Done, s.Total)
	} else {
		fmt.Fprintf(&b, `<progress style="width:30ex;vertical-align:middle"></progress> %d`, s.Done)
	}
	rest := strings.TrimPrefix(s.Line(), s.Desc+" ")
	if i := strings.Index(rest, " ["); i >= 0 {
		rest = rest[i:]
	}
	b.WriteString(html.EscapeString(rest))
	b.WriteString("</div>")
	return b.String()
}

// Bundle is the MIME bundle of s: HTML for notebooks, Line as text/plain.
func (s ProgressState) Bundle() Bundle {
	return Bundle{MIMEHTML: s.HTML(), MIMEText: s.Line()}
}

// Progress is a progress bar: a count of items done out of a total, with
// rate, ETA and custom metrics. Create it with NewProgress; its methods are
// safe for concurrent use, and a nil *Progress ignores every call (handy for
// optional progress reporting).
type Progress struct {
	// MinInterval is the least time between two updates sent to the sink
	// (default 100ms); the first state, the state reaching Total and the
	// closing state are always sent.
	MinInterval time.Duration

	mu       sync.Mutex
	st       ProgressState
	start    time.Time
	lastSent time.Time
	rateAt   time.Time // time and count of the last rate sample
	rateDone int
	closed   bool
}

// rateSmoothing is the weight of the newest sample in the rate average
// (tqdm's default).
const rateSmoothing = 0.3

// NewProgress creates a progress bar of total items (<= 0 when unknown)
// described by desc, and shows it at 0.
func NewProgress(total int, desc string) *Progress {
	now := time.Now()
	p := &Progress{MinInterval: 100 * time.Millisecond, start: now, rateAt: now}
	p.st = ProgressState{ID: NewID(), Desc: desc, Total: total, ETA: -1}
	p.send(now)
	return p
}

// SetUnit names what is counted ("step", "tok", "batch"); default "it".
func (p *Progress) SetUnit(unit string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.st.Unit = unit
	p.mu.Unlock()
}

// SetTotal changes the total (<= 0: unknown).
func (p *Progress) SetTotal(total int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.st.Total = total
	p.mu.Unlock()
}

// Set records that done items are finished, with the latest metrics (which
// replace earlier ones when given), and updates the display if MinInterval
// has passed since the last update or done reached the total.
func (p *Progress) Set(done int, metrics ...Metric) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.st.Done = done
	if len(metrics) > 0 {
		p.st.Metrics = append(p.st.Metrics[:0], metrics...)
	}
	now := time.Now()
	finished := p.st.Total > 0 && done >= p.st.Total
	if !finished && now.Sub(p.lastSent) < p.MinInterval {
		return
	}
	p.send(now)
}

// Add records n more items done (see Set).
func (p *Progress) Add(n int, metrics ...Metric) {
	if p == nil {
		return
	}
	p.mu.Lock()
	done := p.st.Done + n
	p.mu.Unlock()
	p.Set(done, metrics...)
}

// State returns the current snapshot (rate and ETA as of the last update).
func (p *Progress) State() ProgressState {
	if p == nil {
		return ProgressState{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.st
	s.Metrics = append([]Metric(nil), s.Metrics...)
	return s
}

// Close sends the final state (rate: the average over the whole run) and
// stops further updates. Calling it again does nothing.
func (p *Progress) Close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	now := time.Now()
	p.st.Closed = true
	p.st.Elapsed = now.Sub(p.start)
	if sec := p.st.Elapsed.Seconds(); sec > 0 && p.st.Done > 0 {
		p.st.Rate = float64(p.st.Done) / sec
	}
	p.st.ETA = 0
	p.emit()
}

// send updates elapsed, rate and ETA and hands a snapshot to the sink; p.mu held.
func (p *Progress) send(now time.Time) {
	p.st.Elapsed = now.Sub(p.start)
	if dt := now.Sub(p.rateAt).Seconds(); dt > 0 && p.st.Done != p.rateDone {
		inst := float64(p.st.Done-p.rateDone) / dt
		if p.st.Rate <= 0 {
			p.st.Rate = inst
		} else {
			p.st.Rate = rateSmoothing*inst + (1-rateSmoothing)*p.st.Rate
		}
		p.rateAt, p.rateDone = now, p.st.Done
	}
	p.st.ETA = -1
	if p.st.Total > 0 && p.st.Rate > 0 {
		left := float64(p.st.Total - p.st.Done)
		p.st.ETA = time.Duration(math.Max(0, left/p.st.Rate) * float64(time.Second))
	}
	p.lastSent = now
	p.emit()
}

// emit hands a copy of the state to the sink; p.mu held. Sinks must not call
// back into p.
func (p *Progress) emit() {
	s := p.st
	s.Metrics = append([]Metric(nil), s.Metrics...)
	CurrentSink().Progress(s)
}

// DiscardSink drops everything: SetSink(DiscardSink{}) silences display
// output, e.g. in benchmarks.
type DiscardSink struct{}

func (DiscardSink) Display(Bundle, string, bool) {}
func (DiscardSink) Clear(bool)                   {}
func (DiscardSink) Progress(ProgressState)       {}
