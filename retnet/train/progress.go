package train

import (
	"fmt"
	"io"
	"time"

	"github.com/retlab/retlab/display"
	"github.com/retlab/retlab/retnet"
)

// Sink receives a trainer's progress: after every step, the LogEntry the
// trainer has just appended to log.jsonl (the same record), and events as
// text. TextProgress prints lines, DisplayProgress draws a progress bar, a
// viz.LiveTraining chart draws the loss curves; Tee sends to several.
type Sink interface {
	// Update is called after every step with that step's log entry.
	Update(e retnet.LogEntry)
	// Message reports an event: validation, a checkpoint, the end.
	Message(msg string)
}

// session turns a stream of log entries into the figures a progress
// display shows: this session's mean tokens/s and GFLOP/s (the session's
// first step, which plans memory, is warm-up and left out), the latest
// validation loss, and the ETA at the session's mean wall time per step.
type session struct {
	started       bool
	start         time.Time // wall clock at the first entry
	first         retnet.LogEntry
	steps         int // entries seen
	val           *float64
	tokS, gflopsS float64
	mfu           float64 // gflopsS over the entry's PeakGFlopPerS; 0 if unknown
	eta           time.Duration
}

func (s *session) add(e retnet.LogEntry) {
	now := time.Now()
	if !s.started {
		s.started, s.start, s.first = true, now, e
	}
	s.steps++
	if e.ValLoss != nil {
		s.val = e.ValLoss
	}
	s.tokS = e.TokensPerS
	if dt := e.ElapsedS - s.first.ElapsedS; s.steps > 1 && dt > 0 {
		s.tokS = float64(e.Tokens-s.first.Tokens) / dt
	}
	s.gflopsS = 0
	if e.TokensPerS > 0 {
		s.gflopsS = s.tokS * e.GFlopPerS / e.TokensPerS
	}
	s.mfu = 0
	if e.PeakGFlopPerS > 0 {
		s.mfu = s.gflopsS / e.PeakGFlopPerS
	}
	// Mean wall time per step, the first step's StepMs standing for the
	// time before the first entry.
	perStep := (now.Sub(s.start) + time.Duration(s.first.StepMs*float64(time.Millisecond))) / time.Duration(s.steps)
	s.eta = perStep * time.Duration(max(0, e.TotalSteps-e.Step))
}

// TextProgress prints a progress line to W at most every Every (default
// 2s), and always for the last step.
type TextProgress struct {
	W     io.Writer
	Every time.Duration
	last  time.Time
	s     session
}

// Update implements Sink.
func (p *TextProgress) Update(e retnet.LogEntry) {
	p.s.add(e)
	every := p.Every
	if every == 0 {
		every = 2 * time.Second
	}
	if now := time.Now(); now.Sub(p.last) >= every || e.Step == e.TotalSteps {
		p.last = now
		val := ""
		if p.s.val != nil {
			val = fmt.Sprintf("  val %.4f", *p.s.val)
		}
		mfu := ""
		if p.s.mfu > 0 {
			mfu = fmt.Sprintf(" (MFU %.1f%%)", 100*p.s.mfu)
		}
		fmt.Fprintf(p.W, "step %d/%d  loss %.4f%s  lr %.2e  %.0f ms  %.0f tok/s  %.1f GFLOP/s%s  ETA %s\n",
			e.Step, e.TotalSteps, e.Loss, val, e.LR, e.StepMs, p.s.tokS, p.s.gflopsS, mfu, p.s.eta.Round(time.Second))
	}
}

// Message implements Sink.
func (p *TextProgress) Message(msg string) { fmt.Fprintln(p.W, msg) }

// DisplayProgress shows a trainer's progress through package display: a
// tqdm-like bar with loss, tokens/s, learning rate and ETA that updates in
// place as a notebook output under the RetLab kernel, and prints to stderr
// elsewhere. A Trainer with no Progress uses one.
type DisplayProgress struct {
	Desc string // bar label, default "train"
	bar  *display.Progress
	s    session
}

// NewDisplayProgress returns a DisplayProgress labelled desc.
func NewDisplayProgress(desc string) *DisplayProgress { return &DisplayProgress{Desc: desc} }

// Update implements Sink.
func (p *DisplayProgress) Update(e retnet.LogEntry) {
	if p.bar == nil {
		desc := p.Desc
		if desc == "" {
			desc = "train"
		}
		p.bar = display.NewProgress(e.TotalSteps, desc)
		p.bar.SetUnit("step")
		p.s = session{}
	}
	p.s.add(e)
	m := []display.Metric{{Name: "loss", Value: e.Loss}, {Name: "tok/s", Value: p.s.tokS}, {Name: "lr", Value: e.LR}}
	if p.s.mfu > 0 {
		m = append(m, display.Metric{Name: "MFU %", Value: 100 * p.s.mfu})
	}
	if p.s.val != nil {
		m = append(m, display.Metric{Name: "val", Value: *p.s.val})
	}
	p.bar.Set(e.Step, m...)
	if e.Step >= e.TotalSteps {
		p.bar.Close()
		p.bar = nil
	}
}

// Message implements Sink: events (validation, checkpoints, the end)
// go to standard output, which a notebook shows as the cell's text.
func (p *DisplayProgress) Message(msg string) { fmt.Println(msg) }

// silentProgress discards progress.
type silentProgress struct{}

func (silentProgress) Update(retnet.LogEntry) {}
func (silentProgress) Message(string)         {}

// NoProgress is a Sink that shows nothing.
var NoProgress Sink = silentProgress{}

// Tee returns a Sink that passes every update and message to each of
// sinks in turn, e.g. a progress bar and a live chart:
//
//	tr.Progress = train.Tee(train.NewDisplayProgress("train"), live)
func Tee(sinks ...Sink) Sink { return tee(sinks) }

type tee []Sink

func (t tee) Update(e retnet.LogEntry) {
	for _, s := range t {
		s.Update(e)
	}
}

func (t tee) Message(msg string) {
	for _, s := range t {
		s.Message(msg)
	}
}
