// Package nbtest checks RetLab's notebooks (notebooks/NN-topic.ipynb), the
// figures they export (notebooks/figures/) and the cached results they read
// (notebooks/results/). It holds only tests (the directory name keeps the
// kernel's bindings generator from binding it):
//
//   - TestCommittedNotebooks (always, also under -short): every notebook
//     opens with what it shows and how long it takes, states its time budget,
//     is committed executed, with chart outputs fit to commit (SVG/PNG, no
//     inlined ECharts), and every figure it exports is in figures/ and in the
//     README's gallery.
//   - TestNotebooks (RETLAB_NOTEBOOKS=1, as `make test-notebooks` and `make
//     test` run it): executes every notebook headless in quick mode with the
//     RetLab kernel (nbclient, run/execute.py) within its time budget.
//   - TestNotebookJupyterLab (RETLAB_NOTEBOOKS=1): opens an executed notebook
//     in JupyterLab in headless Chromium and checks its stored charts render,
//     then runs it there and checks the live charts draw.
package nbtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/retlab/retlab/internal/testutil"
)

// nbDir is the notebooks directory (this package is notebooks/nbtest).
var nbDir, _ = filepath.Abs("..")

// quickTotalBudget bounds all notebooks together in quick mode (make test,
// on the CI's 2 cores).
const quickTotalBudget = 5 * time.Minute

// labNotebooks are the notebooks the JupyterLab test opens and runs: static
// charts (1) and a live training chart with a progress bar (7).
var labNotebooks = []string{"01-decay.ipynb", "07-tour.ipynb"}

type notebook struct {
	path string
	raw  []byte
	nb   struct {
		Cells []struct {
			CellType string          `json:"cell_type"`
			Source   json.RawMessage `json:"source"`
			Metadata map[string]any  `json:"metadata"`
			Outputs  []struct {
				OutputType string          `json:"output_type"`
				Data       map[string]any  `json:"data"`
				Text       json.RawMessage `json:"text"`
			} `json:"outputs"`
		} `json:"cells"`
		Metadata struct {
			Kernelspec struct {
				Name string `json:"name"`
			} `json:"kernelspec"`
			Retlab struct {
				Budget map[string]float64 `json:"budget_s"`
				// QuickVariants are extra quick-mode runs, each with these
				// variables set (e.g. RETLAB_RETRAIN=1: notebook 4's retraining path).
				QuickVariants []map[string]string `json:"quick_variants"`
				LastRun       *struct {
					Mode    string  `json:"mode"`
					Seconds float64 `json:"seconds"`
				} `json:"last_run"`
			} `json:"retlab"`
		} `json:"metadata"`
	}
}

// source joins a cell's source (a string or a list of lines).
func source(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var l []string
	_ = json.Unmarshal(raw, &l)
	return strings.Join(l, "")
}

// notebooks reads every NN-topic.ipynb except 00-kernel-tour (the kernel's own).
func notebooks(t *testing.T) []*notebook {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(nbDir, "[0-9][0-9]-*.ipynb"))
	var out []*notebook
	for _, p := range paths {
		name := filepath.Base(p)
		if strings.HasPrefix(name, "00-") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		n := &notebook{path: name, raw: b}
		if err := json.Unmarshal(b, &n.nb); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		t.Fatal("no notebooks NN-topic.ipynb found")
	}
	return out
}

var exportCall = regexp.MustCompile(`export\("([0-9a-z-]+)"`)

// exports lists the figure names a notebook's cells export.
func (n *notebook) exports() []string {
	var names []string
	for _, c := range n.nb.Cells {
		if c.CellType != "code" {
			continue
		}
		for _, m := range exportCall.FindAllStringSubmatch(source(c.Source), -1) {
			names = append(names, m[1])
		}
	}
	return names
}

