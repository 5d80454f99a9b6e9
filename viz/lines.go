package viz

import (
	"fmt"
	"math"
)

// Series is one line of a Lines chart: (x, y) points in drawing order.
// Non-finite points are dropped (and points <= 0 on a log axis show nothing).
type Series struct {
	Name   string
	Points [][2]float64
	Dashed bool
	Color  string // CSS colour; "" takes the palette's next
}

// LinesOptions configures Lines.
type LinesOptions struct {
	Style
	XName, YName string  // axis names
	XLog, YLog   float64 // log axis of this base (2, 10, ...); 0 for a linear axis starting at 0
}

// Lines draws any measured series as lines with point markers on one panel:
// the chart for results none of the other chart functions covers (a
// benchmark sweep, a quantity per head). Log axes start and end at the
// powers of their base that enclose the data.
//
// It panics if a log base is negative, 1 or not finite.
func Lines(series []Series, o LinesOptions) *Figure {
	axis := func(name string, base float64) axisSpec {
		if base < 0 || base == 1 || math.IsInf(base, 0) || math.IsNaN(base) {
			panic(fmt.Sprintf("viz: Lines axis %q: log base %v: want 0 (linear) or a finite base > 0 other than 1", name, base))
		}
		return axisSpec{name: name, log: base > 0, logBase: base}
	}
	panel := xyPanel{x: axis(o.XName, o.XLog), y: axis(o.YName, o.YLog)}
	n := 0
	for i, s := range series {
		c := s.Color
		if c == "" {
			c = o.color(i)
		}
		panel.series = append(panel.series, xySeries{name: s.Name, points: s.Points, color: c, dashed: s.Dashed, symbol: true, width: 2})
		n += len(s.Points)
	}
	names := legendNames([]xyPanel{panel})
	f := xyFigure("lines", o.Style, o.title(""), o.subtitle(""), []xyPanel{panel}, 1, 820, 440+legendHeight(names, 820))
	f.Summary = fmt.Sprintf("viz.Lines: %d series, %d points", len(series), n)
	return f
}
