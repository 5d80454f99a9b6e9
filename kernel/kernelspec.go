package kernel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/retlab/retlab/viz"
)

// Where a kernelspec goes, as `jupyter kernelspec install` chooses it.
const (
	ScopeUser      = "user"       // $JUPYTER_DATA_DIR or ~/.local/share/jupyter
	ScopeSysPrefix = "sys-prefix" // the Python environment's share/jupyter
	ScopePrefix    = "prefix"     // PREFIX/share/jupyter
)

// InstallOptions says where and how to install the kernelspec.
type InstallOptions struct {
	Scope       string // ScopeUser (default), ScopeSysPrefix or ScopePrefix
	Prefix      string // for ScopePrefix
	Python      string // for ScopeSysPrefix when $VIRTUAL_ENV is unset (default python3)
	Name        string // kernel name (default "retlab")
	DisplayName string // shown in the launcher (default "Go (RetLab)")
	Executable  string // the retlab binary the spec runs (default: this one)
	EChartsJS   string // chart asset to copy (default: $RETLAB_ECHARTS_JS or node_modules)
}

// Spec is the kernel.json a kernelspec directory holds.
type Spec struct {
	Argv          []string          `json:"argv"`
	DisplayName   string            `json:"display_name"`
	Language      string            `json:"language"`
	InterruptMode string            `json:"interrupt_mode"`
	Env           map[string]string `json:"env,omitempty"`
	Metadata      map[string]any    `json:"metadata"`
}

// KernelsDir returns the kernels directory of a scope (without the kernel
// name).
func KernelsDir(o InstallOptions) (string, error) {
	switch o.Scope {
	case "", ScopeUser:
		if d := os.Getenv("JUPYTER_DATA_DIR"); d != "" {
			return filepath.Join(d, "kernels"), nil
		}
		d := os.Getenv("XDG_DATA_HOME")
		if d == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", errorf("no home directory for a --user install: %v", err)
			}
			d = filepath.Join(home, ".local", "share")
		}
		return filepath.Join(d, "jupyter", "kernels"), nil
	case ScopePrefix:
		if o.Prefix == "" {
			return "", errorf("--prefix needs a directory")
		}
		p, err := filepath.Abs(o.Prefix)
		if err != nil {
			return "", err
		}
		return filepath.Join(p, "share", "jupyter", "kernels"), nil
	case ScopeSysPrefix:
		prefix := os.Getenv("VIRTUAL_ENV")
		if prefix == "" || o.Python != "" {
			py := o.Python
			if py == "" {
				py = "python3"
			}
			out, err := exec.Command(py, "-c", "import sys; print(sys.prefix)").Output()
			if err != nil {
				return "", errorf("--sys-prefix: asking %s for sys.prefix: %v", py, err)
			}
			prefix = strings.TrimSpace(string(out))
		}
		return filepath.Join(prefix, "share", "jupyter", "kernels"), nil
	}
	return "", errorf("unknown install scope %q", o.Scope)
}

// Install writes the kernelspec (kernel.json, logos, and the ECharts asset
// when found) and returns its directory and a note about the asset.
func Install(o InstallOptions) (dir, note string, err error) {
	if o.Name == "" {
		o.Name = "retlab"
	}
	if o.DisplayName == "" {
		o.DisplayName = "Go (RetLab)"
	}
	if o.Executable == "" {
		if o.Executable, err = os.Executable(); err != nil {
			return "", "", errorf("finding the retlab binary: %v", err)
		}
	}
	if o.Executable, err = filepath.Abs(o.Executable); err != nil {
		return "", "", err
	}
	if err := ValidName(o.Name); err != nil {
		return "", "", err
	}
	kernels, err := KernelsDir(o)
	if err != nil {
		return "", "", err
	}
	dir = filepath.Join(kernels, o.Name)
	if err := checkOwned(dir, true); err != nil {
		return "", "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", errorf("%v", err)
	}
	spec := Spec{
		Argv:          []string{o.Executable, "kernel", "run", "--connection-file", "{connection_file}"},
		DisplayName:   o.DisplayName,
		Language:      "go",
		InterruptMode: "message",
		Metadata:      map[string]any{"debugger": false, "retlab_version": Version},
	}
	for size, name := range map[int]string{32: "logo-32x32.png", 64: "logo-64x64.png"} {
		if err := os.WriteFile(filepath.Join(dir, name), LogoPNG(size), 0o644); err != nil {
			return "", "", errorf("%v", err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "logo-svg.svg"), []byte(LogoSVG()), 0o644); err != nil {
		return "", "", errorf("%v", err)
	}
	note, asset, err := copyECharts(o.EChartsJS, dir)
	if err != nil {
		return "", "", err
	}
	if asset != "" {
		// The kernel finds the asset of the kernelspec it was started from:
		// Jupyter puts kernel.json's env into the kernel's environment, and
		// viz.EChartsPath looks at $RETLAB_ECHARTS first.
		spec.Env = map[string]string{viz.EnvECharts: asset}
	}
	b, _ := json.MarshalIndent(spec, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "kernel.json"), append(b, '\n'), 0o644); err != nil {
		return "", "", errorf("%v", err)
	}
	if strings.Contains(o.Executable, "go-build") {
		note += "\nwarning: the kernelspec runs " + o.Executable + ", a temporary `go run` binary; install from a built retlab (make build) instead"
	}
	return dir, note, err
}

// specFiles are the files Install writes into a kernelspec directory, the
// only ones Uninstall deletes.
var specFiles = []string{"kernel.json", "logo-32x32.png", "logo-64x64.png", "logo-svg.svg", EChartsName}

