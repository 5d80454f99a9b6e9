package viz

import (
	"math"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
)

// axisSpec describes one axis of an xy panel.
type axisSpec struct {
	name     string
	log      bool    // logarithmic
	logBase  float64 // 0: 10
	category []string
	min, max any // nil: automatic
}

// xySeries is one line, scatter or bar series of a panel.
type xySeries struct {
	name   string
	kind   string       // "line" (default), "scatter", "bar"
	points [][2]float64 // (x, y) for value x axes; non-finite points are dropped
	values []any        // y per category for category x axes (nil = gap)
	color  string
	dashed bool
	symbol bool // draw point symbols on lines
	width  float32
	marks  []any // ECharts markLine data items
}

type xyPanel struct {
	title  string
	x, y   axisSpec
	series []xySeries
}

// xyFigure lays out panels side by side (at most cols per row) with one
// shared legend at the bottom and builds the figure with go-echarts.
func xyFigure(kind string, st Style, title, sub string, panels []xyPanel, cols, w, h int) *Figure {
	if cols <= 0 {
		cols = min(len(panels), 3)
	}
	rows := (len(panels) + cols - 1) / cols
	w, h = st.size(w, h)
	sub = wrapSubtitle(sub, w-30)
	header := headerHeight(sub)
	names := legendNames(panels)
	legendH := legendHeight(names, w)
	const left, right, gapX, gapY = 16, 24, 40, 80
	panelTop := 22 // room for the panel title
	if len(panels) == 1 && panels[0].title == "" {
		panelTop = 0
	}
	top0 := header + panelTop + 24 // + y axis name
	bottomPad := 48 + legendH      // x axis name + legend
	pw := (w - left - right - (cols-1)*gapX) / cols
	ph := (h - top0 - bottomPad - (rows-1)*gapY) / rows
	pw, ph = max(pw, 60), max(ph, 60)

	line := charts.NewLine()
	var grids []opts.Grid
	titles := []opts.Title{mainTitle(title, sub)}
	for p, pn := range panels {
		r := rect{left: left + (p%cols)*(pw+gapX), top: top0 + (p/cols)*(ph+gapY), width: pw, height: ph, fw: w}
		grids = append(grids, r.grid())
		if pn.title != "" {
			t := panelTitle(pn.title, r)
			t.Top = px(r.top - 24 - panelTop)
			titles = append(titles, t)
		}
		x := opts.XAxis{Name: pn.x.name, GridIndex: p, NameLocation: "middle", NameGap: 28,
			Min: pn.x.min, Max: pn.x.max, SplitLine: &opts.SplitLine{Show: opts.Bool(pn.x.category == nil)}}
		switch {
		case pn.x.category != nil:
			x.Type, x.Data = "category", pn.x.category
		case pn.x.log:
			x.Type = "log"
		default:
			x.Type = "value"
		}
		y := opts.YAxis{Name: pn.y.name, GridIndex: p, Type: "value", Min: pn.y.min, Max: pn.y.max,
			SplitLine: &opts.SplitLine{Show: opts.Bool(true)}}
		if pn.y.log {
			y.Type = "log"
		}
		if p == 0 {
			line.SetGlobalOptions(charts.WithXAxisOpts(x), charts.WithYAxisOpts(y))
		} else {
			line.ExtendXAxis(x)
			line.ExtendYAxis(y)
		}
		for _, s := range pn.series {
			addXYSeries(line, p, pn.x.category != nil, s)
		}
	}
	line.SetGlobalOptions(
		charts.WithGridOpts(grids...),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(len(names) > 0), Bottom: "6px", Left: "center", Data: names}),
	)
	line.Accept(titlesVisitor{titles: titles})
	f := newFigure(kind, line, w, h, st.Animate)
	// Settings go-echarts v2.6.7 has no field for.
	fixAxes(f.Option, "xAxis", panels, func(p xyPanel) axisSpec { return p.x })
	fixAxes(f.Option, "yAxis", panels, func(p xyPanel) axisSpec { return p.y })
	for _, g := range f.Option["grid"].([]any) {
		g.(map[string]any)["containLabel"] = true
	}
	return f
}

