package viz_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/retlab/retlab/viz"

	"github.com/retlab/retlab/internal/testutil"
)

// Browser tests: headless Chromium (Debian) driven by playwright-core
// (browsertest/check.cjs), every request outside the page's own origin
// refused, so a chart that needs the network stays blank and fails.

type chartState struct {
	ID       string   `json:"id"`
	Drawn    *string  `json:"drawn"`
	Instance bool     `json:"instance"`
	Clipped  []string `json:"clipped"`
	SVG      int      `json:"svg"`
	Canvas   int      `json:"canvas"`
	Width    int      `json:"width"`
	Height   int      `json:"height"`
}

type pageResult struct {
	Charts  []chartState `json:"charts"`
	Refused []string     `json:"refused"`
	Errors  []string     `json:"errors"`
	Shots   []string     `json:"shots"`
	Live    *struct {
		SameInstance bool `json:"sameInstance"`
		Updates      int  `json:"updates"`
		Series       int  `json:"series"`
	} `json:"live"`
}

type notebookResult struct {
	Failed   string       `json:"failed"`
	Stored   []chartState `json:"stored"`
	Executed []chartState `json:"executed"`
	Refused  []string     `json:"refused"`
	Errors   []string     `json:"errors"`
	Shots    []string     `json:"shots"`
}

type checkResult struct {
	Pages     map[string]pageResult     `json:"pages"`
	Notebooks map[string]notebookResult `json:"notebooks"`
}

// runCheck runs browsertest/check.cjs on a job and returns its result.
func runCheck(t *testing.T, job map[string]any) checkResult {
	t.Helper()
	node, nm, chromium := needTools(t)
	out := t.TempDir()
	if keep := os.Getenv("RETLAB_VIZ_KEEP"); keep != "" { // keep screenshots to look at
		out = keep
	}
	job["nodeModules"], job["chromium"], job["out"] = nm, chromium, out
	jf := filepath.Join(out, "job.json")
	b, _ := json.Marshal(job)
	if err := os.WriteFile(jf, b, 0o644); err != nil {
		t.Fatal(err)
	}
	script, _ := filepath.Abs("browsertest/check.cjs")
	cmd := exec.Command(node, script, jf)
	t0 := time.Now()
	if o, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("check.cjs: %v\n%s", err, o)
	}
	t.Logf("browser check took %v", time.Since(t0).Round(time.Millisecond))
	var res checkResult
	rb, err := os.ReadFile(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(rb, &res); err != nil {
		t.Fatal(err)
	}
	return res
}

func checkDrawn(t *testing.T, where string, cs []chartState, want int) {
	t.Helper()
	n := 0
	for _, c := range cs {
		if c.Drawn != nil && c.Instance && c.SVG+c.Canvas > 0 {
			n++
		}
		if len(c.Clipped) > 0 {
			t.Errorf("%s: chart %s clips text %q", where, c.ID, c.Clipped)
		}
	}
	if n < want {
		t.Errorf("%s: %d charts drawn, want %d: %+v", where, n, want, cs)
	}
}

func checkShots(t *testing.T, where string, shots []string) {
	t.Helper()
	for _, s := range shots {
		b, ink, colours := inkFraction(t, s)
		if ink < 0.01 || colours < 4 || b.Dx() < 100 {
			t.Errorf("%s: %s is blank (%.2f%% ink, %d colours, %dx%d)", where, filepath.Base(s), 100*ink, colours, b.Dx(), b.Dy())
		}
	}
}