func TestCommittedNotebooks(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(nbDir, "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	gallery := string(readme)
	if i := strings.Index(gallery, "\n## Gallery"); i >= 0 {
		gallery = gallery[i:]
		if j := strings.Index(gallery[1:], "\n## "); j >= 0 {
			gallery = gallery[:j+1]
		}
	} else {
		t.Error("README.md has no ## Gallery section")
	}
	num := regexp.MustCompile(`^(\d\d)-`)
	for _, n := range notebooks(t) {
		t.Run(n.path, func(t *testing.T) {
			nb := n.nb
			if nb.Metadata.Kernelspec.Name != "retlab" {
				t.Errorf("kernelspec %q, want retlab", nb.Metadata.Kernelspec.Name)
			}
			// Opens with what it shows and how long it takes.
			if len(nb.Cells) == 0 || nb.Cells[0].CellType != "markdown" {
				t.Fatal("the first cell must be markdown saying what the notebook shows")
			}
			intro := source(nb.Cells[0].Source)
			want := fmt.Sprintf("# %d. ", must(strconv.Atoi(num.FindStringSubmatch(n.path)[1])))
			if !strings.HasPrefix(intro, want) {
				t.Errorf("intro starts %q, want the title %q...", firstLine(intro), want)
			}
			if !strings.Contains(intro, "**Run time:**") {
				t.Error("intro does not say how long the notebook takes (**Run time:**)")
			}
			for _, mode := range []string{"quick", "full"} {
				if nb.Metadata.Retlab.Budget[mode] <= 0 {
					t.Errorf("metadata.retlab.budget_s.%s missing", mode)
				}
			}
			// Committed executed, outputs fit to commit.
			if nb.Metadata.Retlab.LastRun == nil {
				t.Error("not executed: no metadata.retlab.last_run (run make notebooks)")
			} else if nb.Metadata.Retlab.LastRun.Mode != "full" {
				t.Logf("committed outputs are from a %s-mode run", nb.Metadata.Retlab.LastRun.Mode)
			}
			if bytes.Contains(n.raw, []byte("window.echarts")) {
				t.Error("an output inlines the ECharts library (run/execute.py replaces chart HTML by SVG/PNG)")
			}
			if len(n.raw) > 4<<20 {
				t.Errorf("notebook is %d bytes (> 4 MiB)", len(n.raw))
			}
			charts := 0
			for i, c := range nb.Cells {
				if c.CellType != "code" {
					continue
				}
				if _, ok := c.Metadata["retlab_expect"]; ok && len(c.Outputs) == 0 {
					t.Errorf("cell %d has no committed output", i)
				}
				for _, o := range c.Outputs {
					if o.OutputType == "error" {
						t.Errorf("cell %d has a committed error", i)
					}
					if o.OutputType == "stream" && strings.Contains(source(o.Text), "// warning:") {
						t.Errorf("cell %d prints an interpreter warning: %q", i, firstLine(source(o.Text)[strings.Index(source(o.Text), "// warning:"):]))
					}
					if o.Data["image/png"] != nil || o.Data["image/svg+xml"] != nil {
						charts++
					}
				}
			}
			// Every exported figure is in figures/ and in the gallery.
			names := n.exports()
			if charts < len(names) {
				t.Errorf("%d chart outputs for %d exported figures", charts, len(names))
			}
			for _, name := range names {
				for _, ext := range []string{".svg", ".png"} {
					if _, err := os.Stat(filepath.Join(nbDir, "figures", name+ext)); err != nil {
						t.Errorf("figures/%s%s missing (run make notebooks)", name, ext)
					}
				}
				if !strings.Contains(gallery, "notebooks/figures/"+name+".png") && !strings.Contains(gallery, "notebooks/figures/"+name+".svg") {
					t.Errorf("README gallery does not show figures/%s", name)
				}
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// env is a built retlab binary with its kernelspec installed in a
// temporary Jupyter data dir, and the project's venv.
type env struct {
	root, py, jupyter, bin string
	vars                   []string
}

func setup(t *testing.T) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("executes notebooks: skipped with -short")
	}
	if os.Getenv("RETLAB_NOTEBOOKS") != "1" {
		t.Skip("executes notebooks: set RETLAB_NOTEBOOKS=1 (make test-notebooks, part of make test, does)")
	}
	root := filepath.Dir(nbDir)
	e := &env{root: root, py: filepath.Join(root, ".venv", "bin", "python"), jupyter: filepath.Join(root, ".venv", "bin", "jupyter")}
	if err := exec.Command(e.py, "-c", "import nbclient, nbformat, jupyterlab").Run(); err != nil {
		t.Fatalf("no .venv with nbclient, nbformat, jupyterlab (%v): run make setup", err)
	}
	k := testutil.NewKernelEnv(t, root)
	e.bin, e.vars = k.Bin, k.Vars
	return e
}

func (e *env) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = e.root
	cmd.Env = e.vars
	return cmd
}

type report struct {
	Notebook     string   `json:"notebook"`
	Mode         string   `json:"mode"`
	Seconds      float64  `json:"seconds"`
	Budget       float64  `json:"budget_s"`
	Failures     []string `json:"failures"`
	Figures      []string `json:"figures"`
	Charts       int      `json:"charts"`
	Expectations int      `json:"expectations_checked"`
	Slowest      []struct {
		Cell    int     `json:"cell"`
		Seconds float64 `json:"seconds"`
	} `json:"slowest_cells"`
}

// TestNotebooks executes every notebook in quick mode, each within its
// budget and all together within quickTotalBudget, and checks that each
// exported every figure it names.
func TestNotebooks(t *testing.T) {
	e := setup(t)
	nbs := notebooks(t)
	dir := t.TempDir()
	args := []string{"notebooks/run/execute.py", "--quick", "--out", filepath.Join(dir, "out"),
		"--figures", filepath.Join(dir, "figures"), "--report", filepath.Join(dir, "report.json")}
	for _, n := range nbs {
		args = append(args, filepath.Join("notebooks", n.path))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*quickTotalBudget)
	defer cancel()
	t0 := time.Now()
	out, err := e.command(ctx, e.py, args...).CombinedOutput()
	total := time.Since(t0)
	var reps []report
	if b, rerr := os.ReadFile(filepath.Join(dir, "report.json")); rerr == nil {
		_ = json.Unmarshal(b, &reps)
	}
	if err != nil || len(reps) != len(nbs) {
		t.Fatalf("execute.py: %v\n%s", err, kernelLog(string(out)))
	}
	for i, r := range reps {
		t.Logf("%s: %.1fs (budget %.0fs, quick mode), %d charts, %d figure files, %d expectations, slowest cells %v",
			r.Notebook, r.Seconds, r.Budget, r.Charts, len(r.Figures), r.Expectations, r.Slowest)
		for _, f := range r.Failures {
			t.Errorf("%s: %s", r.Notebook, f)
		}
		for _, name := range nbs[i].exports() {
			for _, ext := range []string{".svg", ".png"} {
				if st, err := os.Stat(filepath.Join(dir, "figures", name+ext)); err != nil || st.Size() < 1000 {
					t.Errorf("%s: figure %s%s not exported", r.Notebook, name, ext)
				}
			}
		}
	}
	// Variants: a notebook run again with extra variables (its other code paths).
	for _, n := range nbs {
		for i, vars := range n.nb.Metadata.Retlab.QuickVariants {
			vdir := filepath.Join(dir, fmt.Sprintf("variant-%s-%d", strings.TrimSuffix(n.path, ".ipynb"), i))
			args := []string{"notebooks/run/execute.py", "--quick", "--out", vdir, "--figures", filepath.Join(vdir, "figures"),
				"--report", filepath.Join(vdir, "report.json")}
			var names []string
			for k, v := range vars {
				args = append(args, "--env", k+"="+v)
				names = append(names, k+"="+v)
			}
			args = append(args, filepath.Join("notebooks", n.path))
			t1 := time.Now()
			out, err := e.command(ctx, e.py, args...).CombinedOutput()
			total += time.Since(t1)
			if err != nil {
				t.Errorf("%s with %v: %v\n%s", n.path, names, err, kernelLog(string(out)))
				continue
			}
			t.Logf("%s with %v: %.1fs", n.path, names, time.Since(t1).Seconds())
		}
	}
	t.Logf("all %d notebooks in quick mode: %.1fs (budget %v)", len(reps), total.Seconds(), quickTotalBudget)
	if total > quickTotalBudget {
		t.Errorf("quick mode took %v in all, over %v", total.Round(time.Second), quickTotalBudget)
	}
}

// kernelLog drops the kernel's own log lines.
func kernelLog(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, "retlab kernel:") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

type labResult struct {
	Failed  string   `json:"failed"`
	Refused []string `json:"refused"`
	Errors  []string `json:"errors"`
	Stored  []struct {
		Tag           string `json:"tag"`
		Loaded        bool   `json:"loaded"`
		Width, Height int
	} `json:"stored"`
	Executed []struct {
		ID       string  `json:"id"`
		Drawn    *string `json:"drawn"`
		Instance bool    `json:"instance"`
		Marks    int     `json:"marks"`
		Width    int     `json:"width"`
		Height   int     `json:"height"`
	} `json:"executed"`
	ErrorOutputs  int      `json:"errorOutputs"`
	RunSeconds    float64  `json:"runSeconds"`
	StoredShots   []string `json:"storedShots"`
	ExecutedShots []string `json:"executedShots"`
}

// TestNotebookJupyterLab opens copies of the committed labNotebooks in
// JupyterLab (headless Chromium, network refused), checks that their stored
// charts show as images before anything runs (as an untrusted notebook from
// git), runs all cells with the RetLab kernel (quick mode) and checks the
// live ECharts charts draw.
func TestNotebookJupyterLab(t *testing.T) {
	e := setup(t)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("no node: make setup installs nodejs")
	}
	chromium := os.Getenv("RETLAB_CHROMIUM")
	if chromium == "" {
		if chromium, err = exec.LookPath("chromium"); err != nil {
			t.Fatal("no chromium: make setup installs it")
		}
	}
	nm := filepath.Join(e.root, "node_modules")
	if _, err := os.Stat(filepath.Join(nm, "playwright-core")); err != nil {
		t.Fatal("no node_modules/playwright-core: run make setup-npm")
	}
	dir := t.TempDir()
	charts := map[string]int{}
	for _, name := range labNotebooks {
		src, err := os.ReadFile(filepath.Join(nbDir, name))
		if err != nil {
			t.Fatal(err)
		}
		var committed notebook
		if err := json.Unmarshal(src, &committed.nb); err != nil {
			t.Fatal(err)
		}
		for _, c := range committed.nb.Cells {
			for _, o := range c.Outputs {
				if o.Data["image/png"] != nil || o.Data["image/svg+xml"] != nil {
					charts[name]++
				}
			}
		}
		if charts[name] == 0 {
			t.Fatalf("%s has no stored charts: run make notebooks", name)
		}
		// A copy: JupyterLab may save the notebook it runs.
		if err := os.WriteFile(filepath.Join(dir, name), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lab := testutil.StartJupyterLab(t, e.jupyter, dir,
		append(e.vars, "RETLAB_QUICK=1", "RETLAB_FIGURES="+filepath.Join(dir, "figures")), 90*time.Second)
	origin, token, logPath := lab.Origin, lab.Token, lab.Log
	for _, name := range labNotebooks {
		t.Run(name, func(t *testing.T) {
			checkInLab(t, node, nm, chromium, dir, origin, token, name, charts[name], logPath)
		})
	}
}

// checkInLab runs labcheck.cjs on one notebook and checks its result.
func checkInLab(t *testing.T, node, nm, chromium, dir, origin, token, name string, charts int, logPath string) {
	out := filepath.Join(dir, "shots-"+strings.TrimSuffix(name, ".ipynb"))
	os.MkdirAll(out, 0o755)
	job := map[string]any{"nodeModules": nm, "chromium": chromium, "out": out, "origin": origin, "timeoutMs": 240000, "storedCharts": charts,
		// A workspace of its own: JupyterLab would otherwise reopen the notebooks of earlier checks beside it.
		"url": origin + "/lab/workspaces/" + strings.TrimSuffix(name, ".ipynb") + "/tree/" + name + "?reset&token=" + token}
	jf := filepath.Join(out, "job.json")
	b, _ := json.Marshal(job)
	os.WriteFile(jf, b, 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(nbDir, "run", "labcheck.cjs"), jf)
	if o, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("labcheck.cjs: %v\n%s", err, o)
	}
	var r labResult
	if err := json.Unmarshal(must(os.ReadFile(filepath.Join(out, "result.json"))), &r); err != nil {
		t.Fatal(err)
	}
	if r.Failed != "" {
		log, _ := os.ReadFile(logPath)
		t.Fatalf("JupyterLab check failed: %s\nserver log tail:\n%s", r.Failed, testutil.Tail(kernelLog(string(log)), 3000))
	}
	loaded := 0
	for _, s := range r.Stored {
		if s.Loaded && s.Width >= 100 && s.Height >= 100 {
			loaded++
		}
	}
	if loaded < charts {
		t.Errorf("stored outputs: %d chart images rendered, want %d: %+v", loaded, charts, r.Stored)
	}
	drawn := 0
	for _, c := range r.Executed {
		if c.Drawn != nil && c.Instance && c.Marks > 0 && c.Width >= 100 {
			drawn++
		}
	}
	if drawn < charts {
		t.Errorf("after Run All: %d live charts drawn, want %d: %+v", drawn, charts, r.Executed)
	}
	if r.ErrorOutputs > 0 {
		t.Errorf("after Run All: %d error outputs", r.ErrorOutputs)
	}
	for _, shot := range append(r.StoredShots, r.ExecutedShots...) {
		_, ink, colours, err := testutil.Ink(shot)
		if err != nil {
			t.Fatal(err)
		}
		if ink < 0.01 || colours < 4 {
			t.Errorf("%s is blank (%.2f%% ink, %d colours)", filepath.Base(shot), 100*ink, colours)
		}
	}
	for _, u := range r.Refused {
		t.Logf("refused request: %s", u)
		if strings.Contains(u, "echarts") || strings.Contains(u, "cdn") {
			t.Errorf("a chart asked the network for %s", u)
		}
	}
	for _, pe := range r.Errors {
		if strings.Contains(pe, "echarts") || strings.Contains(pe, "retlab") {
			t.Errorf("page error: %s", pe)
		}
	}
	t.Logf("%s in JupyterLab: %d stored chart images rendered, Run All took %.1fs, %d live charts drawn, %d screenshots checked",
		name, loaded, r.RunSeconds, drawn, len(r.StoredShots)+len(r.ExecutedShots))
}
