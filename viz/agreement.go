package viz

import (
	"fmt"
	"math"
	"sort"

	"github.com/retlab/retlab/retnet"
)

// AgreementOptions configures FormAgreement.
type AgreementOptions struct {
	Style
	// LogY draws the differences as points on a log10 axis instead of bars
	// on a linear one: they often span decades (1e-7 to 1e-2). ECharts grows
	// bars on a log axis from 1, which hangs them from the top, hence
	// points. Exact zeros cannot be drawn on a log axis and are left out
	// (the subtitle says how many).
	LogY bool
}

// FormAgreement draws, per layer, the largest absolute difference between
// the three retention forms (parallel vs recurrent, parallel vs chunkwise,
// recurrent vs chunkwise) as grouped bars, each labelled with its value.
//
// It panics if rows is empty.
func FormAgreement(rows []retnet.FormAgreement, o AgreementOptions) *Figure {
	if len(rows) == 0 {
		panic("viz: FormAgreement with no layers")
	}
	rs := append([]retnet.FormAgreement(nil), rows...)
	sort.SliceStable(rs, func(a, b int) bool { return rs[a].Layer < rs[b].Layer })
	var cats []string
	names := []string{"parallel vs recurrent", "parallel vs chunkwise", "recurrent vs chunkwise"}
	vals := make([][]any, 3)
	zeros := 0
	eps := map[float64]bool{}
	lo, hi := math.Inf(1), 0.0
	for _, r := range rs {
		cats = append(cats, fmt.Sprintf("layer %d", r.Layer))
		eps[r.GroupNormEps] = true
		for i, v := range []float64{r.ParallelVsRecurrent, r.ParallelVsChunkwise, r.RecurrentVsChunkwise} {
			var x any
			switch {
			case !finite(v) || v < 0:
			case o.LogY && v == 0:
				zeros++
			case o.LogY:
				x = round6(v)
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			default:
				x = round6(v)
			}
			vals[i] = append(vals[i], x)
		}
	}
	var series []xySeries
	for i, n := range names {
		s := xySeries{name: n, kind: "bar", values: vals[i], color: o.color(i)}
		if o.LogY {
			s.kind = "scatter" // points: a line between layers would mean nothing
		}
		series = append(series, s)
	}
	sub := "max |difference| of the layer outputs"
	if len(eps) == 1 {
		for e := range eps {
			sub += fmt.Sprintf(", group-norm eps %g", e)
		}
	}
	if zeros > 0 {
		sub += fmt.Sprintf("; %d exact zeros not drawn (log axis)", zeros)
	}
	y := axisSpec{name: "max |Δ|", log: o.LogY}
	if l, u := niceLogRange(lo, hi, 10); o.LogY && u > 0 {
		y.min, y.max = l, u
	}
	panel := xyPanel{x: axisSpec{category: cats}, y: y, series: series}
	w := max(560, min(1200, 160+90*len(rs)))
	f := xyFigure("form-agreement", o.Style, o.title("Agreement of the retention forms"), o.subtitle(sub), []xyPanel{panel}, 1, w, 420)
	for _, s := range f.Option["series"].([]any) {
		if o.LogY {
			s.(map[string]any)["symbolSize"] = 10
		} else { // small bars are invisible: print every value
			s.(map[string]any)["label"] = map[string]any{"show": true, "position": "top", "fontSize": 10}
		}
	}
	f.Summary = fmt.Sprintf("viz.FormAgreement: %d layers, worst %s", len(rs), fmtNum(worst(rs)))
	return f
}

func worst(rs []retnet.FormAgreement) float64 {
	w := 0.0
	for _, r := range rs {
		w = math.Max(w, math.Max(r.ParallelVsRecurrent, math.Max(r.ParallelVsChunkwise, r.RecurrentVsChunkwise)))
	}
	return w
}
