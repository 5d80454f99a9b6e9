// Package dockertest lints docker/: RetLab's container images and the one
// script that installs everything in them (hadolint is not available on
// these machines). It is only tests; its name ends in "test" so that the
// kernel's bindings generator leaves it out, as it does other test helpers.
//
// Files:
//
//	Dockerfile       CPU image: JupyterLab, the Go (RetLab) kernel, Go with a warm build cache
//	Dockerfile.cuda  the same on NVIDIA's CUDA 12.9 images, retlab built -tags cuda
//	install.sh       every install step; both Dockerfiles run it, CI runs it directly
//	smoke.py         install.sh's check step: kernelspec, a cell, a chart, JupyterLab with auth
//	constraints.txt  every pip package of the image's venv, pinned
//
// The rules the tests hold the Dockerfiles to, and why:
//
//   - Base images are pinned by exact tag and digest, so a rebuild starts
//     from the same bytes.
//   - Every RUN is docker/install.sh and nothing else, so what an image
//     build does is what `make docker-ci` exercises without Docker; together
//     the RUNs take every step install.sh has.
//   - The final stage runs as a non-root user, exposes 8888, has a
//     HEALTHCHECK (retlab-healthcheck: GET /api) and starts JupyterLab
//     through tini and retlab-lab (token authentication on).
//   - Its ENV says what `install.sh --print-env` says.
//   - The CUDA image builds on CUDA 12.x (CUDA 13 headers break
//     gorgonia.org/cu) and passes --cuda to every install.sh.
//   - .dockerignore keeps local installs (.venv, node_modules, bin) and .git
//     out of the build context; constraints.txt agrees with
//     deps/requirements.txt; the pinned Go toolchain is the go.mod's release.
package dockertest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// instr is one Dockerfile instruction with its continuation lines joined.
type instr struct {
	cmd  string // upper case: FROM, RUN, ...
	args string
	line int
}

// stage is one FROM and the instructions up to the next.
type stage struct {
	from   string // the image reference with build args substituted
	name   string // AS name, or ""
	args   map[string]string
	instrs []instr
}

type dockerfile struct {
	path   string
	stages []*stage
}

// problems collects what a lint finds.
type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// parse reads a Dockerfile: comments dropped, continuation lines joined,
// ARG defaults substituted into FROM (global ARGs) and into each stage's
// instructions (the stage's ARGs).
func parse(path string) (*dockerfile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var all []instr
	var cur strings.Builder
	start := 0
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if cur.Len() == 0 {
			start = n
		}
		if s, ok := strings.CutSuffix(line, "\\"); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		all = append(all, instr{strings.ToUpper(cmd), strings.Join(strings.Fields(args), " "), start})
		cur.Reset()
	}
	if cur.Len() > 0 {
		return nil, fmt.Errorf("%s: ends inside a continuation line", path)
	}
	d := &dockerfile{path: path}
	global := map[string]string{}
	var st *stage
	for _, in := range all {
		switch {
		case in.cmd == "FROM":
			ref, name, _ := strings.Cut(in.args, " AS ")
			if _, n, ok := strings.Cut(in.args, " as "); ok {
				ref, name = strings.Fields(in.args)[0], n
			}
			st = &stage{from: expand(ref, global), name: strings.TrimSpace(name), args: map[string]string{}}
			d.stages = append(d.stages, st)
		case in.cmd == "ARG":
			k, v, _ := strings.Cut(in.args, "=")
			if st == nil {
				global[k] = v
			} else {
				if gv, ok := global[k]; ok && v == "" {
					v = gv
				}
				st.args[k] = v
			}
		case st == nil:
			return nil, fmt.Errorf("%s:%d: %s before the first FROM", path, in.line, in.cmd)
		default:
			in.args = expand(in.args, st.args)
			st.instrs = append(st.instrs, in)
		}
	}
	if len(d.stages) == 0 {
		return nil, fmt.Errorf("%s: no FROM", path)
	}
	return d, nil
}

var argRef = regexp.MustCompile(`\$\{(\w+)\}|\$(\w+)`)

