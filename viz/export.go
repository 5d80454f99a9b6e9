package viz

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// The Node scripts that render figures. They are ours (not third-party
// code) and are written to a cache directory on first use, so a RetLab
// binary needs only node, echarts.min.js and, for PNG/PDF, playwright-core
// and Chromium at run time.
//
//go:embed js/ssr.cjs js/raster.cjs
var scripts embed.FS

var scriptDir struct {
	sync.Mutex
	dir string
}

// scriptPath writes the embedded script name to a directory named by the
// scripts' hash (shared by processes, written atomically) and returns its path.
func scriptPath(name string) (string, error) {
	scriptDir.Lock()
	defer scriptDir.Unlock()
	if scriptDir.dir == "" {
		h := sha256.New()
		for _, n := range []string{"js/ssr.cjs", "js/raster.cjs"} {
			b, _ := scripts.ReadFile(n)
			h.Write(b)
		}
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		dir := filepath.Join(base, "retlab-viz", hex.EncodeToString(h.Sum(nil))[:12])
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("viz: script directory: %w", err)
		}
		for _, n := range []string{"ssr.cjs", "raster.cjs"} {
			p := filepath.Join(dir, n)
			if _, err := os.Stat(p); err == nil {
				continue
			}
			b, _ := scripts.ReadFile("js/" + n)
			tmp, err := os.CreateTemp(dir, n+".*")
			if err != nil {
				return "", fmt.Errorf("viz: writing %s: %w", n, err)
			}
			_, werr := tmp.Write(b)
			cerr := tmp.Close()
			if werr != nil || cerr != nil {
				os.Remove(tmp.Name())
				return "", fmt.Errorf("viz: writing %s: %v %v", n, werr, cerr)
			}
			if err := os.Rename(tmp.Name(), p); err != nil {
				return "", fmt.Errorf("viz: writing %s: %w", n, err)
			}
		}
		scriptDir.dir = dir
	}
	return filepath.Join(scriptDir.dir, name), nil
}

// SSRTimeout bounds one server-side render (a worker that takes longer is
// stopped and restarted on the next call).
var SSRTimeout = 60 * time.Second

// ssrWorker is one long-lived `node ssr.cjs` process: starting Node and
// loading ECharts costs about a second, a render afterwards milliseconds.
type ssrWorker struct {
	mu     sync.Mutex
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	stderr *bytes.Buffer
}

var worker ssrWorker

func (w *ssrWorker) start() error {
	node, err := nodePath()
	if err != nil {
		return err
	}
	lib, err := EChartsPath()
	if err != nil {
		return err
	}
	script, err := scriptPath("ssr.cjs")
	if err != nil {
		return err
	}
	cmd := exec.Command(node, script, lib)
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	w.stderr = &bytes.Buffer{}
	cmd.Stderr = w.stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("viz: starting node: %w", err)
	}
	w.cmd, w.in, w.out = cmd, in, bufio.NewReaderSize(out, 1<<20)
	return nil
}

func (w *ssrWorker) stop() {
	if w.cmd != nil {
		w.in.Close()
		w.cmd.Process.Kill()
		w.cmd.Wait()
		w.cmd = nil
	}
}

// render returns the SVG of option at w x h pixels.
func (w *ssrWorker) render(option map[string]any, width, height int) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cmd == nil {
		if err := w.start(); err != nil {
			return "", err
		}
	}
	req, err := json.Marshal(map[string]any{"option": option, "width": width, "height": height})
	if err != nil {
		return "", fmt.Errorf("viz: option is not JSON: %w", err)
	}
	type reply struct {
		line []byte
		err  error
	}
	done := make(chan reply, 1)
	go func() {
		if _, err := w.in.Write(append(req, '\n')); err != nil {
			done <- reply{nil, err}
			return
		}
		line, err := w.out.ReadBytes('\n')
		done <- reply{line, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			msg := strings.TrimSpace(w.stderr.String())
			w.stop()
			return "", fmt.Errorf("viz: ECharts SSR worker failed: %v %s", r.err, msg)
		}
		var res struct {
			SVG   string `json:"svg"`
			Error string `json:"error"`
		}
		if err := json.Unmarshal(r.line, &res); err != nil {
			w.stop()
			return "", fmt.Errorf("viz: ECharts SSR worker answered garbage: %w", err)
		}
		if res.Error != "" {
			return "", fmt.Errorf("viz: ECharts could not render the figure: %s", res.Error)
		}
		return res.SVG, nil
	case <-time.After(SSRTimeout):
		w.stop()
		return "", fmt.Errorf("viz: ECharts SSR took longer than %v", SSRTimeout)
	}
}

