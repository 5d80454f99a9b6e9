package viz

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/retlab/retlab/display"
	"github.com/retlab/retlab/retnet"
)

// Run is one training run's log, as read from DIR/log.jsonl
// (ReadTrainingLog), under a display name.
type Run struct {
	Name string
	Log  []retnet.LogEntry
}

// TrainingOptions configures TrainingCurves and LiveTraining.
type TrainingOptions struct {
	Style
	// X is "step" (default) or "tokens".
	X string
	// Y is "loss" (default, nats) or "ppl" (exp(loss)).
	Y string
	// LogY draws the y axis on a log scale.
	LogY bool
	// Smooth is the weight of an exponential moving average over the
	// training loss in [0, 1) (0: raw). Validation points are never smoothed.
	Smooth float64
	// Run names the run LiveTraining.Update adds to (default "train").
	Run string
	// Refresh is the shortest time between two in-place redraws by
	// LiveTraining.Update (default 500ms; the last step always redraws).
	Refresh time.Duration
}

func (o TrainingOptions) check() (string, string) {
	x, y := o.X, o.Y
	if x == "" {
		x = "step"
	}
	if y == "" {
		y = "loss"
	}
	if x != "step" && x != "tokens" {
		panic(fmt.Sprintf("viz: training chart X %q: want step or tokens", o.X))
	}
	if y != "loss" && y != "ppl" {
		panic(fmt.Sprintf("viz: training chart Y %q: want loss or ppl", o.Y))
	}
	if !(o.Smooth >= 0 && o.Smooth < 1) {
		panic(fmt.Sprintf("viz: training chart Smooth %v: want [0, 1)", o.Smooth))
	}
	return x, y
}

// TrainingCurves draws training loss (solid) and validation loss (dashed,
// with markers, from entries that have ValLoss) against step or tokens, one
// colour per run. Y "ppl" draws exp(loss) instead.
//
// It panics if X, Y or Smooth is invalid.
func TrainingCurves(runs []Run, o TrainingOptions) *Figure {
	xKey, yKey := o.check()
	var series []xySeries
	n := 0
	for i, r := range runs {
		c := o.color(i)
		tr := xySeries{name: r.Name + " train", color: c, width: 1.5}
		va := xySeries{name: r.Name + " val", color: c, dashed: true, symbol: true, width: 2}
		ema, first := 0.0, true
		for _, e := range r.Log {
			x := float64(e.Step)
			if xKey == "tokens" {
				x = float64(e.Tokens)
			}
			l := e.Loss
			if o.Smooth > 0 {
				if first {
					ema = l
				} else {
					ema = o.Smooth*ema + (1-o.Smooth)*l
				}
				l = ema
			}
			first = false
			tr.points = append(tr.points, [2]float64{x, lossAs(l, yKey)})
			if e.ValLoss != nil {
				va.points = append(va.points, [2]float64{x, lossAs(*e.ValLoss, yKey)})
			}
			n++
		}
		series = append(series, tr)
		if len(va.points) > 0 {
			series = append(series, va)
		}
	}
	xName := "step"
	if xKey == "tokens" {
		xName = "tokens trained"
	}
	yName := "loss (nats)"
	if yKey == "ppl" {
		yName = "perplexity"
	}
	panel := xyPanel{x: axisSpec{name: xName}, y: axisSpec{name: yName, log: o.LogY}, series: series}
	sub := "solid: training loss"
	if o.Smooth > 0 {
		sub += fmt.Sprintf(" (EMA %.2g)", o.Smooth)
	}
	sub += "; dashed: validation"
	title := "Training loss"
	if yKey == "ppl" {
		title = "Training perplexity"
	}
	names := legendNames([]xyPanel{panel})
	f := xyFigure("training-curves", o.Style, o.title(title), o.subtitle(sub), []xyPanel{panel}, 1, 820, 440+legendHeight(names, 820))
	// Scale y to the data, not to 0: losses sit far from it.
	if ya, ok := f.Option["yAxis"].([]any); ok && !o.LogY {
		ya[0].(map[string]any)["scale"] = true
	}
	f.Summary = fmt.Sprintf("viz.TrainingCurves: %d runs, %d points", len(runs), n)
	return f
}

