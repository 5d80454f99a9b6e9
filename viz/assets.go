package viz

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// EChartsVersion is the ECharts release the charts are written for: the one
// go-echarts v2.6.7 names, pinned in the repository's package.json.
const EChartsVersion = "5.4.3"

// Environment variables that locate run-time assets.
const (
	// EnvECharts names echarts.min.js, or a directory holding it.
	EnvECharts = "RETLAB_ECHARTS"
	// EnvNodeModules names a node_modules directory with playwright-core
	// (for PNG/PDF export).
	EnvNodeModules = "RETLAB_NODE_MODULES"
	// EnvChromium names the Chromium (or Chrome) executable for PNG/PDF export.
	EnvChromium = "RETLAB_CHROMIUM"
	// EnvNode names the node executable (default: node on PATH).
	EnvNode = "RETLAB_NODE"
)

const installHint = "install it with `make setup` (runs `npm ci` in the RetLab repository root), or set " + EnvECharts + " to the path of echarts.min.js " + EChartsVersion

// ErrNoECharts is returned (wrapped) when echarts.min.js is not found.
var ErrNoECharts = errors.New("viz: ECharts library (echarts.min.js) not found")

// searchDirs lists where run-time assets are looked for, in order, each with
// why: the kernelspec directories, the running program's directory and its
// parents, then the working directory and its parents.
func searchDirs() []string {
	var dirs []string
	if d := os.Getenv("JUPYTER_DATA_DIR"); d != "" {
		dirs = append(dirs, kernelDirs(filepath.Join(d, "kernels"))...)
	}
	if h, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, kernelDirs(filepath.Join(h, ".local/share/jupyter/kernels"))...)
	}
	for _, d := range []string{"/usr/local/share/jupyter/kernels", "/usr/share/jupyter/kernels"} {
		dirs = append(dirs, kernelDirs(d)...)
	}
	if exe, err := os.Executable(); err == nil {
		if r, err := filepath.EvalSymlinks(exe); err == nil {
			exe = r
		}
		d := filepath.Dir(exe)
		dirs = append(dirs, d, filepath.Join(d, "..", "share", "retlab"))
		dirs = append(dirs, parents(d)...)
	}
	if wd, err := os.Getwd(); err == nil {
		dirs = append(dirs, wd)
		dirs = append(dirs, parents(wd)...)
	}
	return dirs
}

// kernelDirs returns the RetLab kernelspec directories under a Jupyter
// kernels directory (any kernel named retlab*).
func kernelDirs(kernels string) []string {
	m, _ := filepath.Glob(filepath.Join(kernels, "retlab*"))
	return m
}

func parents(d string) []string {
	var out []string
	for {
		p := filepath.Dir(d)
		if p == d {
			return out
		}
		out = append(out, p)
		d = p
	}
}

// EChartsPath returns the path of echarts.min.js. It looks, in order, at
// $RETLAB_ECHARTS (the file, or a directory holding it); the RetLab
// kernelspec directories (JUPYTER_DATA_DIR, ~/.local/share/jupyter,
// /usr/local/share/jupyter, /usr/share/jupyter: kernels/retlab*/echarts.min.js);
// the running program's directory, ../share/retlab beside it, and its
// parents; then the working directory and its parents. In each directory it
// accepts echarts.min.js itself or node_modules/echarts/dist/echarts.min.js.
// The error, wrapping ErrNoECharts, lists where it looked and how to install.
func EChartsPath() (string, error) {
	if p := os.Getenv(EnvECharts); p != "" {
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			p = filepath.Join(p, "echarts.min.js")
		}
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: %s=%s: %v; %s", ErrNoECharts, EnvECharts, os.Getenv(EnvECharts), err, installHint)
		}
		return p, nil
	}
	dirs := searchDirs()
	for _, d := range dirs {
		for _, rel := range []string{"echarts.min.js", "node_modules/echarts/dist/echarts.min.js"} {
			p := filepath.Join(d, rel)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("%w (looked in %s=unset, the retlab kernelspec directories, beside the program and in the working directory and their parents: %d places); %s",
		ErrNoECharts, EnvECharts, len(dirs), installHint)
}

var libCache struct {
	sync.Mutex
	path, js string
}

// EChartsJS returns the text of echarts.min.js (see EChartsPath), cached
// after the first successful read.
func EChartsJS() (string, error) {
	libCache.Lock()
	defer libCache.Unlock()
	p, err := EChartsPath()
	if err != nil {
		return "", err
	}
	if p == libCache.path {
		return libCache.js, nil
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("viz: reading ECharts: %w", err)
	}
	js := string(b)
	if !strings.Contains(js, `version="`+EChartsVersion+`"`) {
		return "", fmt.Errorf("viz: %s is not ECharts %s (the version go-echarts v2.6.7 and these charts expect); %s", p, EChartsVersion, installHint)
	}
	libCache.path, libCache.js = p, js
	return js, nil
}

// nodePath returns the node executable.
func nodePath() (string, error) {
	if p := os.Getenv(EnvNode); p != "" {
		return p, nil
	}
	p, err := exec.LookPath("node")
	if err != nil {
		return "", fmt.Errorf("viz: node (Node.js) not found on PATH, needed for SVG/PNG/PDF export: install Debian's nodejs package, or set %s", EnvNode)
	}
	return p, nil
}

// NodeModulesPath returns a node_modules directory holding playwright-core:
// $RETLAB_NODE_MODULES, else the node_modules next to echarts (when it came
// from one), else one in the places EChartsPath searches.
func NodeModulesPath() (string, error) {
	has := func(d string) bool {
		_, err := os.Stat(filepath.Join(d, "playwright-core", "package.json"))
		return err == nil
	}
	if d := os.Getenv(EnvNodeModules); d != "" {
		if has(d) {
			return d, nil
		}
		return "", fmt.Errorf("viz: %s=%s has no playwright-core; run `make setup` (npm ci) in the RetLab repository", EnvNodeModules, d)
	}
	if p, err := EChartsPath(); err == nil {
		// .../node_modules/echarts/dist/echarts.min.js
		if d := filepath.Dir(filepath.Dir(filepath.Dir(p))); filepath.Base(d) == "node_modules" && has(d) {
			return d, nil
		}
	}
	for _, d := range searchDirs() {
		if nm := filepath.Join(d, "node_modules"); has(nm) {
			return nm, nil
		}
	}
	return "", fmt.Errorf("viz: playwright-core (npm) not found, needed for PNG/PDF export: run `make setup` (npm ci) in the RetLab repository, or set %s to a node_modules directory that has it", EnvNodeModules)
}

// ChromiumPath returns the Chromium executable for PNG/PDF export:
// $RETLAB_CHROMIUM, else chromium, chromium-browser, google-chrome or
// google-chrome-stable on PATH.
func ChromiumPath() (string, error) {
	if p := os.Getenv(EnvChromium); p != "" {
		return p, nil
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("viz: Chromium not found, needed for PNG/PDF export: install Debian's chromium package (make setup does), or set %s", EnvChromium)
}
