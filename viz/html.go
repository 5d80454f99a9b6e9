package viz

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"os"
	"strings"
	"sync/atomic"
)

var idSeq atomic.Uint64

// newID returns an id unique in this process and, with its random part,
// across kernels whose outputs share one notebook page.
func newID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d", hex.EncodeToString(b[:]), idSeq.Add(1))
}

// libLoader loads ECharts once per page. require.js (classic Notebook) would
// make the UMD bundle register an anonymous AMD module and leave
// window.echarts undefined, so define is hidden while the bundle runs.
const libLoaderHead = `<script type="text/javascript">
if (!window.echarts) { (function () { var d = window.define; window.define = undefined; try {
`
const libLoaderTail = `
} finally { window.define = d; } })(); }
</script>
`

// chartScript draws the chart once both the library and the element exist
// (JupyterLab renders outputs lazily, possibly before another output's
// loader ran). Charts are registered under a key: a rendering whose key has
// a chart whose element has left the page (the output it replaces) adopts
// that ECharts instance and calls setOption on it, so live charts update in
// place. Nothing is declared at top level: re-running a cell or showing the
// same figure twice cannot collide.
const chartScript = `<script type="text/javascript">
(function () {
  var id = %s, key = %s, renderer = %s, option = %s, tries = 0;
  function draw() {
    // The first element with this id not drawn yet: a copied cell or a
    // notebook saved with one output twice repeats ids.
    var els = document.querySelectorAll('[id="' + id + '"]'), el = null;
    for (var e = 0; e < els.length; e++) { if (!els[e].hasAttribute("data-retlab-drawn")) { el = els[e]; break; } }
    if (els.length && !el) { return; }
    if (!el || !window.echarts || !el.clientWidth) {
      if (++tries < 600) { setTimeout(draw, 50); }
      else if (el && !window.echarts) { el.textContent = "ECharts did not load (see the browser console)."; }
      return;
    }
    var reg = window.__retlabCharts = window.__retlabCharts || {};
    var list = (reg[key] || []).filter(function (c) { return !c.isDisposed(); });
    var chart = null;
    for (var i = 0; i < list.length; i++) {
      var dom = list[i].getDom();
      if (!dom.isConnected) {
        chart = list[i];
        dom.style.width = el.style.width; dom.style.maxWidth = el.style.maxWidth; dom.style.height = el.style.height;
        el.parentNode.replaceChild(dom, el);
        dom.id = id;
        break;
      }
    }
    if (chart) {
      chart.setOption(option, {replaceMerge: ["series", "title", "grid", "xAxis", "yAxis", "visualMap"]});
      chart.resize();
      chart.__retlabUpdates = (chart.__retlabUpdates || 0) + 1;
    } else {
      chart = echarts.getInstanceByDom(el) || echarts.init(el, null, {renderer: renderer});
      chart.setOption(option, true);
      chart.__retlabUpdates = 0;
      list.push(chart);
      if (window.ResizeObserver) {
        new ResizeObserver(function () { if (!chart.isDisposed()) { chart.resize(); } }).observe(chart.getDom());
      }
    }
    reg[key] = list;
    chart.getDom().setAttribute("data-retlab-drawn", String(chart.__retlabUpdates));
  }
  draw();
})();
</script>
`

// renderer picks ECharts' renderer: SVG (crisp, searchable text) unless the
// figure has so many data points that SVG's one element per point is slow.
func (f *Figure) renderer() string {
	n := 0
	if ss, ok := f.Option["series"].([]any); ok {
		for _, s := range ss {
			if d, ok := s.(map[string]any)["data"].([]any); ok {
				n += len(d)
			}
		}
	}
	if n > 40000 {
		return "canvas"
	}
	return "svg"
}

