package viz_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/viz"
)

// The expectations below are computed here, in float64, from the
// definitions (spec: D_nm = gamma^(n-m), Dn = D / sqrt(row sum)), not by the
// code under test.

func series(t *testing.T, f *viz.Figure) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, s := range f.Option["series"].([]any) {
		out = append(out, s.(map[string]any))
	}
	return out
}

// roundTrip checks the option is valid JSON and returns it decoded afresh.
func roundTrip(t *testing.T, f *viz.Figure) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(f.OptionJSON(), &m); err != nil {
		t.Fatalf("option JSON: %v", err)
	}
	return m
}

// axisIndex reads a series' axis index (absent means 0).
func axisIndex(s map[string]any, key string) int {
	if v, ok := s[key].(float64); ok {
		return int(v)
	}
	return 0
}

func near(a, b, rel float64) bool {
	return math.Abs(a-b) <= rel*math.Max(math.Abs(b), 1e-30)
}

func titles(f *viz.Figure) []string {
	var out []string
	for _, t := range f.Option["title"].([]any) {
		out = append(out, t.(map[string]any)["text"].(string))
	}
	return out
}

func TestDecayMatricesValues(t *testing.T) {
	gammas := []float64{0.9, 0.75, 1 - 1.0/1024}
	const N = 7
	for _, normalized := range []bool{false, true} {
		for _, logScale := range []bool{false, true} {
			f := viz.DecayMatrices(gammas, N, viz.DecayOptions{Normalized: normalized, LogScale: logScale})
			m := roundTrip(t, f)
			ss := series(t, f)
			if len(ss) != len(gammas) {
				t.Fatalf("%d series, want one per head (%d)", len(ss), len(gammas))
			}
			if got := len(m["grid"].([]any)); got != len(gammas) {
				t.Fatalf("%d grids, want %d", got, len(gammas))
			}
			for h, s := range ss {
				g := float64(float32(gammas[h])) // the model stores gamma in float32
				if s["type"] != "heatmap" || axisIndex(s, "xAxisIndex") != h || axisIndex(s, "yAxisIndex") != h {
					t.Fatalf("head %d: series %v", h, s["type"])
				}
				data := s["data"].([]any)
				if len(data) != N*(N+1)/2 {
					t.Fatalf("head %d: %d cells, want the %d on and below the diagonal", h, len(data), N*(N+1)/2)
				}
				for _, d := range data {
					v := d.(map[string]any)["value"].([]any)
					m, n, got := int(v[0].(float64)), int(v[1].(float64)), v[2].(float64)
					want := math.Pow(g, float64(n-m))
					if normalized {
						sum := 0.0
						for k := 0; k <= n; k++ {
							sum += math.Pow(g, float64(n-k))
						}
						want /= math.Sqrt(sum)
					}
					if logScale {
						if !near(got, math.Log10(want), 1e-4) && math.Abs(got-math.Log10(want)) > 1e-5 {
							t.Fatalf("head %d (n=%d,m=%d) normalized=%v: log10 %v, want %v", h, n, m, normalized, got, math.Log10(want))
						}
					} else if !near(got, want, 1e-5) {
						t.Fatalf("head %d (n=%d,m=%d) normalized=%v: %v, want %v", h, n, m, normalized, got, want)
					}
				}
			}
			ts := titles(f)
			if len(ts) != 1+len(gammas) || !strings.Contains(ts[1], "γ=0.900") || !strings.Contains(ts[3], "γ=0.99902") {
				t.Fatalf("titles %q: want a main title and one per head with its gamma", ts)
			}
		}
	}
}

