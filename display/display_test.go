package display_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/retlab/retlab/display"
)

type card struct{ title string }

func (c card) HTML() string     { return "<h3>" + c.title + "</h3>" }
func (c card) Markdown() string { return "### " + c.title }
func (c card) String() string   { return "card " + c.title }

type chart struct{}

func (chart) MIMEBundle() display.Bundle {
	return display.Bundle{"application/vnd.test+json": map[string]any{"x": 1}, display.MIMEHTML: "<div></div>"}
}

type gophernotesStyle struct{}

func (gophernotesStyle) SimpleRender() map[string]any { return map[string]any{"text/html": "<i>g</i>"} }

type boom struct{}

func (boom) HTML() string { panic("no html today") }

func TestBundleOfMergesSingleTypeMethods(t *testing.T) {
	b := display.BundleOf(card{"loss"})
	if b[display.MIMEHTML] != "<h3>loss</h3>" || b[display.MIMEMarkdown] != "### loss" {
		t.Fatalf("html/markdown missing: %v", b)
	}
	if b.Text() != "card loss" {
		t.Fatalf("text/plain = %q, want the String method's", b.Text())
	}
}

func TestBundleOfRenderer(t *testing.T) {
	b := display.BundleOf(chart{})
	if _, ok := b["application/vnd.test+json"]; !ok {
		t.Fatalf("bundle lost a custom type: %v", b)
	}
	if !strings.Contains(b.Text(), "text/html") {
		t.Fatalf("fallback text should list the MIME types, got %q", b.Text())
	}
	if b := display.BundleOf(gophernotesStyle{}); b[display.MIMEHTML] != "<i>g</i>" || b.Text() == "" {
		t.Fatalf("SimpleRender: %v", b)
	}
}

func TestBundleOfPlainValues(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{{42, "42"}, {"hi", "hi"}, {nil, "<nil>"}, {[]int{1, 2}, "[1 2]"}, {errors.New("bad"), "bad"}} {
		b := display.BundleOf(c.v)
		if len(b) != 1 || b.Text() != c.want {
			t.Errorf("BundleOf(%#v) = %v, want only text/plain %q", c.v, b, c.want)
		}
		if display.Renders(c.v) {
			t.Errorf("Renders(%#v) = true", c.v)
		}
	}
}

func TestBundleOfPanickingMethod(t *testing.T) {
	b := display.BundleOf(boom{})
	if !strings.Contains(b.Text(), "no html today") {
		t.Fatalf("panic not reported in text: %v", b)
	}
}

func TestBundleOfImage(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	img.Set(1, 1, color.RGBA{255, 0, 0, 255})
	b := display.BundleOf(img)
	data, ok := b[display.MIMEPNG].([]byte)
	if !ok {
		t.Fatalf("no png: %v", b.Types())
	}
	back, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if back.Bounds() != img.Bounds() {
		t.Fatalf("decoded bounds %v, want %v", back.Bounds(), img.Bounds())
	}
	if r, _, _, _ := back.At(1, 1).RGBA(); r>>8 != 255 {
		t.Fatalf("pixel lost: %v", back.At(1, 1))
	}
	if b.Text() != "<image 3x2>" {
		t.Fatalf("text %q", b.Text())
	}
}

func TestConstructorsCarryText(t *testing.T) {
	for name, b := range map[string]display.Bundle{
		"HTML": display.HTML("<b>x</b>"), "SVG": display.SVG("<svg/>"), "PNG": display.PNG([]byte{1}),
		"JPEG": display.JPEG([]byte{1}), "Markdown": display.Markdown("*x*"), "JSON": display.JSON(map[string]int{"a": 1}),
		"LaTeX": display.LaTeX("x^2"), "Math": display.Math("x^2"), "JS": display.JavaScript("1"), "PDF": display.PDF([]byte("%PDF")),
	} {
		if b.Text() == "" || len(b) != 2 {
			t.Errorf("%s: %v", name, b)
		}
		if _, err := json.Marshal(map[string]any(b)); err != nil {
			t.Errorf("%s: not JSON-encodable: %v", name, err)
		}
	}
	if display.LaTeX("$x$")[display.MIMELaTeX] != "$x$" || display.Math("x")[display.MIMELaTeX] != "$$x$$" {
		t.Fatal("latex delimiters")
	}
}

func TestFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.json")
	os.WriteFile(p, []byte(`{"a": [1, 2]}`), 0o644)
	b, err := display.File(p)
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := json.Marshal(map[string]any(b))
	if !strings.Contains(string(enc), `"application/json":{"a":[1,2]}`) {
		t.Fatalf("json file not embedded as JSON: %s", enc)
	}
	if _, err := display.File(filepath.Join(dir, "x.xyz")); err == nil {
		t.Fatal("unknown extension accepted")
	}
	if _, err := display.File(filepath.Join(dir, "missing.png")); err == nil {
		t.Fatal("missing file accepted")
	}
}

// recSink records what it receives.
type recSink struct {
	mu       sync.Mutex
	displays []rec
	clears   int
	progress []display.ProgressState
}

type rec struct {
	b      display.Bundle
	id     string
	update bool
}

func (s *recSink) Display(b display.Bundle, id string, update bool) {
	s.mu.Lock()
	s.displays = append(s.displays, rec{b, id, update})
	s.mu.Unlock()
}
func (s *recSink) Clear(bool) { s.mu.Lock(); s.clears++; s.mu.Unlock() }
func (s *recSink) Progress(p display.ProgressState) {
	s.mu.Lock()
	s.progress = append(s.progress, p)
	s.mu.Unlock()
}

func withSink(t *testing.T, s display.Sink) {
	prev := display.SetSink(s)
	t.Cleanup(func() { display.SetSink(prev) })
}

func TestShowUpdateIDs(t *testing.T) {
	s := &recSink{}
	withSink(t, s)
	id := display.Show(display.HTML("<b>1</b>"))
	display.Update(id, display.HTML("<b>2</b>"))
	display.ShowID("fixed", 3)
	display.Clear(true)
	if len(s.displays) != 3 || s.clears != 1 {
		t.Fatalf("got %d displays, %d clears", len(s.displays), s.clears)
	}
	if s.displays[0].id != id || s.displays[0].update || len(id) != 32 {
		t.Fatalf("show: %+v (id %q)", s.displays[0], id)
	}
	if s.displays[1].id != id || !s.displays[1].update || s.displays[1].b[display.MIMEHTML] != "<b>2</b>" {
		t.Fatalf("update: %+v", s.displays[1])
	}
	if s.displays[2].id != "fixed" || s.displays[2].b.Text() != "3" {
		t.Fatalf("ShowID: %+v", s.displays[2])
	}
	if display.NewID() == display.NewID() {
		t.Fatal("ids repeat")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Update with empty id did not panic")
		}
	}()
	display.Update("", 1)
}

func TestSetSinkNilRestoresText(t *testing.T) {
	prev := display.SetSink(nil)
	defer display.SetSink(prev)
	if _, ok := display.CurrentSink().(*display.TextSink); !ok {
		t.Fatalf("SetSink(nil) left %T", display.CurrentSink())
	}
}

func TestProgressThrottlesAndCloses(t *testing.T) {
	s := &recSink{}
	withSink(t, s)
	const n = 100000
	p := display.NewProgress(n, "train")
	p.SetUnit("step")
	for i := 1; i <= n; i++ {
		p.Set(i, display.Metric{Name: "loss", Value: 1 / float64(i)})
	}
	p.Close()
	p.Close()
	p.Set(5) // ignored after Close
	if len(s.progress) < 3 || len(s.progress) > 1000 {
		t.Fatalf("%d updates for %d Set calls: not throttled", len(s.progress), n)
	}
	first, last := s.progress[0], s.progress[len(s.progress)-1]
	if first.Done != 0 || first.Closed || first.ID == "" {
		t.Fatalf("first state %+v", first)
	}
	if !last.Closed || last.Done != n || last.ID != first.ID || last.Fraction() != 1 {
		t.Fatalf("last state %+v", last)
	}
	closed := 0
	for _, st := range s.progress {
		if st.Closed {
			closed++
		}
	}
	if closed != 1 {
		t.Fatalf("%d closed states, want 1", closed)
	}
	if want := float64(n) / last.Elapsed.Seconds(); last.Rate < want*0.999 || last.Rate > want*1.001 {
		t.Fatalf("final rate %g, want the average %g", last.Rate, want)
	}
	if len(last.Metrics) != 1 || last.Metrics[0].Value != 1/float64(n) {
		t.Fatalf("metrics %v", last.Metrics)
	}
	if !strings.Contains(last.Line(), "100%") || !strings.Contains(last.Line(), "step/s") || !strings.Contains(last.Line(), "loss=1e-05") {
		t.Fatalf("line %q", last.Line())
	}
}

