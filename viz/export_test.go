package viz_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/retlab/retlab/viz"
)

// TestExport writes every chart type as SVG, PNG and PDF in one batch and
// checks each file: the requested size, and ink on the page.
func TestExport(t *testing.T) {
	needTools(t)
	dir := t.TempDir()
	figs := sampleFigures()
	var jobs []viz.ExportJob
	for name, f := range figs {
		base := filepath.Join(dir, name)
		jobs = append(jobs, viz.ExportJob{Figure: f, SVG: base + ".svg", PNG: base + ".png", PDF: base + ".pdf"})
	}
	// One PNG at print density.
	jobs = append(jobs, viz.ExportJob{Figure: figs["decay-profiles"], PNG: filepath.Join(dir, "profiles@2x.png"), Scale: 2})
	t0 := time.Now()
	if err := viz.Export(jobs...); err != nil {
		t.Fatal(err)
	}
	t.Logf("exported %d figures as SVG+PNG+PDF in %v", len(figs), time.Since(t0).Round(time.Millisecond))
	for name, f := range figs {
		base := filepath.Join(dir, name)
		svg, err := os.ReadFile(base + ".svg")
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`<svg[^>]*width="(\d+)"[^>]*height="(\d+)"`).FindSubmatch(svg)
		if m == nil || string(m[1]) != strconv.Itoa(f.Width) || string(m[2]) != strconv.Itoa(f.Height) {
			t.Errorf("%s.svg: size %q, want %dx%d", name, m, f.Width, f.Height)
		}
		if n := bytes.Count(svg, []byte("<path")) + bytes.Count(svg, []byte("<text")); n < 20 {
			t.Errorf("%s.svg: only %d paths and texts: blank?", name, n)
		}
		b, ink, colours := inkFraction(t, base+".png")
		if b.Dx() != f.Width || b.Dy() != f.Height {
			t.Errorf("%s.png: %dx%d, want %dx%d", name, b.Dx(), b.Dy(), f.Width, f.Height)
		}
		if ink < 0.01 || colours < 4 {
			t.Errorf("%s.png: %.2f%% ink, %d colours: blank?", name, 100*ink, colours)
		}
		pdf, err := os.ReadFile(base + ".pdf")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
			t.Errorf("%s.pdf: not a PDF", name)
		}
		// One page of the figure's size: CSS px are 0.75 pt.
		box := regexp.MustCompile(`/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]`).FindAllSubmatch(pdf, -1)
		if len(box) != 1 {
			t.Errorf("%s.pdf: %d pages, want 1", name, len(box))
		} else {
			w, _ := strconv.ParseFloat(string(box[0][1]), 64)
			h, _ := strconv.ParseFloat(string(box[0][2]), 64)
			if abs(w-0.75*float64(f.Width)) > 1 || abs(h-0.75*float64(f.Height)) > 1 {
				t.Errorf("%s.pdf: page %vx%v pt, want %vx%v", name, w, h, 0.75*float64(f.Width), 0.75*float64(f.Height))
			}
		}
	}
	b, _, _ := inkFraction(t, filepath.Join(dir, "profiles@2x.png"))
	if f := figs["decay-profiles"]; b.Dx() != 2*f.Width || b.Dy() != 2*f.Height {
		t.Errorf("2x PNG %dx%d, want %dx%d", b.Dx(), b.Dy(), 2*f.Width, 2*f.Height)
	}
	if keep := os.Getenv("RETLAB_VIZ_KEEP"); keep != "" {
		for _, j := range jobs {
			for _, p := range []string{j.SVG, j.PNG, j.PDF} {
				if p != "" {
					data, _ := os.ReadFile(p)
					os.WriteFile(filepath.Join(keep, filepath.Base(p)), data, 0o644)
				}
			}
		}
	}
}

// TestSVGWorkerIsReused checks the Node worker stays up: the second render
// must not pay Node's start-up again.
func TestSVGWorkerIsReused(t *testing.T) {
	needTools(t)
	f := sampleFigures()["decay-profiles"]
	var d [3]time.Duration
	for i := range d {
		t0 := time.Now()
		if _, err := f.SVG(); err != nil {
			t.Fatal(err)
		}
		d[i] = time.Since(t0)
	}
	t.Logf("SVG render: first %v, then %v, %v", d[0], d[1], d[2])
	if d[2] > 5*time.Second {
		t.Errorf("a warm SVG render took %v", d[2])
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