func TestDecayMatricesPoolsLongSequences(t *testing.T) {
	g := 0.8
	f := viz.DecayMatrices([]float64{g}, 10, viz.DecayOptions{MaxCells: 5})
	data := series(t, f)[0]["data"].([]any)
	// 2x2 blocks; block (i,j) averages the drawn cells (n>=m) of rows
	// 2i..2i+1, columns 2j..2j+1.
	for _, d := range data {
		v := d.(map[string]any)["value"].([]any)
		j, i, got := int(v[0].(float64)), int(v[1].(float64)), v[2].(float64)
		sum, cnt := 0.0, 0
		for n := 2 * i; n < 2*i+2; n++ {
			for m := 2 * j; m < 2*j+2; m++ {
				if m <= n {
					sum += math.Pow(float64(float32(g)), float64(n-m))
					cnt++
				}
			}
		}
		if !near(got, sum/float64(cnt), 1e-5) {
			t.Fatalf("block (%d,%d) = %v, want %v", i, j, got, sum/float64(cnt))
		}
	}
	if len(data) != 15 {
		t.Fatalf("%d blocks, want 15 (5x5 lower triangle)", len(data))
	}
	x := f.Option["xAxis"].([]any)[0].(map[string]any)["data"].([]any)
	if len(x) != 5 || x[1] != "2" {
		t.Fatalf("pooled axis labels %v, want block starts 0,2,4,...", x)
	}
}

func TestDecayProfiles(t *testing.T) {
	gammas := retnet.Gammas(retnet.ScheduleTorchscale, 3)
	f := viz.DecayProfiles(gammas, viz.ProfileOptions{MaxDistance: 100})
	roundTrip(t, f)
	for h, s := range series(t, f) {
		g := 1 - math.Exp2(float64(-5-h))
		for _, d := range s["data"].([]any) {
			v := d.(map[string]any)["value"].([]any)
			dist, y := v[0].(float64), v[1].(float64)
			if !near(y, math.Pow(g, dist), 1e-5) {
				t.Fatalf("head %d d=%v: %v, want %v", h, dist, y, math.Pow(g, dist))
			}
		}
		half := math.Log(0.5) / math.Log(g)
		mem := 1 / (1 - g)
		name := s["name"].(string)
		if !strings.Contains(name, fmt.Sprintf("t½=%.4g", half)) || !strings.Contains(name, fmt.Sprintf("memory=%.4g", mem)) {
			t.Fatalf("legend %q: want half-life %.4g and memory %.4g", name, half, mem)
		}
		ml := s["markLine"].(map[string]any)["data"].([]any)[0].(map[string]any)["xAxis"].(float64)
		if !near(ml, half, 1e-5) {
			t.Fatalf("head %d half-life mark at %v, want %v", h, ml, half)
		}
	}
	// gamma = 1 (no decay): flat line, infinite memory, no half-life mark.
	f = viz.DecayProfiles([]float64{1}, viz.ProfileOptions{MaxDistance: 10})
	s := series(t, f)[0]
	if !strings.Contains(s["name"].(string), "memory=∞") || s["markLine"] != nil {
		t.Fatalf("gamma=1: %q %v", s["name"], s["markLine"])
	}
}

func TestRetentionScores(t *testing.T) {
	var recs []retnet.RetentionScores
	T := 5
	for _, lh := range [][2]int{{1, 1}, {0, 1}, {1, 0}, {0, 0}} { // out of order on purpose
		S := make([][]float32, T)
		for i := range S {
			S[i] = make([]float32, T)
			for j := 0; j <= i; j++ {
				S[i][j] = float32(lh[0]*100+lh[1]*10+i) - float32(j)*0.5 - 1
			}
		}
		recs = append(recs, retnet.RetentionScores{Layer: lh[0], Head: lh[1], Gamma: 0.9, Tokens: []string{"a", "b", "c", "d", "e"}, Scores: S})
	}
	f := viz.RetentionScores(recs, viz.ScoresOptions{})
	m := roundTrip(t, f)
	ts := titles(f)
	want := []string{"layer 0 head 0", "layer 0 head 1", "layer 1 head 0", "layer 1 head 1"}
	maxAbs := 0.0
	for p, s := range series(t, f) {
		if !strings.HasPrefix(ts[p+1], want[p]) {
			t.Fatalf("panel %d titled %q, want %q (sorted by layer, head)", p, ts[p+1], want[p])
		}
		l, h := p/2, p%2
		for _, d := range s["data"].([]any) {
			v := d.(map[string]any)["value"].([]any)
			j, i, got := v[0].(float64), v[1].(float64), v[2].(float64)
			w := float64(l*100+h*10) + i - j*0.5 - 1
			if !near(got, w, 1e-6) {
				t.Fatalf("panel %d S[%v][%v] = %v, want %v", p, i, j, got, w)
			}
			maxAbs = math.Max(maxAbs, math.Abs(w))
		}
	}
	vm := m["visualMap"].([]any)[0].(map[string]any)
	if vm["min"].(float64) != -maxAbs || vm["max"].(float64) != maxAbs {
		t.Fatalf("colour range [%v, %v], want symmetric ±%v for signed scores", vm["min"], vm["max"], maxAbs)
	}
	if x := m["xAxis"].([]any)[0].(map[string]any)["data"].([]any); x[2] != "c" {
		t.Fatalf("axis labels %v, want the tokens", x)
	}
}

