package viz

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
)

// Style holds the options every chart has. The zero value picks defaults.
type Style struct {
	Title    string   // main title; each chart has a default
	Subtitle string   // smaller line under the title; "" keeps the chart's own note
	Width    int      // pixels; 0 picks a size that fits the chart
	Height   int      // pixels; 0 picks a size that fits the chart
	Colors   []string // series palette as CSS colours; nil keeps the default
	Animate  bool     // animate drawing in notebooks (exports never animate)
}

// defaultColors is ECharts' own palette, named here so that an architecture
// keeps its colour across panels.
var defaultColors = []string{"#5470c6", "#ee6666", "#91cc75", "#fac858", "#73c0de", "#3ba272", "#fc8452", "#9a60b4", "#ea7ccc"}

func (s Style) palette() []string {
	if len(s.Colors) > 0 {
		return s.Colors
	}
	return defaultColors
}

func (s Style) color(i int) string {
	p := s.palette()
	return p[i%len(p)]
}

func (s Style) size(w, h int) (int, int) {
	if s.Width > 0 {
		w = s.Width
	}
	if s.Height > 0 {
		h = s.Height
	}
	return w, h
}

func (s Style) title(def string) string {
	if s.Title != "" {
		return s.Title
	}
	return def
}

func (s Style) subtitle(def string) string {
	if s.Subtitle != "" {
		return s.Subtitle
	}
	return def
}

// FontFamily is the CSS font list of every chart's text. Liberation Sans
// (Debian's fonts-liberation) has Arial's metrics, which ECharts' server-side
// renderer assumes when it measures text without a browser: with it, the
// exported SVG/PNG/PDF lay out legends and titles as measured, where a
// wider font (DejaVu Sans, Chromium's default here) would overlap them.
var FontFamily = "'Liberation Sans', Arial, Helvetica, sans-serif"

// Figure is one chart ready to render: an ECharts option and a size.
//
// Option is plain JSON data (maps, slices, strings, float64, bool), the
// object passed to ECharts' setOption; edit it to change anything ECharts
// supports. Functions cannot be expressed, by design: the same option feeds
// notebooks, pages and the server-side renderer.
type Figure struct {
	Option map[string]any
	Width  int    // pixels
	Height int    // pixels
	Kind   string // which chart made it, e.g. "decay-matrices"
	// Summary is the text/plain form: one line saying what the figure shows.
	Summary string
}

// String returns the figure's text/plain form.
func (f *Figure) String() string {
	if f.Summary != "" {
		return fmt.Sprintf("%s (%dx%d)", f.Summary, f.Width, f.Height)
	}
	return fmt.Sprintf("viz.Figure %s (%dx%d)", f.Kind, f.Width, f.Height)
}

// OptionJSON returns Option as JSON. It panics if Option holds a value JSON
// cannot encode (NaN, Inf, a func), which only direct edits can put there:
// the chart functions drop non-finite values.
func (f *Figure) OptionJSON() []byte {
	b, err := json.Marshal(f.Option)
	if err != nil {
		panic(fmt.Sprintf("viz: figure %s: option is not JSON: %v", f.Kind, err))
	}
	return b
}

// chartJSON is what every go-echarts chart has: its option as a map.
type chartJSON interface {
	JSON() map[string]any
}

// titlesVisitor works around go-echarts allowing one title per chart: it
// replaces the title option by a list (main title plus one per panel).
type titlesVisitor struct {
	charts.BaseConfigurationVisitor
	titles []opts.Title
}

func (v titlesVisitor) VisitTitleOpt(opts.Title) any { return v.titles }

// newFigure turns a go-echarts chart into a Figure, round-tripping its option
// through JSON so that Option is plain data.
func newFigure(kind string, c chartJSON, w, h int, animate bool) *Figure {
	b, err := json.Marshal(c.JSON())
	if err != nil {
		panic(fmt.Sprintf("viz: %s: go-echarts option does not encode: %v", kind, err))
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		panic(fmt.Sprintf("viz: %s: go-echarts option does not decode: %v", kind, err))
	}
	m["animation"] = animate
	m["textStyle"] = map[string]any{"fontFamily": FontFamily}
	// go-echarts always writes an empty toolbox; ECharts does not need it.
	delete(m, "toolbox")
	return &Figure{Option: m, Width: w, Height: h, Kind: kind}
}

// rect is one panel's grid, in pixels from the top left of a figure fw
// pixels wide. Horizontal positions are written as percentages of the
// figure's width, so that a notebook cell narrower than the figure (width
// 100%) scales the panels instead of clipping the last ones; vertical ones
// stay in pixels (the height is fixed).
type rect struct{ left, top, width, height, fw int }

func (r rect) grid() opts.Grid {
	return opts.Grid{
		Left: pct(r.left, r.fw), Top: px(r.top), Width: pct(r.width, r.fw), Height: px(r.height),
	}
}

func px(v int) string { return fmt.Sprintf("%dpx", v) }

func pct(v, of int) string { return fmt.Sprintf("%.3f%%", 100*float64(v)/float64(of)) }

// panelTitle is a small centred title above a panel.
func panelTitle(text string, r rect) opts.Title {
	return opts.Title{
		Title:      text,
		Left:       pct(r.left+r.width/2, r.fw),
		Top:        px(r.top - 24),
		TextAlign:  "center",
		TitleStyle: &opts.TextStyle{FontSize: 13, FontWeight: "normal"},
	}
}

// mainTitle is the figure's title at the top left.
func mainTitle(title, sub string) opts.Title {
	return opts.Title{
		Title: title, Subtitle: sub, Left: "10px", Top: "6px",
		TitleStyle:    &opts.TextStyle{FontSize: 16},
		SubtitleStyle: &opts.TextStyle{FontSize: 12, LineHeight: 17},
	}
}

// textWidth estimates the width in pixels of s at fontSize (Arial metrics
// average about 0.55 em a character; non-ASCII symbols count as 1 em).
func textWidth(s string, fontSize float64) int {
	w := 0.0
	for _, r := range s {
		if r < 128 {
			w += 0.55
		} else {
			w += 1
		}
	}
	return int(w*fontSize) + 1
}

// wrapSubtitle breaks sub into lines that fit in w pixels at 12 px,
// preferring breaks after "; " and ", ", then spaces.
func wrapSubtitle(sub string, w int) string {
	if sub == "" || textWidth(sub, 12) <= w {
		return sub
	}
	var lines []string
	for _, para := range strings.Split(sub, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			try := word
			if line != "" {
				try = line + " " + word
			}
			if line != "" && textWidth(try, 12) > w {
				lines = append(lines, line)
				line = word
			} else {
				line = try
			}
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// headerHeight is the room the main title and subtitle need.
func headerHeight(sub string) int {
	h := 36
	if sub != "" {
		h += 18 + 20*strings.Count(sub, "\n")
	}
	return h
}

// finite reports whether v can be drawn (and encoded as JSON).
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// fmtNum formats a number for labels: 4 significant digits, Inf as ∞.
func fmtNum(v float64) string {
	if math.IsInf(v, 1) {
		return "∞"
	}
	return fmt.Sprintf("%.4g", v)
}

// round6 keeps option JSON small: values rounded to 6 significant digits.
// Formatting and parsing (rather than scaling by a power of ten) stays exact
// for subnormal values, where 10^(5-log10 v) overflows.
func round6(v float64) float64 {
	if v == 0 || !finite(v) {
		return v
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64)
	return r
}