func TestProgressRateAndETA(t *testing.T) {
	s := &recSink{}
	withSink(t, s)
	p := display.NewProgress(10, "")
	p.MinInterval = 0
	start := time.Now()
	for i := 1; i <= 4; i++ {
		time.Sleep(20 * time.Millisecond)
		p.Set(i)
	}
	st := p.State()
	el := time.Since(start).Seconds()
	// Every sample is ~1 item per 20ms; the smoothed rate must be near the
	// average rate and the ETA consistent with it.
	avg := 4 / el
	if st.Rate < avg/3 || st.Rate > avg*3 {
		t.Fatalf("rate %g far from the average %g", st.Rate, avg)
	}
	wantETA := time.Duration(float64(6) / st.Rate * float64(time.Second))
	if d := st.ETA - wantETA; d < -time.Millisecond || d > time.Millisecond {
		t.Fatalf("ETA %v, want (total-done)/rate = %v", st.ETA, wantETA)
	}
	p.Close()
}

func TestNilProgressIsInert(t *testing.T) {
	var p *display.Progress
	p.Set(1)
	p.Add(1)
	p.SetTotal(3)
	p.SetUnit("x")
	p.Close()
	if p.State().Done != 0 {
		t.Fatal("nil progress has state")
	}
}

func TestTextSinkPlainLines(t *testing.T) {
	var out, errw bytes.Buffer
	ts := display.NewTextSink(&out, &errw)
	ts.LineInterval = time.Hour
	withSink(t, ts)
	p := display.NewProgress(50, "bench")
	for i := 1; i <= 50; i++ {
		p.Set(i)
	}
	p.Close()
	display.Show(display.HTML("<b>x</b>"))
	lines := strings.Split(strings.TrimSpace(errw.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "bench   0%") || !strings.Contains(lines[1], "50/50") {
		t.Fatalf("progress lines %q", lines)
	}
	if strings.Contains(errw.String(), "\r") {
		t.Fatal("carriage return on a non-terminal")
	}
	if out.String() != "<b>x</b>\n" {
		t.Fatalf("stdout %q", out.String())
	}
}

func TestInterruptFlag(t *testing.T) {
	defer display.SetInterrupted(false)
	if display.Interrupted() || display.CheckInterrupt() != nil {
		t.Fatal("interrupted at start")
	}
	display.SetInterrupted(true)
	if !display.Interrupted() || !errors.Is(display.CheckInterrupt(), display.ErrInterrupted) {
		t.Fatal("flag not set")
	}
}

func TestMetricFormat(t *testing.T) {
	for v, want := range map[float64]string{2.3456789: "2.346", 12345: "12.3k", 2.5e6: "2.5M", 0.00012: "0.00012", 3e9: "3G"} {
		if got := (display.Metric{Name: "m", Value: v}).String(); got != "m="+want {
			t.Errorf("%g: %q, want m=%s", v, got, want)
		}
	}
}

type mapChart struct{}

func (mapChart) MIMEBundle() map[string]any { return map[string]any{"text/html": "<div>m</div>"} }

type live struct{ n int }

func (l *live) DisplayID() string { return "live-1" }
func (l *live) HTML() string      { return fmt.Sprintf("<b>%d</b>", l.n) }

func TestMapRendererAndIdentified(t *testing.T) {
	b := display.BundleOf(mapChart{})
	if b[display.MIMEHTML] != "<div>m</div>" || b.Text() == "" || !display.Renders(mapChart{}) {
		t.Fatalf("MapRenderer: %v", b)
	}
	s := &recSink{}
	withSink(t, s)
	l := &live{1}
	if id := display.Show(l); id != "live-1" {
		t.Fatalf("Show used id %q, want the value's own", id)
	}
	l.n = 2
	display.Refresh(l)
	if len(s.displays) != 2 || !s.displays[1].update || s.displays[1].id != "live-1" || s.displays[1].b[display.MIMEHTML] != "<b>2</b>" {
		t.Fatalf("Refresh: %+v", s.displays)
	}
}