func TestPerplexityVsSize(t *testing.T) {
	measured := []retnet.PerplexityPoint{
		{Model: "retnet", NonEmbeddingParams: 4_000_000, ValLoss: math.Log(50)},
		{Model: "retnet", NonEmbeddingParams: 1_000_000, Perplexity: 80},
		{Model: "transformer", NonEmbeddingParams: 1_000_000, Perplexity: 78},
	}
	f := viz.PerplexityVsSize(append(measured, viz.PaperFigure5()...), viz.PerplexityOptions{})
	m := roundTrip(t, f)
	if n := len(m["grid"].([]any)); n != 2 {
		t.Fatalf("%d panels, want measured and paper side by side", n)
	}
	for _, a := range m["xAxis"].([]any) {
		if a.(map[string]any)["type"] != "log" {
			t.Fatalf("x axis %v, want log", a)
		}
	}
	byName := map[string][]any{}
	for _, s := range series(t, f) {
		byName[s["name"].(string)] = s["data"].([]any)
	}
	pt := func(name string, i int) (float64, float64) {
		v := byName[name][i].(map[string]any)["value"].([]any)
		return v[0].(float64), v[1].(float64)
	}
	if x, y := pt("RetNet", 0); x != 1 || y != 80 {
		t.Fatalf("RetNet first point (%v, %v), want (1 M, 80): sorted by size", x, y)
	}
	if x, y := pt("RetNet", 1); x != 4 || !near(y, 50, 1e-6) {
		t.Fatalf("RetNet second point (%v, %v), want (4 M, exp(val loss) = 50)", x, y)
	}
	// Figure 5 from the spec: 1.3B ~14.8 vs ~14.5; 2.7B 13.2 vs 13.4; 6.7B 12.8 vs 13.0.
	for i, w := range [][3]float64{{1220, 14.8, 14.5}, {2520, 13.2, 13.4}, {6510, 12.8, 13.0}} {
		if x, y := pt("RetNet (paper)", i); x != w[0] || y != w[1] {
			t.Fatalf("paper RetNet %d: (%v, %v), want (%v, %v)", i, x, y, w[0], w[1])
		}
		if x, y := pt("Transformer (paper)", i); x != w[0] || y != w[2] {
			t.Fatalf("paper Transformer %d: (%v, %v), want (%v, %v)", i, x, y, w[0], w[2])
		}
	}
	if ts := titles(f); !strings.Contains(strings.Join(ts, "|"), "Figure 5") {
		t.Fatalf("titles %q: the paper panel must say where its numbers come from", ts)
	}
}

