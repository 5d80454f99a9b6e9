package viz

import (
	"fmt"
	"math"
	"strconv"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
)

// Colour ramps for heatmaps.
var (
	// sequential: light yellow to dark blue (viridis-like, reversed), for
	// non-negative values.
	rampSequential = []string{"#fde725", "#5ec962", "#21918c", "#3b528b", "#440154"}
	// diverging: blue, white, red, for signed values centred on 0.
	rampDiverging = []string{"#2166ac", "#92c5de", "#f7f7f7", "#f4a582", "#b2182b"}
)

// heatPanel is one (rows, cols) matrix to draw as a heatmap panel.
// at(i, j) returns the value at row i, column j and whether to draw it.
type heatPanel struct {
	title      string
	rows, cols int
	at         func(i, j int) (float64, bool)
	rowLabels  []string // len rows, or nil for 0..rows-1
	colLabels  []string // len cols, or nil
}

// heatGrid lays out panels in a grid, pcols per row, all sharing one colour
// scale from lo to hi, and returns the go-echarts chart and its size.
// With logScale the values are drawn as log10(v) (non-positive values are
// left blank) and the colour legend says so.
type heatGrid struct {
	style    Style
	title    string
	subtitle string
	panels   []heatPanel
	pcols    int  // panels per row
	logScale bool // colour by log10(v)
	panelPx  int  // side of a panel in pixels (0: automatic)
}

// pool shrinks an (n,n) view to at most max cells a side by averaging
// blocks of k x k cells (k = ceil(n/max)). It returns the block size and
// the pooled accessor; blocks with no drawn cell stay blank.
func pool(rows, cols, max int, at func(i, j int) (float64, bool)) (int, int, int, func(i, j int) (float64, bool)) {
	k := 1
	if max > 0 {
		for (rows+k-1)/k > max || (cols+k-1)/k > max {
			k++
		}
	}
	if k == 1 {
		return 1, rows, cols, at
	}
	pr, pc := (rows+k-1)/k, (cols+k-1)/k
	return k, pr, pc, func(i, j int) (float64, bool) {
		sum, n := 0.0, 0
		for a := i * k; a < min((i+1)*k, rows); a++ {
			for b := j * k; b < min((j+1)*k, cols); b++ {
				if v, ok := at(a, b); ok {
					sum += v
					n++
				}
			}
		}
		if n == 0 {
			return 0, false
		}
		return sum / float64(n), true
	}
}

// materialise evaluates at over (rows, cols) once and returns an accessor
// over the stored values, so the source (a full mask) can be freed.
func materialise(rows, cols int, at func(i, j int) (float64, bool)) func(i, j int) (float64, bool) {
	v := make([]float64, rows*cols) // (rows, cols); NaN: not drawn
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			x, ok := at(i, j)
			if !ok {
				x = math.NaN()
			}
			v[i*cols+j] = x
		}
	}
	return func(i, j int) (float64, bool) {
		x := v[i*cols+j]
		return x, !math.IsNaN(x)
	}
}