// TestBrowserStandalonePages opens each chart's SaveHTML page, a page
// showing one figure twice, and a live chart updated the way a notebook
// replaces an output, all with the network off.
func TestBrowserStandalonePages(t *testing.T) {
	needTools(t)
	dir := t.TempDir()
	var pages []map[string]any
	for name, f := range sampleFigures() {
		p := filepath.Join(dir, name+".html")
		if err := f.SaveHTML(p); err != nil {
			t.Fatal(err)
		}
		pages = append(pages, map[string]any{"name": name, "url": "file://" + p, "charts": 1})
	}
	// The same figure twice, plus another: three charts, none colliding.
	f := sampleFigures()["decay-profiles"]
	g := sampleFigures()["form-agreement"]
	twice := "<!DOCTYPE html><html><body>" + f.HTML() + f.HTML() + g.HTML() + "</body></html>"
	writeFile(t, filepath.Join(dir, "twice.html"), twice)
	pages = append(pages, map[string]any{"name": "twice", "url": "file://" + filepath.Join(dir, "twice.html"), "charts": 3})
	// The library displayed once, then charts without it (InlineLibrary false).
	lib, err := viz.LibraryHTML()
	if err != nil {
		t.Fatal(err)
	}
	viz.InlineLibrary = false
	small := f.HTML() + g.HTML()
	viz.InlineLibrary = true
	if len(small) > 200_000 {
		t.Errorf("fragments without the library are %d bytes", len(small))
	}
	writeFile(t, filepath.Join(dir, "once.html"), "<!DOCTYPE html><html><body>"+small+lib+"</body></html>") // library after the charts: they wait
	pages = append(pages, map[string]any{"name": "library-once", "url": "file://" + filepath.Join(dir, "once.html"), "charts": 2})
	// Live: the first rendering, then (in the browser) the second replaces it.
	live := viz.NewLiveTraining(viz.TrainingOptions{})
	runs := sampleRuns(100)
	live.Add(runs[0].Name, runs[0].Log[:10]...)
	writeFile(t, filepath.Join(dir, "live.html"), `<!DOCTYPE html><html><body><div id="output">`+live.HTML()+`</div></body></html>`)
	live.Add(runs[0].Name, runs[0].Log[10:]...)
	writeFile(t, filepath.Join(dir, "live2.html"), live.HTML())
	pages = append(pages, map[string]any{"name": "live", "url": "file://" + filepath.Join(dir, "live.html"), "charts": 1,
		"live": filepath.Join(dir, "live2.html")})

	res := runCheck(t, map[string]any{"pages": pages})
	for _, p := range pages {
		name := p["name"].(string)
		r, ok := res.Pages[name]
		if !ok {
			t.Errorf("%s: no result", name)
			continue
		}
		checkDrawn(t, name, r.Charts, p["charts"].(int))
		checkShots(t, name, r.Shots)
		if len(r.Refused) > 0 {
			t.Errorf("%s: the page asked the network for %q", name, r.Refused)
		}
		if len(r.Errors) > 0 {
			t.Errorf("%s: page errors %q", name, r.Errors)
		}
	}
	l := res.Pages["live"].Live
	if l == nil || !l.SameInstance || l.Updates != 1 || l.Series != len(runs[0].Log) {
		t.Errorf("live update: %+v, want the same ECharts instance updated once to %d points", l, len(runs[0].Log))
	}
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// repoRoot is the directory holding go.mod above the working directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	d, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		p := filepath.Dir(d)
		if p == d {
			t.Fatal("no go.mod above the working directory")
		}
		d = p
	}
}