// fragment is the HTML of the figure: the library loader, an element and
// the chart script. key groups renderings that update one chart in place;
// standalone pins the element to the figure's size (pages, exports)
// instead of the notebook's width:100% (up to the figure's width).
func (f *Figure) fragment(key string, standalone bool) string {
	lib, err := EChartsJS()
	if err != nil {
		return fmt.Sprintf(`<div style="color:#a00;font-family:monospace;white-space:pre-wrap">%s</div><pre>%s</pre>`,
			html.EscapeString(err.Error()), html.EscapeString(f.String()))
	}
	id := "retlab-chart-" + newID()
	if key == "" {
		key = id
	}
	style := fmt.Sprintf("width:100%%;max-width:%dpx;height:%dpx;", f.Width, f.Height)
	if standalone {
		style = fmt.Sprintf("width:%dpx;height:%dpx;", f.Width, f.Height)
	}
	var b strings.Builder
	if InlineLibrary || standalone {
		b.Grow(len(lib) + 4096)
		writeLoader(&b, lib)
	}
	fmt.Fprintf(&b, `<div id="%s" class="retlab-chart" style="%s"></div>`+"\n", id, style)
	fmt.Fprintf(&b, chartScript, jsString(id), jsString(key), jsString(f.renderer()), f.OptionJSON())
	return b.String()
}

func writeLoader(b *strings.Builder, lib string) {
	b.WriteString(libLoaderHead)
	b.WriteString(strings.ReplaceAll(lib, "</script", `<\/script`))
	b.WriteString(libLoaderTail)
}

// InlineLibrary makes every notebook fragment carry the ECharts library
// (about 1 MB), so each output renders on its own: in a notebook reopened
// later, in nbviewer with scripts, after the kernel is gone. Set it false
// when the front end already has ECharts, e.g. a kernel that displayed
// LibraryHTML once at start; charts then wait for window.echarts. Pages
// (Page, SaveHTML) always inline it.
var InlineLibrary = true

// LibraryHTML returns only the library loader: a script that defines
// window.echarts once per page, safe under require.js. A kernel can display
// it once and set InlineLibrary false to keep outputs small; a notebook
// saved that way renders its charts only while that output is on the page.
func LibraryHTML() (string, error) {
	lib, err := EChartsJS()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	writeLoader(&b, lib)
	return b.String(), nil
}

// jsString quotes s as a JavaScript string literal safe inside <script>.
func jsString(s string) string {
	b, _ := json.Marshal(s) // escapes <, >, & as \u00XX
	return string(b)
}

// HTML returns the figure as an HTML fragment for a notebook cell or a page:
// it inlines ECharts (about 1 MB; loaded once per page), so it works with no
// network, in classic Notebook (require.js) and JupyterLab alike. Each call
// makes a new element id, so one figure can be shown any number of times.
// If ECharts is not installed, the fragment is a visible message saying how
// to install it.
func (f *Figure) HTML() string { return f.fragment("", false) }

// Page returns a complete, self-contained HTML page showing the figure at
// its size, with ECharts inlined.
func (f *Figure) Page() string {
	title := f.Kind
	if t, ok := f.Option["title"].([]any); ok && len(t) > 0 {
		if s, ok := t[0].(map[string]any)["text"].(string); ok && s != "" {
			title = s
		}
	}
	return "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>" + html.EscapeString(title) +
		"</title>\n<style>html, body { margin: 0; padding: 0; background: #fff; }</style>\n</head>\n<body>\n" +
		f.fragment("", true) + "</body>\n</html>\n"
}

// SaveHTML writes Page to path: a standalone page that renders offline.
// It fails if ECharts is not installed (see EChartsPath).
func (f *Figure) SaveHTML(path string) error {
	if _, err := EChartsJS(); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(f.Page()), 0o644)
}

// BundleSVG makes MIMEBundle include image/svg+xml, rendered by ECharts in
// Node.js (a worker started on first use, then about 10-100 ms a figure).
// The SVG is what nbconvert, GitHub and untrusted notebooks show. When Node
// or ECharts is missing, the bundle simply has no SVG.
var BundleSVG = true

// MIMEBundle returns the figure's notebook representations: text/html
// (HTML), text/plain (String) and, with BundleSVG and Node.js available,
// image/svg+xml. The map's type is plain so that it satisfies the display
// package's bundle interface by shape.
func (f *Figure) MIMEBundle() map[string]any {
	b := map[string]any{
		"text/html":  f.HTML(),
		"text/plain": f.String(),
	}
	if BundleSVG {
		if svg, err := f.SVG(); err == nil {
			b["image/svg+xml"] = svg
		}
	}
	return b
}

// SimpleRender is MIMEBundle under gophernotes' method name, which the
// display package recognises too: with it a Figure renders with its full
// bundle whether or not MIMEBundle's plain map type matches display.Bundle.
func (f *Figure) SimpleRender() map[string]any { return f.MIMEBundle() }
