package viz

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/retlab/retlab/retnet"
)

// PerplexityOptions configures PerplexityVsSize.
type PerplexityOptions struct {
	Style
	// LogY draws perplexity on a log axis too (scaling laws are straight
	// lines on log-log axes).
	LogY bool
}

// archName is the display name of an architecture.
func archName(model string) string {
	switch strings.ToLower(model) {
	case "retnet":
		return "RetNet"
	case "transformer":
		return "Transformer"
	}
	return model
}

// PerplexityVsSize draws validation perplexity against non-embedding
// parameters (log axis, in millions), one series per architecture. Points
// whose Source is "paper" (e.g. PaperFigure5) go in their own panel beside
// the measured ones: the paper's models were trained on another corpus, so
// the two are compared in trend, never on one axis. Each architecture keeps
// its colour in both panels; paper series are dashed.
//
// It panics if points is empty.
func PerplexityVsSize(points []retnet.PerplexityPoint, o PerplexityOptions) *Figure {
	if len(points) == 0 {
		panic("viz: PerplexityVsSize with no points")
	}
	var measured, paper []retnet.PerplexityPoint
	for _, p := range points {
		if p.Source == "paper" {
			paper = append(paper, p)
		} else {
			measured = append(measured, p)
		}
	}
	colors := map[string]string{}
	colorOf := func(model string) string {
		if c, ok := colors[model]; ok {
			return c
		}
		colors[model] = o.color(len(colors))
		return colors[model]
	}
	for _, m := range []string{"retnet", "transformer"} { // fixed order: RetNet blue, Transformer red
		colorOf(m)
	}
	var panels []xyPanel
	if len(measured) > 0 {
		panels = append(panels, pplPanel("Measured here", measured, "", colorOf, false, o.LogY))
	}
	if len(paper) > 0 {
		panels = append(panels, pplPanel("Paper, Figure 5 (read off the plot)", paper, " (paper)", colorOf, true, o.LogY))
	}
	sub := o.subtitle("x: non-embedding parameters (millions, log scale); y: validation perplexity")
	if len(paper) > 0 {
		sub = o.subtitle("x: non-embedding parameters (millions, log); y: validation perplexity. Paper: " + PaperSource + ", 100B tokens of its corpus")
	}
	w := 480 * len(panels)
	f := xyFigure("perplexity-vs-size", o.Style, o.title("Perplexity against model size"), sub, panels, len(panels), max(w, 560), 470)
	f.Summary = fmt.Sprintf("viz.PerplexityVsSize: %d measured, %d paper points", len(measured), len(paper))
	return f
}

func pplPanel(title string, pts []retnet.PerplexityPoint, suffix string, colorOf func(string) string, dashed, logY bool) xyPanel {
	by := map[string][]retnet.PerplexityPoint{}
	var models []string
	for _, p := range pts {
		m := strings.ToLower(p.Model)
		if _, ok := by[m]; !ok {
			models = append(models, m)
		}
		by[m] = append(by[m], p)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	plo, phi := math.Inf(1), math.Inf(-1)
	var series []xySeries
	for _, m := range models {
		ps := by[m]
		sort.Slice(ps, func(a, b int) bool { return ps[a].NonEmbeddingParams < ps[b].NonEmbeddingParams })
		s := xySeries{name: archName(m) + suffix, color: colorOf(m), dashed: dashed, symbol: true, width: 2}
		for _, p := range ps {
			x := float64(p.NonEmbeddingParams) / 1e6
			y := p.Perplexity
			if y == 0 && p.ValLoss > 0 {
				y = math.Exp(p.ValLoss)
			}
			if x > 0 && y > 0 {
				s.points = append(s.points, [2]float64{x, y})
				lo, hi = math.Min(lo, x), math.Max(hi, x)
				plo, phi = math.Min(plo, y), math.Max(phi, y)
			}
		}
		series = append(series, s)
	}
	x := axisSpec{name: "non-embedding parameters (M)", log: true}
	if l, u := niceLogRange(lo, hi, 10); u > 0 {
		x.min, x.max = l, u
	}
	y := axisSpec{name: "perplexity", log: logY}
	if !logY && phi > plo {
		pad := (phi - plo) * 0.15
		y.min, y.max = math.Max(0, math.Floor(plo-pad)), math.Ceil(phi+pad)
	}
	return xyPanel{title: title, x: x, y: y, series: series}
}