func TestInferenceCost(t *testing.T) {
	var b []retnet.InferenceBench
	for _, c := range []int{1024, 256, 512} {
		b = append(b, retnet.InferenceBench{Model: "retnet", Context: c, Batch: 1, LatencyMs: 2, TokensPerS: 500, StateBytes: 3 << 20, PeakRSSBytes: 100 << 20})
		b = append(b, retnet.InferenceBench{Model: "transformer", Context: c, Batch: 1, LatencyMs: float64(c) / 100, TokensPerS: 100000 / float64(c), StateBytes: int64(c) << 12})
	}
	f := viz.InferenceCost(b, viz.InferenceOptions{})
	m := roundTrip(t, f)
	if n := len(m["grid"].([]any)); n != 3 {
		t.Fatalf("%d panels, want memory, throughput, latency", n)
	}
	if a := m["xAxis"].([]any)[0].(map[string]any); a["type"] != "log" || a["logBase"] != 2.0 {
		t.Fatalf("x axis %v, want log base 2", a)
	}
	// The log axes start and end at the powers enclosing the data (contexts
	// 256..1024 are powers themselves), not one power beyond.
	for i, a := range m["xAxis"].([]any) {
		if a := a.(map[string]any); a["min"] != 256.0 || a["max"] != 1024.0 {
			t.Fatalf("x axis %d spans %v..%v, want 256..1024", i, a["min"], a["max"])
		}
	}
	odd := []retnet.InferenceBench{{Model: "retnet", Context: 300, Batch: 1, LatencyMs: 1, TokensPerS: 1, StateBytes: 1},
		{Model: "retnet", Context: 5000, Batch: 1, LatencyMs: 1, TokensPerS: 1, StateBytes: 1}}
	if a := roundTrip(t, viz.InferenceCost(odd, viz.InferenceOptions{}))["xAxis"].([]any)[0].(map[string]any); a["min"] != 256.0 || a["max"] != 8192.0 {
		t.Fatalf("contexts 300..5000: x axis spans %v..%v, want 256..8192", a["min"], a["max"])
	}
	ss := series(t, f)
	if len(ss) != 6 {
		t.Fatalf("%d series, want 2 models x 3 panels", len(ss))
	}
	for _, s := range ss {
		panel := axisIndex(s, "xAxisIndex")
		prev := 0.0
		for _, d := range s["data"].([]any) {
			v := d.(map[string]any)["value"].([]any)
			ctx, y := v[0].(float64), v[1].(float64)
			if ctx <= prev {
				t.Fatalf("%s: contexts not increasing", s["name"])
			}
			prev = ctx
			var want float64
			switch {
			case s["name"] == "RetNet" && panel == 0:
				want = 3
			case s["name"] == "Transformer" && panel == 0:
				want = ctx * 4096 / (1 << 20)
			case s["name"] == "Transformer" && panel == 1:
				want = 100000 / ctx
			case s["name"] == "Transformer" && panel == 2:
				want = ctx / 100
			case panel == 1:
				want = 500
			default:
				want = 2
			}
			if !near(y, want, 1e-5) {
				t.Fatalf("%s panel %d context %v: %v, want %v", s["name"], panel, ctx, y, want)
			}
		}
	}
	f = viz.InferenceCost(b, viz.InferenceOptions{Memory: "rss"})
	if y := series(t, f)[0]["data"].([]any)[0].(map[string]any)["value"].([]any)[1]; y != 100.0 {
		t.Fatalf("rss memory %v MiB, want 100", y)
	}
}

func TestTrainingCurves(t *testing.T) {
	v := 3.5
	log := []retnet.LogEntry{{Step: 0, Tokens: 0, Loss: 5}, {Step: 1, Tokens: 100, Loss: 4}, {Step: 2, Tokens: 200, Loss: 3.9, ValLoss: &v}}
	f := viz.TrainingCurves([]viz.Run{{Name: "a", Log: log}}, viz.TrainingOptions{X: "tokens", Y: "ppl", Smooth: 0.5})
	roundTrip(t, f)
	ss := series(t, f)
	if len(ss) != 2 || ss[0]["name"] != "a train" || ss[1]["name"] != "a val" {
		t.Fatalf("series %v %v, want train and val", ss[0]["name"], ss[len(ss)-1]["name"])
	}
	ema := []float64{5, 0.5*5 + 0.5*4, 0.5*(0.5*5+0.5*4) + 0.5*3.9}
	for i, d := range ss[0]["data"].([]any) {
		p := d.(map[string]any)["value"].([]any)
		if p[0].(float64) != float64(100*i) || !near(p[1].(float64), math.Exp(ema[i]), 1e-5) {
			t.Fatalf("train point %d = %v, want (%d, exp(%v))", i, p, 100*i, ema[i])
		}
	}
	p := ss[1]["data"].([]any)[0].(map[string]any)["value"].([]any)
	if p[0].(float64) != 200 || !near(p[1].(float64), math.Exp(3.5), 1e-5) {
		t.Fatalf("val point %v, want (200, exp(3.5)), never smoothed", p)
	}
	if ss[1]["lineStyle"].(map[string]any)["type"] != "dashed" {
		t.Fatalf("validation series should be dashed")
	}
}