// TestBrowserNotebooks opens a notebook whose outputs are chart bundles in
// JupyterLab and in classic Notebook (nbclassic, require.js), served on
// localhost with everything else refused. It checks the stored (trusted)
// outputs render, then runs all cells twice, checking the charts render
// again, the same bundle shown twice draws twice, and a display updated
// with update_display_data updates its chart in place.
//
// Until the RetLab Go kernel lands, the cells run in the Python kernel,
// publishing bundles that Go wrote: the same display_data and
// update_display_data messages the Go kernel will send.
func TestBrowserNotebooks(t *testing.T) {
	needTools(t)
	jupyter := filepath.Join(repoRoot(t), ".venv", "bin", "jupyter")
	if _, err := os.Stat(jupyter); err != nil {
		if os.Getenv("RETLAB_REQUIRE_BROWSER") == "1" {
			t.Fatalf("no %s: run make setup", jupyter)
		}
		t.Skipf("no %s (make setup installs JupyterLab and nbclassic)", jupyter)
	}
	dir := t.TempDir()
	bundleFile := func(name string, b map[string]any) string {
		p := filepath.Join(dir, name+".json")
		data, _ := json.Marshal(b)
		writeFile(t, p, string(data))
		return p
	}
	figs := sampleFigures()
	a := figs["decay-matrices"].MIMEBundle()
	bb := figs["inference-cost"].MIMEBundle()
	if _, ok := a["image/svg+xml"]; !ok {
		t.Errorf("bundle has no image/svg+xml though node is present")
	}
	live := viz.NewLiveTraining(viz.TrainingOptions{})
	runs := sampleRuns(100)
	live.Add(runs[0].Name, runs[0].Log[:5]...)
	l1 := live.MIMEBundle()
	live.Add(runs[0].Name, runs[0].Log[5:]...)
	l2 := live.MIMEBundle()
	pa, pb, pl1, pl2 := bundleFile("a", a), bundleFile("b", bb), bundleFile("live1", l1), bundleFile("live2", l2)

	output := func(b map[string]any) map[string]any {
		return map[string]any{"output_type": "display_data", "data": b, "metadata": map[string]any{}}
	}
	code := func(src string, outs ...map[string]any) map[string]any {
		if outs == nil {
			outs = []map[string]any{}
		}
		return map[string]any{"cell_type": "code", "execution_count": nil, "metadata": map[string]any{},
			"source": src, "outputs": outs}
	}
	load := "import json, time\nfrom IPython.display import display, update_display\nload = lambda p: json.load(open(p))\n"
	nb := map[string]any{
		"nbformat": 4, "nbformat_minor": 5,
		"metadata": map[string]any{"kernelspec": map[string]any{"name": "python3", "display_name": "Python 3", "language": "python"}},
		"cells": []map[string]any{
			code(load+fmt.Sprintf("display(load(%q), raw=True)", pa), output(a)),
			code(fmt.Sprintf("b = load(%q)\ndisplay(b, raw=True)\ndisplay(b, raw=True)", pb), output(bb), output(bb)),
			code(fmt.Sprintf("display(load(%q), raw=True, display_id=%q)\ntime.sleep(1.5)\nupdate_display(load(%q), raw=True, display_id=%q)",
				pl1, live.DisplayID(), pl2, live.DisplayID())),
		},
	}
	for i, c := range nb["cells"].([]map[string]any) {
		c["id"] = "cell" + strconv.Itoa(i)
	}
	data, _ := json.MarshalIndent(nb, "", " ")
	writeFile(t, filepath.Join(dir, "charts.ipynb"), string(data))

	env := append(os.Environ(), "JUPYTER_DATA_DIR="+filepath.Join(dir, "data"), "JUPYTER_RUNTIME_DIR="+filepath.Join(dir, "runtime"),
		"JUPYTER_CONFIG_DIR="+filepath.Join(dir, "config"), "IPYTHONDIR="+filepath.Join(dir, "ipython"))
	trust := exec.Command(jupyter, "trust", filepath.Join(dir, "charts.ipynb"))
	trust.Env = env
	if o, err := trust.CombinedOutput(); err != nil {
		t.Fatalf("jupyter trust: %v\n%s", err, o)
	}
	lab := testutil.StartJupyterLab(t, jupyter, dir, env, 60*time.Second)
	origin, token := lab.Origin, lab.Token

	res := runCheck(t, map[string]any{"notebooks": []map[string]any{
		{"name": "lab", "ui": "lab", "url": origin + "/lab/tree/charts.ipynb?token=" + token, "origin": origin, "stored": 3, "executed": 4},
		{"name": "classic", "ui": "classic", "url": origin + "/notebooks/charts.ipynb?token=" + token, "origin": origin, "stored": 3, "executed": 4},
	}})
	for _, name := range []string{"lab", "classic"} {
		r, ok := res.Notebooks[name]
		if !ok || r.Failed != "" {
			log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			t.Errorf("%s: %s\nserver log tail: %s", name, r.Failed, testutil.Tail(string(log), 2000))
			continue
		}
		checkDrawn(t, name+" (stored outputs)", r.Stored, 3)
		checkDrawn(t, name+" (after running all twice)", r.Executed, 4)
		checkShots(t, name, r.Shots)
		liveDrawn := ""
		if n := len(r.Executed); n > 0 && r.Executed[n-1].Drawn != nil {
			liveDrawn = *r.Executed[n-1].Drawn
		}
		if k, _ := strconv.Atoi(liveDrawn); k < 1 {
			t.Errorf("%s: live chart drawn state %q, want >= 1 (updated in place, not re-created)", name, liveDrawn)
		}
		for _, u := range r.Refused {
			if strings.Contains(u, "echarts") || strings.Contains(u, "cdn") {
				t.Errorf("%s: a chart asked the network for %s", name, u)
			}
		}
		for _, e := range r.Errors {
			if strings.Contains(e, "echarts") || strings.Contains(e, "retlab") || strings.Contains(e, "already been declared") {
				t.Errorf("%s: page error %s", name, e)
			}
		}
		t.Logf("%s: stored %d, executed %d charts; refused %d requests; %d page errors", name, len(r.Stored), len(r.Executed), len(r.Refused), len(r.Errors))
	}
}