// SVG renders the figure to SVG with ECharts' server-side renderer in
// Node.js (animation off, white background). It needs node and
// echarts.min.js (see EChartsPath).
func (f *Figure) SVG() (string, error) {
	var opt map[string]any
	if err := json.Unmarshal(f.OptionJSON(), &opt); err != nil { // a copy: the worker's edits stay there
		return "", err
	}
	return worker.render(opt, f.Width, f.Height)
}

// ExportJob asks for one figure in some formats; an empty path skips that
// format.
type ExportJob struct {
	Figure        *Figure
	SVG, PNG, PDF string
	// Scale is the PNG's pixel density: 1 (or 0) gives Width x Height
	// pixels, 2 doubles both for print.
	Scale float64
}

// Export writes figures as SVG, PNG and PDF, many at once.
//
// The renderer, and why: ECharts draws every format, so a file looks like
// the chart in the notebook. The SVG comes from ECharts' own server-side
// SVG renderer in Node.js (about 1 s to start, then milliseconds a figure;
// the same renderer as the browser's, measured faithful). PNG and PDF are
// that SVG opened in headless Chromium: a screenshot at Width x Height x
// Scale pixels, and print-to-PDF on a page of exactly the figure's size
// (vector output, text kept as text). One Chromium serves the whole batch
// (about 1-2 s to start). Not chosen: rsvg-convert misplaces ECharts' text
// (it ignores dominant-baseline); ECharts in a pure-Go JS engine (goja)
// took 17 s and 620 MB on a big heatmap; gonum/plot is fast but would be a
// second drawing of every chart that can drift from the notebook's.
func Export(jobs ...ExportJob) error {
	var raster []map[string]any
	var tmp string
	defer func() {
		if tmp != "" {
			os.RemoveAll(tmp)
		}
	}()
	for i, j := range jobs {
		if j.Figure == nil {
			return fmt.Errorf("viz: Export job %d has no figure", i)
		}
		if j.SVG == "" && j.PNG == "" && j.PDF == "" {
			continue
		}
		svg, err := j.Figure.SVG()
		if err != nil {
			return err
		}
		svgPath := j.SVG
		if svgPath == "" {
			if tmp == "" {
				if tmp, err = os.MkdirTemp("", "retlab-export-"); err != nil {
					return err
				}
			}
			svgPath = filepath.Join(tmp, fmt.Sprintf("%d.svg", i))
		}
		if err := os.WriteFile(svgPath, []byte(svg), 0o644); err != nil {
			return err
		}
		if j.PNG != "" || j.PDF != "" {
			scale := j.Scale
			if scale <= 0 {
				scale = 1
			}
			raster = append(raster, map[string]any{"svg": abs(svgPath), "png": abs(j.PNG), "pdf": abs(j.PDF),
				"width": j.Figure.Width, "height": j.Figure.Height, "scale": scale})
		}
	}
	if len(raster) == 0 {
		return nil
	}
	return rasterise(raster)
}

func abs(p string) string {
	if p == "" {
		return ""
	}
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

// RasterTimeout bounds one Chromium batch.
var RasterTimeout = 5 * time.Minute

func rasterise(jobs []map[string]any) error {
	node, err := nodePath()
	if err != nil {
		return err
	}
	nm, err := NodeModulesPath()
	if err != nil {
		return err
	}
	chrome, err := ChromiumPath()
	if err != nil {
		return err
	}
	script, err := scriptPath("raster.cjs")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp("", "retlab-raster-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := json.NewEncoder(f).Encode(jobs); err != nil {
		f.Close()
		return err
	}
	f.Close()
	cmd := exec.Command(node, script, nm, chrome, f.Name())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("viz: starting node: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("viz: rendering PNG/PDF in Chromium (%s) failed: %v: %s", chrome, err, strings.TrimSpace(out.String()))
		}
		return nil
	case <-time.After(RasterTimeout):
		cmd.Process.Kill()
		<-done
		return errors.New("viz: rendering PNG/PDF in Chromium took longer than " + RasterTimeout.String())
	}
}

// SaveSVG writes the figure as SVG (see Export).
func (f *Figure) SaveSVG(path string) error { return Export(ExportJob{Figure: f, SVG: path}) }

// SavePNG writes the figure as a Width x Height PNG (see Export).
func (f *Figure) SavePNG(path string) error { return Export(ExportJob{Figure: f, PNG: path}) }

// SavePDF writes the figure as a one-page vector PDF of its size (see Export).
func (f *Figure) SavePDF(path string) error { return Export(ExportJob{Figure: f, PDF: path}) }