func TestLiveTrainingUpdatesInPlace(t *testing.T) {
	if _, err := viz.EChartsJS(); err != nil {
		if os.Getenv("RETLAB_REQUIRE_BROWSER") == "1" {
			t.Fatal(err)
		}
		t.Skipf("ECharts not installed (make setup): %v", err)
	}
	live := viz.NewLiveTraining(viz.TrainingOptions{})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := 0; s < 25; s++ {
				live.Add("run", retnet.LogEntry{Step: s, Loss: 1})
			}
		}()
	}
	wg.Wait()
	if n := len(series(t, live.Figure())[0]["data"].([]any)); n != 100 {
		t.Fatalf("%d points after 100 concurrent Adds", n)
	}
	b1, b2 := live.MIMEBundle(), live.MIMEBundle()
	key := regexp.MustCompile(`key = "([^"]+)"`)
	k1 := key.FindStringSubmatch(b1["text/html"].(string))
	k2 := key.FindStringSubmatch(b2["text/html"].(string))
	if k1 == nil || k2 == nil || k1[1] != live.DisplayID() || k2[1] != live.DisplayID() {
		t.Fatalf("live bundles must carry the display id %q as their chart key", live.DisplayID())
	}
	if _, ok := b1["text/plain"].(string); !ok {
		t.Fatalf("bundle without text/plain")
	}
}

func TestFormAgreement(t *testing.T) {
	rows := []retnet.FormAgreement{
		{Layer: 1, ParallelVsRecurrent: 2e-6, ParallelVsChunkwise: 0, RecurrentVsChunkwise: 1e-3},
		{Layer: 0, ParallelVsRecurrent: 1e-7, ParallelVsChunkwise: 3e-5, RecurrentVsChunkwise: 4e-5},
	}
	f := viz.FormAgreement(rows, viz.AgreementOptions{})
	m := roundTrip(t, f)
	if x := m["xAxis"].([]any)[0].(map[string]any)["data"].([]any); x[0] != "layer 0" || x[1] != "layer 1" {
		t.Fatalf("categories %v, want layers in order", x)
	}
	want := [][]float64{{1e-7, 2e-6}, {3e-5, 0}, {4e-5, 1e-3}}
	for i, s := range series(t, f) {
		if s["type"] != "bar" {
			t.Fatalf("series %d type %v, want bar", i, s["type"])
		}
		for l, d := range s["data"].([]any) {
			if got := d.(map[string]any)["value"].(float64); !near(got, want[i][l], 1e-9) {
				t.Fatalf("series %d layer %d: %v, want %v", i, l, got, want[i][l])
			}
		}
	}
	f = viz.FormAgreement(rows, viz.AgreementOptions{LogY: true})
	if !strings.Contains(titles(f)[0]+fmt.Sprint(f.Option["title"]), "1 exact zeros") {
		t.Fatalf("log axis must say a zero was left out: %v", f.Option["title"])
	}
}