func addXYSeries(line *charts.Line, p int, category bool, s xySeries) {
	var data []opts.LineData
	if category {
		for _, v := range s.values {
			if f, ok := v.(float64); ok && !finite(f) {
				v = nil
			}
			data = append(data, opts.LineData{Value: v})
		}
	} else {
		for _, pt := range s.points {
			if finite(pt[0]) && finite(pt[1]) {
				data = append(data, opts.LineData{Value: []float64{round6(pt[0]), round6(pt[1])}})
			}
		}
	}
	ls := opts.LineStyle{Color: s.color, Width: s.width}
	if s.dashed {
		ls.Type = "dashed"
	}
	so := []charts.SeriesOpts{
		charts.WithLineChartOpts(opts.LineChart{XAxisIndex: p, YAxisIndex: p, ShowSymbol: opts.Bool(s.symbol)}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: s.color}),
		charts.WithLineStyleOpts(ls),
	}
	line.AddSeries(s.name, data, so...)
	last := &line.MultiSeries[len(line.MultiSeries)-1]
	switch s.kind {
	case "bar":
		last.Type = "bar"
	case "scatter":
		last.Type = "scatter"
	}
	if len(s.marks) > 0 {
		last.MarkLines = &opts.MarkLines{}
		for _, m := range s.marks {
			last.MarkLines.Data = append(last.MarkLines.Data, m)
		}
		last.MarkLines.MarkLineStyle = opts.MarkLineStyle{Symbol: []string{"none", "none"},
			LineStyle: &opts.LineStyle{Type: "dotted", Color: s.color, Width: 1}}
	}
}

// fixAxes sets what go-echarts cannot: logBase, and min 0 (dropped by its
// omitempty).
func fixAxes(m map[string]any, key string, panels []xyPanel, spec func(xyPanel) axisSpec) {
	axes, _ := m[key].([]any)
	for i, a := range axes {
		if i >= len(panels) {
			break
		}
		am := a.(map[string]any)
		s := spec(panels[i])
		if s.log && s.logBase > 0 {
			am["logBase"] = s.logBase
		}
		if s.log && s.min == nil && s.max == nil {
			// ECharts pads a log axis to "nice" ticks, one power below the
			// data (128 for contexts 256..8192 in base 2); start and end it
			// at the powers of the base that enclose the data instead.
			s.min, s.max = logExtent(panels[i], key == "xAxis", s.logBase)
		}
		if s.min != nil {
			am["min"] = s.min
		}
		if s.max != nil {
			am["max"] = s.max
		}
		if s.name != "" && key == "yAxis" {
			am["nameTextStyle"] = map[string]any{"align": "left"}
		}
	}
}

// logExtent returns the powers of base (0: 10) just enclosing the positive
// finite x (or y) values of a panel's series, or nils when it has none.
func logExtent(p xyPanel, x bool, base float64) (lo, hi any) {
	if base <= 0 {
		base = 10
	}
	dmin, dmax := math.Inf(1), math.Inf(-1)
	for _, s := range p.series {
		for _, pt := range s.points {
			v := pt[1]
			if x {
				v = pt[0]
			}
			if v > 0 && finite(v) && finite(pt[0]) && finite(pt[1]) {
				dmin, dmax = min(dmin, v), max(dmax, v)
			}
		}
	}
	if dmin > dmax {
		return nil, nil
	}
	// Round the exponents first so that exact powers (8192 = 2^13) are
	// not pushed to the next power by the logarithm's rounding error.
	e := func(v float64) float64 { return math.Round(math.Log(v)/math.Log(base)*1e9) / 1e9 }
	return math.Pow(base, math.Floor(e(dmin))), math.Pow(base, math.Ceil(e(dmax)))
}

// legendNames lists series names in order of first appearance.
func legendNames(panels []xyPanel) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range panels {
		for _, s := range p.series {
			if s.name != "" && !seen[s.name] {
				seen[s.name] = true
				out = append(out, s.name)
			}
		}
	}
	return out
}

// legendHeight estimates the rows the bottom legend needs (7 px a character
// plus the symbol) at 24 px a row.
func legendHeight(names []string, w int) int {
	if len(names) == 0 {
		return 0
	}
	rows, x := 1, 0
	for _, n := range names {
		iw := 40 + 7*len([]rune(n))
		if x+iw > w-40 && x > 0 {
			rows++
			x = 0
		}
		x += iw
	}
	return rows * 24
}

// niceLogRange returns powers of base bracketing [lo, hi] for a log axis.
func niceLogRange(lo, hi, base float64) (float64, float64) {
	if !(lo > 0) || !(hi > 0) {
		return 0, 0
	}
	l := math.Pow(base, math.Floor(math.Log(lo)/math.Log(base)+1e-9))
	u := math.Pow(base, math.Ceil(math.Log(hi)/math.Log(base)-1e-9))
	if u <= l {
		u = l * base
	}
	return l, u
}