// expand substitutes the ARGs it knows; others (PATH, shell variables) stay.
func expand(s string, args map[string]string) string {
	return argRef.ReplaceAllStringFunc(s, func(m string) string {
		k := strings.Trim(m, "${}")
		if v, ok := args[k]; ok {
			return v
		}
		return m
	})
}

func (s *stage) all(cmd string) []instr {
	var out []instr
	for _, in := range s.instrs {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

func (s *stage) last(pr *problems, path, cmd string) (instr, bool) {
	ins := s.all(cmd)
	if len(ins) == 0 {
		pr.add("%s: the final stage has no %s", path, cmd)
		return instr{}, false
	}
	return ins[len(ins)-1], true
}

// An image reference pinned by an exact tag (a full version or a dated
// build, never a moving tag such as latest, 12, or bookworm-slim) and a
// digest.
var pinned = regexp.MustCompile(`^[a-z0-9][a-z0-9./_-]*:([A-Za-z0-9._-]+)@sha256:[0-9a-f]{64}$`)
var exactTag = regexp.MustCompile(`\d+\.\d+\.\d+|\d{8}`)

// installRun is a RUN that is exactly one docker/install.sh call, after
// optional BuildKit --mount flags.
var installRun = regexp.MustCompile(`^(?:--mount=\S+ )*(?:/src/)?docker/install\.sh( .*)?$`)

func installSteps(t *testing.T) []string {
	out, err := exec.Command("bash", "install.sh", "--list").Output()
	if err != nil {
		t.Fatalf("install.sh --list: %v", err)
	}
	return strings.Fields(string(out))
}

// flag returns the value of --name in an install.sh command line.
func flag(args, name string) string {
	f := strings.Fields(args)
	for i, a := range f {
		if a == name && i+1 < len(f) {
			return strings.Trim(f[i+1], `"'`)
		}
	}
	return ""
}

func TestDockerfiles(t *testing.T) {
	steps, env := installSteps(t), printEnv(t)
	for _, tc := range []struct {
		path string
		cuda bool
	}{{"Dockerfile", false}, {"Dockerfile.cuda", true}} {
		t.Run(tc.path, func(t *testing.T) {
			d, err := parse(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range lint(d, steps, env, tc.cuda) {
				t.Error(p)
			}
		})
	}
}

// TestLintCatches feeds the lint a Dockerfile that breaks each rule.
func TestLintCatches(t *testing.T) {
	d, err := parse("testdata/bad.Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(lint(d, installSteps(t), printEnv(t), false), "\n")
	t.Logf("the lint found, as it should:\n%s", got)
	for _, want := range []string{
		"FROM debian:bookworm-slim is not pinned",
		"tag \"12\" is not an exact release",
		"ADD: use COPY",
		`RUN "apt-get update && apt-get install -y curl": every RUN must be one docker/install.sh call`,
		"install.sh without --image --prefix /opt/retlab",
		"step user belongs in the final stage",
		"no RUN takes install.sh's warm step",
		"USER root: the final image must run as a non-root user",
		"EXPOSE 80, want 8888",
		"the final stage has no HEALTHCHECK",
		"ENTRYPOINT",
		"sets CMD",
		"ENV GOTOOLCHAIN=\"\"",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the lint missed %q; it found:\n%s", want, got)
		}
	}
}

// lint returns what breaks the rules of the package comment.
func lint(d *dockerfile, steps []string, env map[string]string, cuda bool) problems {
	var pr problems
	p := d.path
	if len(d.stages) < 2 {
		pr.add("%s: %d stage(s); want a build stage and a final stage", p, len(d.stages))
	}
	names := map[string]bool{}
	for _, s := range d.stages {
		if names[s.from] {
			continue // FROM an earlier stage
		}
		m := pinned.FindStringSubmatch(s.from)
		if m == nil {
			pr.add("%s: FROM %s is not pinned by tag and digest (image:tag@sha256:...)", p, s.from)
		} else if !exactTag.MatchString(m[1]) {
			pr.add("%s: FROM %s: tag %q is not an exact release (x.y.z or a dated build)", p, s.from, m[1])
		}
		if cuda && !strings.HasPrefix(s.from, "nvidia/cuda:12.") {
			pr.add("%s: FROM %s: want an nvidia/cuda:12.x image (CUDA 13 headers break gorgonia.org/cu)", p, s.from)
		}
		if s.name != "" {
			names[s.name] = true
		}
	}
	if cuda {
		if !strings.Contains(d.stages[0].from, "-devel-") || !strings.Contains(d.stages[len(d.stages)-1].from, "-runtime-") {
			pr.add("%s: want a -devel- build stage (headers, stubs) and a -runtime- final stage", p)
		}
	}

	// Every RUN is one install.sh call; together they take every step.
	covered := map[string]bool{}
	for i, s := range d.stages {
		for _, in := range s.instrs {
			switch in.cmd {
			case "ADD":
				pr.add("%s:%d: ADD: use COPY (no URLs, no auto-extraction)", p, in.line)
			case "RUN":
				if !installRun.MatchString(in.args) {
					pr.add("%s:%d: RUN %q: every RUN must be one docker/install.sh call (CI runs the same steps)", p, in.line, in.args)
					continue
				}
				if flag(in.args, "--prefix") != "/opt/retlab" || !strings.Contains(in.args, " --image") {
					pr.add("%s:%d: install.sh without --image --prefix /opt/retlab", p, in.line)
				}
				if cuda != strings.Contains(in.args, " --cuda") {
					pr.add("%s:%d: install.sh --cuda must be given exactly in Dockerfile.cuda", p, in.line)
				}
				list := flag(in.args, "--steps")
				if list == "" {
					pr.add("%s:%d: install.sh without --steps: a stage takes only its part", p, in.line)
				}
				for _, st := range strings.Split(list, ",") {
					if !slices.Contains(steps, st) {
						pr.add("%s:%d: unknown install.sh step %q", p, in.line, st)
					}
					covered[st] = true
					final, runStep := i == len(d.stages)-1, st == "check" || st == "user"
					switch {
					case runStep && !final:
						pr.add("%s:%d: step %s belongs in the final stage", p, in.line, st)
					case !runStep && final && st != "apt":
						pr.add("%s:%d: step %s builds: it belongs in a build stage, not the final one", p, in.line, st)
					}
				}
			}
		}
	}
	for _, st := range steps {
		if !covered[st] {
			pr.add("%s: no RUN takes install.sh's %s step", p, st)
		}
	}

	// The final stage: user, port, health, entrypoint, environment.
	f := d.stages[len(d.stages)-1]
	if u, ok := f.last(&pr, p, "USER"); ok {
		name, _, _ := strings.Cut(u.args, ":")
		if name == "root" || name == "0" || strings.Contains(name, "$") {
			pr.add("%s:%d: USER %s: the final image must run as a non-root user", p, u.line, u.args)
		}
		runs := f.all("RUN")
		if len(runs) == 0 || (flag(runs[len(runs)-1].args, "--uid") != name && flag(runs[len(runs)-1].args, "--user") != name) {
			pr.add("%s:%d: USER %s is not the user (--user/--uid) install.sh's user step creates", p, u.line, u.args)
		}
	}
	if e, ok := f.last(&pr, p, "EXPOSE"); ok && e.args != "8888" {
		pr.add("%s:%d: EXPOSE %s, want 8888", p, e.line, e.args)
	}
	if h, ok := f.last(&pr, p, "HEALTHCHECK"); ok && !strings.Contains(h.args, `CMD ["/opt/retlab/bin/retlab-healthcheck"]`) {
		pr.add("%s:%d: HEALTHCHECK %s: want CMD [\"/opt/retlab/bin/retlab-healthcheck\"] (GET /api)", p, h.line, h.args)
	}
	if e, ok := f.last(&pr, p, "ENTRYPOINT"); ok && e.args != `["/usr/bin/tini", "--", "/opt/retlab/bin/retlab-lab"]` {
		pr.add("%s:%d: ENTRYPOINT %s: want tini running retlab-lab (exec form)", p, e.line, e.args)
	}
	if len(f.all("CMD")) > 0 {
		pr.add("%s: the final stage sets CMD: arguments given to docker run go to jupyter lab", p)
	}
	// ENV says what install.sh --print-env says.
	got := map[string]string{}
	for _, e := range f.all("ENV") {
		for _, kv := range strings.Fields(e.args) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				pr.add("%s:%d: ENV %s: use the KEY=value form", p, e.line, e.args)
			}
			got[k] = v
		}
	}
	for k, v := range env {
		if got[k] != v {
			pr.add("%s: ENV %s=%q; install.sh --print-env says %q", p, k, got[k], v)
		}
	}
	return pr
}

// printEnv is install.sh --print-env for the images' prefix and GOROOT, in
// Dockerfile ENV syntax.
func printEnv(t *testing.T) map[string]string {
	out, err := exec.Command("bash", "install.sh", "--print-env", "--prefix", "/opt/retlab", "--goroot", "/usr/local/go").Output()
	if err != nil {
		t.Fatalf("install.sh --print-env: %v", err)
	}
	env := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, _ := strings.Cut(strings.TrimPrefix(l, "export "), "=")
		env[k] = strings.ReplaceAll(v, "$PATH", "${PATH}")
	}
	if len(env) < 3 {
		t.Fatalf("install.sh --print-env printed %q", out)
	}
	return env
}