// ValidName reports whether name can name a kernelspec: one directory
// entry of letters, digits, '.', '_' and '-' (jupyter_client's rule), not
// "." or "..", so that KernelsDir/name never leaves the kernels directory.
func ValidName(name string) error {
	if name == "" || name == "." || name == ".." || len(name) > 255 {
		return errorf("invalid kernel name %q: want 1-255 letters, digits, '.', '_' or '-', not . or ..", name)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return errorf("invalid kernel name %q: %q is not allowed (letters, digits, '.', '_' and '-' only)", name, c)
		}
	}
	return nil
}

// checkOwned returns nil when dir is a kernelspec RetLab wrote (its
// kernel.json carries metadata.retlab_version), or, when missingOK, does not
// exist. A symbolic link is never followed.
func checkOwned(dir string, missingOK bool) error {
	fi, err := os.Lstat(dir)
	if os.IsNotExist(err) && missingOK {
		return nil
	}
	if err != nil {
		return errorf("no kernelspec at %s", dir)
	}
	if !fi.IsDir() {
		return errorf("%s is not a kernelspec directory (a %s); leaving it alone", dir, fi.Mode().Type())
	}
	b, err := os.ReadFile(filepath.Join(dir, "kernel.json"))
	if os.IsNotExist(err) && missingOK {
		if ents, _ := os.ReadDir(dir); len(ents) == 0 {
			return nil // an empty directory: nothing to lose
		}
		return errorf("%s exists and is not a kernelspec; leaving it alone", dir)
	}
	if err != nil {
		return errorf("no kernelspec at %s", dir)
	}
	var spec Spec
	if json.Unmarshal(b, &spec) != nil || spec.Metadata["retlab_version"] == nil {
		return errorf("%s holds a kernelspec RetLab did not write; leaving it alone", dir)
	}
	return nil
}

// Uninstall removes the kernelspec of the given scope and name: only a
// directory RetLab installed, and only the files it wrote there; the
// directory itself goes when nothing else is left in it.
func Uninstall(o InstallOptions) (string, error) {
	if o.Name == "" {
		o.Name = "retlab"
	}
	if err := ValidName(o.Name); err != nil {
		return "", err
	}
	kernels, err := KernelsDir(o)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(kernels, o.Name)
	if err := checkOwned(dir, false); err != nil {
		return dir, err
	}
	for _, f := range specFiles {
		if err := os.Remove(filepath.Join(dir, f)); err != nil && !os.IsNotExist(err) {
			return dir, errorf("%v", err)
		}
	}
	if err := os.Remove(dir); err != nil {
		return dir, errorf("removed the kernelspec files but kept %s: it holds files RetLab did not write", dir)
	}
	return dir, nil
}

// EChartsName is the file name of the chart library in the kernelspec
// directory (served by Jupyter at /kernelspecs/<name>/echarts.min.js).
const EChartsName = "echarts.min.js"

// FindECharts locates echarts.min.js: $RETLAB_ECHARTS_JS, else viz's
// lookup ($RETLAB_ECHARTS, kernelspec directories, node_modules beside the
// binary or above the working directory; version-checked).
func FindECharts() (string, bool) {
	if p := os.Getenv("RETLAB_ECHARTS_JS"); p != "" {
		_, err := os.Stat(p)
		return p, err == nil
	}
	if _, err := viz.EChartsJS(); err != nil {
		return "", false
	}
	p, err := viz.EChartsPath()
	return p, err == nil
}

// copyECharts puts the chart asset into the kernelspec directory dir and
// returns a note and the installed path ("" when none was found).
func copyECharts(src, dir string) (note, asset string, err error) {
	dst := filepath.Join(dir, EChartsName)
	if src == "" {
		var ok bool
		if src, ok = FindECharts(); !ok {
			os.Remove(dst)
			return "chart asset echarts.min.js NOT installed: not found (run `npm ci` in the repository, or set RETLAB_ECHARTS_JS); charts will not render offline", "", nil
		}
	}
	if abs, err := filepath.Abs(src); err == nil && abs == dst {
		return "chart asset: " + dst + " (already in place)", dst, nil
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return "", "", errorf("chart asset: %v", err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		return "", "", errorf("chart asset: %v", err)
	}
	return "chart asset: " + src, dst, nil
}

// Logo colours: the decaying bars of retention, gamma^n.
var (
	logoBG  = color.RGBA{0x1f, 0x2a, 0x44, 0xff}
	logoBar = color.RGBA{0x00, 0xad, 0xd8, 0xff} // Go blue
)

// logoBars are the bar heights gamma^n (gamma = 0.72): a retention decay.
func logoBars() []float64 {
	h := make([]float64, 5)
	v := 1.0
	for i := range h {
		h[i] = v
		v *= 0.72
	}
	return h
}

// LogoPNG draws the kernel's logo, size x size pixels.
func LogoPNG(size int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			img.Set(x, y, logoBG)
		}
	}
	bars := logoBars()
	margin := size / 8
	slot := (size - 2*margin) / len(bars)
	for i, h := range bars {
		x0 := margin + i*slot + slot/8
		x1 := margin + (i+1)*slot - slot/8
		top := size - margin - int(h*float64(size-2*margin))
		for y := top; y < size-margin; y++ {
			for x := x0; x < x1; x++ {
				img.Set(x, y, logoBar)
			}
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

// LogoSVG is the logo as SVG.
func LogoSVG() string {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" fill="#1f2a44"/>`)
	for i, h := range logoBars() {
		height := h * 48
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="7" height="%.1f" fill="#00add8"/>`, 9.0+float64(i)*9.6, 56-height, height)
	}
	b.WriteString("</svg>\n")
	return b.String()
}
