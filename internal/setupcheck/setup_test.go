package setupcheck

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// repoRoot is the repository root (this package lives two levels below it).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// dryRun returns what `make -n -B GOAL` would run: every recipe line of the
// goal's prerequisites, as if nothing had been installed yet.
func dryRun(t *testing.T, goal string) string {
	t.Helper()
	cmd := exec.Command("make", "-n", "-B", "--no-print-directory", goal)
	cmd.Dir = repoRoot(t)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make -n -B %s: %v\n%s", goal, err, out)
	}
	return string(out)
}

// Test-only and benchmark-only dependencies, as they appear in recipe lines.
var testOnly = []string{
	"deps/apt-test.txt", "deps/apt-bench.txt", "deps/apt-cuda.txt", "deps/requirements-test.txt",
	"deps/requirements-bench.txt", "cuda-headers", "npm-test", "shellcheck", "docker/install.sh --apt-only",
}

func TestMakeRunInstallsOnlyWhatTheNotebooksNeed(t *testing.T) {
	run := dryRun(t, "run")
	for _, s := range testOnly {
		if strings.Contains(run, s) {
			t.Errorf("make run would run a test-only step (%q):\n%s", s, grepLines(run, s))
		}
	}
	for _, s := range []string{"deps/apt.txt", "deps/requirements.txt", "npm ci --omit=dev", "kernel install", "kernel warm", "jupyter lab", "00-kernel-tour.ipynb"} {
		if !strings.Contains(run, s) {
			t.Errorf("make run no longer mentions %q: is the notebooks' set-up complete?", s)
		}
	}
}

func TestMakeTestInstallsTheTestDependencies(t *testing.T) {
	// The same needles must be found where they belong, or the check above proves nothing.
	test := dryRun(t, "test")
	for _, s := range []string{"deps/apt-test.txt", "deps/requirements-test.txt", "cuda-headers", "npm-test", "shellcheck"} {
		if !strings.Contains(test, s) {
			t.Errorf("make test does not mention %q", s)
		}
	}
}

func grepLines(s, needle string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, needle) {
			b.WriteString("  " + l + "\n")
		}
	}
	return b.String()
}

// aptPackages lists every Debian package named in the set-up's package lists
// (one per line, # comments) and the fixed lists of docker/install.sh's apt step.
func aptPackages(t *testing.T) []string {
	t.Helper()
	root := repoRoot(t)
	lists, err := filepath.Glob(filepath.Join(root, "deps", "apt*.txt"))
	if err != nil || len(lists) < 3 {
		t.Fatalf("deps/apt*.txt: %v (%d lists)", err, len(lists))
	}
	seen := map[string]bool{}
	var pkgs []string
	add := func(p string) {
		if p != "" && !seen[p] {
			seen[p] = true
			pkgs = append(pkgs, p)
		}
	}
	for _, l := range lists {
		if filepath.Base(l) == "apt-cuda.txt" {
			continue // `make cuda-toolkit` only: documented to need non-free (scripts/gpu/enable-nonfree.sh)
		}
		f, err := os.Open(l)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line, _, _ := strings.Cut(sc.Text(), "#")
			for _, p := range strings.Fields(line) {
				add(p)
			}
		}
		f.Close()
	}
	// docker/install.sh step_apt: the run-time set, --export and the build packages.
	for _, p := range strings.Fields("ca-certificates python3 python3-venv nodejs tini chromium fonts-liberation npm gcc libc6-dev") {
		add(p)
	}
	return pkgs
}