func TestHTMLFragment(t *testing.T) {
	if _, err := viz.EChartsPath(); err != nil {
		t.Skipf("ECharts not installed (make setup): %v", err)
	}
	f := viz.DecayMatrices([]float64{0.9}, 4, viz.DecayOptions{})
	h1, h2 := f.HTML(), f.HTML()
	id := regexp.MustCompile(`<div id="(retlab-chart-[^"]+)"`)
	i1, i2 := id.FindStringSubmatch(h1), id.FindStringSubmatch(h2)
	if i1 == nil || i2 == nil || i1[1] == i2[1] {
		t.Fatalf("each HTML call needs its own element id (got %v, %v)", i1, i2)
	}
	for _, want := range []string{"window.define = undefined", `version="5.4.3"`, "getInstanceByDom", `renderer = "svg"`} {
		if !strings.Contains(h1, want) {
			t.Fatalf("fragment lacks %q", want)
		}
	}
	// Nothing declared at top level of a script (re-running a cell must not
	// collide): every chart script is one IIFE.
	for _, s := range regexp.MustCompile(`(?s)<script[^>]*>(.*?)</script>`).FindAllStringSubmatch(h1, -1) {
		body := strings.TrimSpace(s[1])
		if !strings.HasPrefix(body, "(function") && !strings.HasPrefix(body, "if (!window.echarts)") {
			t.Fatalf("script starts with %.40q: top-level code could collide", body)
		}
	}
	if strings.Contains(h1, "cdn") || strings.Contains(h1, "src=\"http") {
		t.Fatalf("fragment refers to the network")
	}
	b := f.MIMEBundle()
	if b["text/plain"] != f.String() || b["text/html"] == nil {
		t.Fatalf("bundle %v", b)
	}
}

func TestMissingEChartsSaysHowToInstall(t *testing.T) {
	t.Setenv(viz.EnvECharts, filepath.Join(t.TempDir(), "nope.js"))
	_, err := viz.EChartsPath()
	if err == nil || !strings.Contains(err.Error(), "make setup") || !strings.Contains(err.Error(), viz.EnvECharts) {
		t.Fatalf("error %v: want how to install", err)
	}
	h := viz.DecayMatrices([]float64{0.9}, 4, viz.DecayOptions{}).HTML()
	if !strings.Contains(h, "make setup") {
		t.Fatalf("HTML without ECharts should say how to install it: %.200s", h)
	}
	if err := viz.DecayMatrices([]float64{0.9}, 4, viz.DecayOptions{}).SaveHTML(filepath.Join(t.TempDir(), "x.html")); err == nil {
		t.Fatalf("SaveHTML without ECharts succeeded")
	}
}

func TestReadRecords(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	arr := write("a.json", `[{"model":"retnet","context":8,"batch":1,"latency_ms":1.5}]`)
	jsonl := write("b.jsonl", "{\"step\":1,\"loss\":2.5}\n\n{\"step\":2,\"loss\":2.25,\"val_loss\":2.5}\n")
	bad := write("c.jsonl", "{\"step\":1}\n{oops\n")
	ib, err := viz.ReadInferenceBench(arr)
	if err != nil || len(ib) != 1 || ib[0].LatencyMs != 1.5 || ib[0].Context != 8 {
		t.Fatalf("array: %v %v", ib, err)
	}
	log, err := viz.ReadTrainingLog(jsonl)
	if err != nil || len(log) != 2 || log[1].Loss != 2.25 || log[1].ValLoss == nil || *log[1].ValLoss != 2.5 {
		t.Fatalf("jsonl: %v %v", log, err)
	}
	if _, err := viz.ReadTrainingLog(bad); err == nil || !strings.Contains(err.Error(), "record 2") {
		t.Fatalf("bad jsonl: %v, want an error naming record 2", err)
	}
}

func TestStyleOverrides(t *testing.T) {
	f := viz.DecayProfiles([]float64{0.9, 0.8}, viz.ProfileOptions{Style: viz.Style{
		Title: "T", Subtitle: "S", Width: 640, Height: 300, Colors: []string{"#111111", "#222222"},
	}})
	if f.Width != 640 || f.Height != 300 {
		t.Fatalf("size %dx%d", f.Width, f.Height)
	}
	main := f.Option["title"].([]any)[0].(map[string]any)
	if main["text"] != "T" || main["subtext"] != "S" {
		t.Fatalf("title %v", main)
	}
	if c := series(t, f)[1]["lineStyle"].(map[string]any)["color"]; c != "#222222" {
		t.Fatalf("colour %v", c)
	}
	if f.Option["animation"] != false {
		t.Fatalf("animation should default off")
	}
}