func (g heatGrid) figure(kind string) *Figure {
	P := len(g.panels)
	pcols := g.pcols
	if pcols <= 0 {
		pcols = int(math.Ceil(math.Sqrt(float64(P))))
	}
	prows := (P + pcols - 1) / pcols
	side := g.panelPx
	if side == 0 {
		side = max(140, min(260, 1100/pcols))
	}
	header := headerHeight(g.subtitle)
	const left, gapX, gapY, legendW, labelPad = 50, 40, 56, 90, 30
	w := left + pcols*side + (pcols-1)*gapX + legendW
	h := header + 30 + prows*side + (prows-1)*gapY + labelPad
	w = max(w, textWidth(g.title, 16)+30) // a figure is never narrower than its title
	if g.style.Width == 0 {
		w = max(w, min(textWidth(g.subtitle, 12)+30, 620)) // wider than that, wrap
	}
	w, _ = g.style.size(w, h)
	g.subtitle = wrapSubtitle(g.subtitle, w-30)
	header = headerHeight(g.subtitle)
	h = header + 30 + prows*side + (prows-1)*gapY + labelPad
	_, h = g.style.size(w, h)
	// Fit panels into the requested size.
	side = min((w-left-legendW-(pcols-1)*gapX)/pcols, (h-header-30-labelPad-(prows-1)*gapY)/prows)
	side = max(side, 20)

	lo, hi := math.Inf(1), math.Inf(-1)
	hm := charts.NewHeatMap()
	var grids []opts.Grid
	titles := []opts.Title{mainTitle(g.title, g.subtitle)}
	for p, pn := range g.panels {
		r := rect{
			left:   left + (p%pcols)*(side+gapX),
			top:    header + 30 + (p/pcols)*(side+gapY),
			width:  side,
			height: side,
			fw:     w,
		}
		grids = append(grids, r.grid())
		titles = append(titles, panelTitle(pn.title, r))
		x := opts.XAxis{Type: "category", GridIndex: p, Data: labels(pn.colLabels, pn.cols),
			SplitArea: &opts.SplitArea{Show: opts.Bool(false)},
			AxisLabel: &opts.AxisLabel{FontSize: 10, HideOverlap: opts.Bool(true)}}
		y := opts.YAxis{Type: "category", GridIndex: p, Data: labels(pn.rowLabels, pn.rows), Inverse: opts.Bool(true),
			SplitArea: &opts.SplitArea{Show: opts.Bool(false)},
			AxisLabel: &opts.AxisLabel{FontSize: 10, HideOverlap: opts.Bool(true)}}
		if p == 0 {
			hm.SetGlobalOptions(charts.WithXAxisOpts(x), charts.WithYAxisOpts(y))
		} else {
			hm.ExtendXAxis(x)
			hm.ExtendYAxis(y)
		}
		var data []opts.HeatMapData
		for i := 0; i < pn.rows; i++ {
			for j := 0; j < pn.cols; j++ {
				v, ok := pn.at(i, j)
				if !ok || !finite(v) {
					continue
				}
				if g.logScale {
					if v <= 0 {
						continue
					}
					v = math.Log10(v)
				}
				v = round6(v)
				lo, hi = math.Min(lo, v), math.Max(hi, v)
				data = append(data, opts.HeatMapData{Value: [3]any{j, i, v}})
			}
		}
		hm.AddSeries(pn.title, data, charts.WithHeatMapChartOpts(opts.HeatMapChart{XAxisIndex: p, YAxisIndex: p}))
	}
	if math.IsInf(lo, 1) { // nothing drawable
		lo, hi = 0, 1
	}
	ramp := rampSequential
	if lo < 0 && !g.logScale {
		m := math.Max(-lo, hi)
		lo, hi = -m, m
		ramp = rampDiverging
	}
	if hi == lo {
		hi = lo + 1
	}
	hm.SetGlobalOptions(
		charts.WithGridOpts(grids...),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true)}),
		charts.WithVisualMapOpts(opts.VisualMap{
			Type: "continuous", Calculable: opts.Bool(false),
			Min: float32(lo), Max: float32(hi),
			Text:    []string{fmtNum(hi), fmtNum(lo)},
			InRange: &opts.VisualMapInRange{Color: ramp},
			Right:   "10px", Top: "middle", Orient: "vertical",
		}),
	)
	hm.Accept(titlesVisitor{titles: titles})
	f := newFigure(kind, hm, w, h, g.style.Animate)
	// go-echarts drops Min: 0 (omitempty); ECharts' default min is 0 too,
	// but say it explicitly so the option reads the same as it draws.
	vm := f.Option["visualMap"].([]any)[0].(map[string]any)
	vm["min"], vm["max"] = lo, hi
	vm["seriesIndex"] = seq(P)
	vm["itemHeight"] = max(80, min(240, h-header-120))
	vm["textStyle"] = map[string]any{"fontSize": 11}
	vm["dimension"] = 2
	if g.logScale { // label the ends with values, not their logs
		vm["text"] = []any{fmtNum(math.Pow(10, hi)), fmtNum(math.Pow(10, lo))}
	}
	f.Option["legend"] = map[string]any{"show": false}
	return f
}

// labels returns given labels or "0".."n-1".
func labels(given []string, n int) []string {
	if given != nil {
		return given
	}
	out := make([]string, n)
	for i := range out {
		out[i] = strconv.Itoa(i)
	}
	return out
}

// seq returns 0..n-1 as JSON-ready values.
func seq(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// pooledLabels returns the labels of pooled rows: the first position of each
// block, or the label of that position.
func pooledLabels(given []string, n, k int) []string {
	var out []string
	for i := 0; i < n; i += k {
		if given != nil && i < len(given) {
			out = append(out, given[i])
		} else {
			out = append(out, strconv.Itoa(i))
		}
	}
	return out
}

func poolNote(k int) string {
	if k == 1 {
		return ""
	}
	return fmt.Sprintf("; each cell averages a %dx%d block", k, k)
}