func TestDockerignore(t *testing.T) {
	b, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		have[strings.TrimSpace(l)] = true
	}
	for _, p := range []string{".git", ".venv", "node_modules", "bin"} {
		if !have[p] {
			t.Errorf(".dockerignore does not exclude %s", p)
		}
	}
}

// pins reads name==version lines (comments dropped), names normalised as
// pip does (case, and -_. alike).
func pins(t *testing.T, path string) map[string]string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	norm := strings.NewReplacer("_", "-", ".", "-")
	out := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		l, _, _ = strings.Cut(l, "#")
		if name, ver, ok := strings.Cut(strings.TrimSpace(l), "=="); ok {
			out[norm.Replace(strings.ToLower(strings.TrimSpace(name)))] = strings.TrimSpace(ver)
		}
	}
	return out
}

func TestConstraintsCoverRequirements(t *testing.T) {
	req, cons := pins(t, "../deps/requirements.txt"), pins(t, "constraints.txt")
	if len(req) == 0 || len(cons) < len(req) {
		t.Fatalf("%d requirement pins, %d constraints", len(req), len(cons))
	}
	for name, v := range req {
		if cons[name] != v {
			t.Errorf("deps/requirements.txt pins %s==%s, docker/constraints.txt %q: run make docker-constraints", name, v, cons[name])
		}
	}
}

func TestInstallScript(t *testing.T) {
	if out, err := exec.Command("bash", "-n", "install.sh").CombinedOutput(); err != nil {
		t.Fatalf("bash -n install.sh: %v\n%s", err, out)
	}
	b, err := os.ReadFile("install.sh")
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	ver := regexp.MustCompile(`(?m)^GO_VERSION=(\d+)\.(\d+)\.(\d+)$`).FindStringSubmatch(src)
	if ver == nil {
		t.Fatal("install.sh: no GO_VERSION=x.y.z")
	}
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goLine := regexp.MustCompile(`(?m)^go (\d+)\.(\d+)`).FindStringSubmatch(string(mod))
	if goLine == nil || goLine[1] != ver[1] || goLine[2] != ver[2] {
		t.Errorf("install.sh pins Go %s.%s.%s but go.mod says %v", ver[1], ver[2], ver[3], goLine)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		if !regexp.MustCompile(`(?m)^GO_H1_` + arch + `='h1:[A-Za-z0-9+/]{43}='$`).MatchString(src) {
			t.Errorf("install.sh: no h1 hash pinned for the linux-%s toolchain", arch)
		}
	}
}