func TestPanics(t *testing.T) {
	for name, fn := range map[string]func(){
		"no heads":  func() { viz.DecayMatrices(nil, 4, viz.DecayOptions{}) },
		"bad gamma": func() { viz.DecayProfiles([]float64{1.5}, viz.ProfileOptions{}) },
		"ragged scores": func() {
			viz.RetentionScores([]retnet.RetentionScores{{Scores: [][]float32{{1, 2}, {1}}}}, viz.ScoresOptions{})
		},
		"bad X": func() { viz.InferenceCost([]retnet.InferenceBench{{}}, viz.InferenceOptions{X: "tokens"}) },
		"bad Y": func() { viz.TrainingCurves(nil, viz.TrainingOptions{Y: "acc"}) },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.HasPrefix(fmt.Sprint(r), "viz: ") {
					t.Errorf("%s: panic %v, want a viz: message", name, r)
				}
			}()
			fn()
		}()
	}
}

// Profiles far past a fast head's memory underflow to 0 (and subnormals on
// the way): the option must still encode, on linear and log axes.
func TestDecayProfilesUnderflow(t *testing.T) {
	for _, logY := range []bool{false, true} {
		f := viz.DecayProfiles([]float64{0.96875, 0.5}, viz.ProfileOptions{MaxDistance: 65536, LogY: logY})
		if js := f.OptionJSON(); !strings.Contains(string(js), "65536") {
			t.Errorf("logY %v: option lacks the last distance", logY)
		}
	}
}

func TestLines(t *testing.T) {
	in := []viz.Series{
		{Name: "a", Points: [][2]float64{{3, 0.5}, {40, 2}, {math.NaN(), 1}}},
		{Name: "b", Points: [][2]float64{{3, 7}}, Dashed: true, Color: "#123456"},
	}
	f := viz.Lines(in, viz.LinesOptions{Style: viz.Style{Title: "T"}, XName: "x", YName: "y", XLog: 2, YLog: 10})
	m := roundTrip(t, f)
	x, y := m["xAxis"].([]any)[0].(map[string]any), m["yAxis"].([]any)[0].(map[string]any)
	// 3..40 lies between 2^1 and 2^6; 0.5..7 between 10^-1 and 10^1.
	if x["type"] != "log" || x["logBase"] != 2.0 || x["min"] != 2.0 || x["max"] != 64.0 || x["name"] != "x" {
		t.Fatalf("x axis %v", x)
	}
	if y["type"] != "log" || y["logBase"] != 10.0 || y["min"] != 0.1 || y["max"] != 10.0 || y["name"] != "y" {
		t.Fatalf("y axis %v", y)
	}
	ss := series(t, f)
	if len(ss) != 2 {
		t.Fatalf("%d series", len(ss))
	}
	if d := ss[0]["data"].([]any); len(d) != 2 {
		t.Fatalf("series a has %d points, want 2 (the NaN one dropped)", len(d))
	}
	ls := ss[1]["lineStyle"].(map[string]any)
	if ls["type"] != "dashed" || ls["color"] != "#123456" {
		t.Fatalf("series b line style %v, want dashed #123456", ls)
	}
	if c := ss[0]["itemStyle"].(map[string]any)["color"]; c != "#5470c6" {
		t.Fatalf("series a colour %v, want the palette's first", c)
	}
	// Linear axes start at 0 (ECharts' default for value axes: no min set).
	lin := roundTrip(t, viz.Lines(in[:1], viz.LinesOptions{}))
	if a := lin["xAxis"].([]any)[0].(map[string]any); a["type"] != "value" || a["min"] != nil {
		t.Fatalf("linear x axis %v", a)
	}
	for _, base := range []float64{-2, 1, math.Inf(1)} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "log base") {
					t.Fatalf("log base %v: panic %v, want one naming the log base", base, r)
				}
			}()
			viz.Lines(in, viz.LinesOptions{XLog: base})
		}()
	}
}