// stockApt writes a temporary apt configuration of a stock Debian 12 machine
// (the default deb822 sources: bookworm, bookworm-updates, bookworm-security,
// component main), runs apt-get update into it and returns the -o options that
// select it. No file of the machine's apt configuration is read or written.
func stockApt(t *testing.T) []string {
	t.Helper()
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Skip("no apt-get: not a Debian machine")
	}
	d := t.TempDir()
	for _, sub := range []string{"sources.list.d", "lists/partial", "cache/archives/partial", "preferences.d"} {
		if err := os.MkdirAll(filepath.Join(d, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sources := `Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`
	must(t, os.WriteFile(filepath.Join(d, "sources.list.d", "debian.sources"), []byte(sources), 0o644))
	must(t, os.WriteFile(filepath.Join(d, "status"), nil, 0o644)) // nothing installed
	opts := []string{
		"-o", "Dir::Etc::sourcelist=" + filepath.Join(d, "none.list"),
		"-o", "Dir::Etc::sourceparts=" + filepath.Join(d, "sources.list.d"),
		"-o", "Dir::Etc::preferencesparts=" + filepath.Join(d, "preferences.d"),
		"-o", "Dir::State::Lists=" + filepath.Join(d, "lists"),
		"-o", "Dir::State::status=" + filepath.Join(d, "status"),
		"-o", "Dir::Cache=" + filepath.Join(d, "cache"),
		"-o", "Debug::NoLocking=1",
		"-o", "APT::Sandbox::User=root",
	}
	upd := exec.Command("apt-get", append(append([]string{}, opts...), "-qq", "update")...)
	if out, err := upd.CombinedOutput(); err != nil {
		t.Fatalf("apt-get update with the stock configuration: %v\n%s", err, out)
	}
	return opts
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// candidates runs the set-up's own detection (scripts/apt-candidates.sh) with opts.
func candidates(t *testing.T, opts []string, pkgs ...string) (string, error) {
	args := append([]string{filepath.Join(repoRoot(t), "scripts", "apt-candidates.sh")}, aptArgs(opts)...)
	out, err := exec.Command("bash", append(args, pkgs...)...).CombinedOutput()
	return string(out), err
}

func TestAptPackagesInstallOnStockDebian(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads Debian's package lists (-short)")
	}
	opts := stockApt(t)
	pkgs := aptPackages(t)
	if out, err := candidates(t, opts, pkgs...); err != nil {
		t.Errorf("a set-up step names a package a stock Debian 12 cannot install: %s", out)
	}
	// The detection itself: the package issue 12 tripped on (non-free, mentioned by
	// packages in main, so `apt-cache show` succeeds) must be found missing.
	out, err := candidates(t, opts, "nvidia-cuda-dev")
	if err == nil || !strings.Contains(out, "nvidia-cuda-dev") {
		t.Errorf("apt-candidates.sh says nvidia-cuda-dev installs on a stock Debian (err %v): %s", err, out)
	}
	t.Logf("%d packages have stock candidates: %s", len(pkgs), strings.Join(pkgs, " "))

	// The npm packages run on the Node.js that stock Debian installs (deps/apt.txt's
	// nodejs): playwright-core 1.62+ wants Node 20 and failed on a fresh machine.
	policy, err := exec.Command("apt-cache", append(aptArgs(opts), "policy", "nodejs")...).CombinedOutput()
	must(t, err)
	m := regexp.MustCompile(`Candidate: (?:\d+:)?(\d+)\.(\d+)\.(\d+)`).FindStringSubmatch(string(policy))
	if m == nil {
		t.Fatalf("apt-cache policy nodejs (stock configuration): no candidate version:\n%s", policy)
	}
	node := [3]int{atoi(t, m[1]), atoi(t, m[2]), atoi(t, m[3])}
	checkNodeEngines(t, node)
}

func aptArgs(opts []string) []string {
	var args []string
	for i := 0; i < len(opts); i += 2 {
		args = append(args, "-o", opts[i+1])
	}
	return args
}

func atoi(t *testing.T, s string) int {
	n, err := strconv.Atoi(s)
	must(t, err)
	return n
}

// checkNodeEngines fails for every package in package-lock.json whose
// engines.node range does not admit node (major, minor, patch).
func checkNodeEngines(t *testing.T, node [3]int) {
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "package-lock.json"))
	must(t, err)
	var lock struct {
		Packages map[string]struct {
			Version string            `json:"version"`
			Engines map[string]string `json:"engines"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(raw, &lock); err != nil {
		t.Fatalf("package-lock.json: %v", err)
	}
	for name, p := range lock.Packages {
		rng, ok := p.Engines["node"]
		if !ok {
			continue
		}
		admits, err := nodeRangeAdmits(rng, node)
		if err != nil {
			t.Errorf("package-lock.json: %s %s: engines.node %q: %v", name, p.Version, rng, err)
		} else if !admits {
			t.Errorf("package-lock.json: %s %s wants Node.js %s; stock Debian installs %d.%d.%d", name, p.Version, rng, node[0], node[1], node[2])
		}
	}
}

// nodeRangeAdmits reports whether a semver range of the forms npm packages use
// for engines (">=18", ">=18.12 <21", "^18.0.0 || >=20") admits v.
func nodeRangeAdmits(rng string, v [3]int) (bool, error) {
	for _, alt := range strings.Split(rng, "||") {
		all := true
		for _, c := range strings.Fields(alt) {
			ok, err := comparatorAdmits(c, v)
			if err != nil {
				return false, err
			}
			all = all && ok
		}
		if all {
			return true, nil
		}
	}
	return false, nil
}

func comparatorAdmits(c string, v [3]int) (bool, error) {
	op := strings.TrimRight(c, "0123456789.xX*")
	var want [3]int
	parts := strings.Split(strings.TrimPrefix(c, op), ".")
	n := 0 // how many parts are given (x and * are wildcards)
	for i, p := range parts {
		if i > 2 || p == "" {
			return false, fmt.Errorf("unsupported comparator %q", c)
		}
		if p == "x" || p == "X" || p == "*" {
			break
		}
		x, err := strconv.Atoi(p)
		if err != nil {
			return false, fmt.Errorf("unsupported comparator %q", c)
		}
		want[i], n = x, i+1
	}
	cmp := 0
	for i := 0; i < n && cmp == 0; i++ {
		cmp = compareInt(v[i], want[i])
	}
	switch op {
	case ">=":
		return cmp >= 0, nil
	case ">":
		return cmp > 0, nil
	case "<":
		return cmp < 0, nil
	case "<=":
		return cmp <= 0, nil
	case "", "=":
		return cmp == 0, nil
	case "^":
		return cmp >= 0 && v[0] == want[0], nil
	case "~":
		return cmp >= 0 && v[0] == want[0] && (n < 2 || v[1] == want[1]), nil
	}
	return false, fmt.Errorf("unsupported operator %q in %q", op, c)
}

func compareInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// The README's fresh-machine time is the committed record's (scripts/fresh-machine.sh writes it).
func TestREADMEQuotesTheFreshMachineRecord(t *testing.T) {
	root := repoRoot(t)
	raw, err := os.ReadFile(filepath.Join(root, "docs", "records", "setup-fresh.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]struct {
		Seconds float64 `json:"seconds"`
		Exit    int     `json:"exit"`
		Date    string  `json:"date"`
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatalf("docs/records/setup-fresh.json: %v", err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, what := range []string{"run", "test"} {
		r, ok := rec[what]
		if what == "test" && (!ok || r.Exit != 0) {
			continue // quoted once a fresh-machine make test has passed
		}
		if !ok || r.Exit != 0 || r.Seconds <= 0 || r.Date == "" {
			t.Errorf("docs/records/setup-fresh.json: no successful make %s record: %+v", what, rec)
			continue
		}
		want := fmt.Sprintf("<!-- fresh-%s -->%s", what, freshTime(r.Seconds))
		if !strings.Contains(string(readme), want) {
			t.Errorf("README.md does not quote the fresh-machine make %s record: want %q", what, want)
		}
	}
}

// freshTime is how the README writes a set-up time: seconds under ten minutes, else minutes.
func freshTime(s float64) string {
	if s < 600 {
		return fmt.Sprintf("%.0f s", s)
	}
	return fmt.Sprintf("%.0f min", s/60)
}

// The range reader against npm's semantics (node-semver's documented examples).
func TestNodeRangeAdmits(t *testing.T) {
	for _, c := range []struct {
		rng  string
		v    [3]int
		want bool
	}{
		{">=18", [3]int{18, 20, 4}, true},
		{">=20", [3]int{18, 20, 4}, false},
		{">=18.12 <21", [3]int{18, 20, 4}, true},
		{">=18.12 <21", [3]int{21, 0, 0}, false},
		{"^16.0.0 || >=18", [3]int{18, 0, 0}, true},
		{"^16.0.0 || ^20", [3]int{18, 0, 0}, false},
		{">18", [3]int{18, 20, 4}, false}, // >18 is >=19.0.0
		{"<=18", [3]int{18, 20, 4}, true}, // <=18 is <19.0.0
		{"~18.19.0", [3]int{18, 20, 4}, false},
		{"18.x", [3]int{18, 20, 4}, true},
	} {
		got, err := nodeRangeAdmits(c.rng, c.v)
		if err != nil || got != c.want {
			t.Errorf("nodeRangeAdmits(%q, %v) = %v, %v; want %v", c.rng, c.v, got, err, c.want)
		}
	}
}
