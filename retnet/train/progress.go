package train

import (
	"fmt"

	"github.com/retlab/retlab/display"
)

// DisplayProgress shows a trainer's progress through package display: a
// tqdm-like bar with loss, tokens/s, learning rate and ETA that updates in
// place as a notebook output under the RetLab kernel, and prints to stderr
// elsewhere. A Trainer with no Progress uses one.
type DisplayProgress struct {
	Desc string // bar label, default "train"
	bar  *display.Progress
}

// NewDisplayProgress returns a DisplayProgress labelled desc.
func NewDisplayProgress(desc string) *DisplayProgress { return &DisplayProgress{Desc: desc} }

// Update implements Sink.
func (p *DisplayProgress) Update(s Progress) {
	if p.bar == nil {
		desc := p.Desc
		if desc == "" {
			desc = "train"
		}
		p.bar = display.NewProgress(s.Steps, desc)
		p.bar.SetUnit("step")
	}
	m := []display.Metric{{Name: "loss", Value: s.Loss}, {Name: "tok/s", Value: s.TokensPerS}, {Name: "lr", Value: s.LR}}
	if s.ValLoss != nil {
		m = append(m, display.Metric{Name: "val", Value: *s.ValLoss})
	}
	p.bar.Set(s.Step, m...)
	if s.Step >= s.Steps {
		p.bar.Close()
		p.bar = nil
	}
}

// Message implements Sink: events (validation, checkpoints, the end)
// go to standard output, which a notebook shows as the cell's text.
func (p *DisplayProgress) Message(msg string) { fmt.Println(msg) }

// silentProgress discards progress.
type silentProgress struct{}

func (silentProgress) Update(Progress) {}
func (silentProgress) Message(string)  {}

// NoProgress is a Sink that shows nothing.
var NoProgress Sink = silentProgress{}