func lossAs(l float64, y string) float64 {
	if y == "ppl" {
		return math.Exp(l)
	}
	return l
}

// LiveTraining is a training chart that grows while a run trains. It is a
// trainer progress sink (train.Sink): Update adds the step's log entry to
// run opt.Run and redraws the chart in place, at most every opt.Refresh.
// Add appends entries to any run by hand (safe from any goroutine). Each
// MIMEBundle carries the same DisplayID, and its HTML updates the chart
// already on the page in place (setOption on the existing ECharts instance)
// instead of drawing a new one. With the display package:
//
//	live := viz.NewLiveTraining(viz.TrainingOptions{Run: "base"})
//	display.Show(live)                  // once, with live.DisplayID()
//	tr.Progress = train.Tee(train.NewDisplayProgress("train"), live)
type LiveTraining struct {
	mu    sync.Mutex
	opt   TrainingOptions
	runs  []Run
	id    string
	drawn time.Time // last redraw by Update
}

// NewLiveTraining returns an empty live chart with a fresh display id.
// It panics if o is invalid (see TrainingOptions).
func NewLiveTraining(o TrainingOptions) *LiveTraining {
	o.check()
	return &LiveTraining{opt: o, id: "retlab-live-" + newID()}
}

// Add appends entries to the named run, creating it on first use.
func (l *LiveTraining) Add(run string, entries ...retnet.LogEntry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range l.runs {
		if l.runs[i].Name == run {
			l.runs[i].Log = append(l.runs[i].Log, entries...)
			return
		}
	}
	l.runs = append(l.runs, Run{Name: run, Log: append([]retnet.LogEntry(nil), entries...)})
}

// Update implements train.Sink: it adds e to run opt.Run and redraws the
// chart in place (display.Refresh) when opt.Refresh has passed since the
// last redraw, and always after the run's last step.
func (l *LiveTraining) Update(e retnet.LogEntry) {
	run := l.opt.Run
	if run == "" {
		run = "train"
	}
	l.Add(run, e)
	every := l.opt.Refresh
	if every == 0 {
		every = 500 * time.Millisecond
	}
	l.mu.Lock()
	redraw := time.Since(l.drawn) >= every || (e.TotalSteps > 0 && e.Step >= e.TotalSteps)
	if redraw {
		l.drawn = time.Now()
	}
	l.mu.Unlock()
	if redraw {
		display.Refresh(l)
	}
}

// Message implements train.Sink; a chart shows no text, so it does nothing.
func (l *LiveTraining) Message(string) {}

// DisplayID is the id under which the chart is shown and updated.
func (l *LiveTraining) DisplayID() string { return l.id }

// Figure returns the chart as it stands now.
func (l *LiveTraining) Figure() *Figure {
	l.mu.Lock()
	runs := make([]Run, len(l.runs))
	for i, r := range l.runs {
		runs[i] = Run{Name: r.Name, Log: append([]retnet.LogEntry(nil), r.Log...)}
	}
	l.mu.Unlock()
	f := TrainingCurves(runs, l.opt)
	f.Kind = "live-training"
	return f
}

// HTML returns the notebook HTML of the chart as it stands, keyed by
// DisplayID so that it replaces the previous rendering in place.
func (l *LiveTraining) HTML() string { return l.Figure().fragment(l.id, false) }

// MIMEBundle returns text/html (keyed by DisplayID) and text/plain. It has
// no image/svg+xml: a live chart is re-rendered often, and SVG would cost a
// server-side render each time; call Figure().MIMEBundle() for a final
// bundle with one.
func (l *LiveTraining) MIMEBundle() map[string]any {
	f := l.Figure()
	return map[string]any{
		"text/html":  f.fragment(l.id, false),
		"text/plain": f.String(),
	}
}

// SimpleRender is MIMEBundle under gophernotes' method name (see
// Figure.SimpleRender).
func (l *LiveTraining) SimpleRender() map[string]any { return l.MIMEBundle() }
