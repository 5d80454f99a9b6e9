package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/retnet/bench"
)

// benchKinds are the `retlab bench KIND` sweeps; each lives in its own file.
var benchKinds = map[string]func(args []string, stdout, stderr io.Writer) error{}

func init() {
	register("bench", command{"benchmarks: retention | inference | train (JSON with --json)", runBench})
	benchKinds["retention"] = benchRetention
}

func runBench(args []string, stdout, stderr io.Writer) error {
	kinds := make([]string, 0, len(benchKinds))
	for k := range benchKinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	if len(args) == 0 || benchKinds[args[0]] == nil {
		fmt.Fprintf(stderr, "usage: retlab bench {%s} [flags]\n", strings.Join(kinds, "|"))
		return errUsage
	}
	return benchKinds[args[0]](args[1:], stdout, stderr)
}

func parseInts(flagName, s string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || v < 1 {
			return nil, fmt.Errorf("--%s entry %q is not a positive integer", flagName, p)
		}
		out = append(out, v)
	}
	return out, nil
}

func benchRetention(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench retention", stderr)
	asJSON := fs.Bool("json", false, "print a JSON array of records (retnet.RetentionBench)")
	formsFlag := fs.String("forms", "parallel,chunkwise,recurrent", "forms to time")
	tFlag := fs.String("T", "512,2048,8192", "sequence lengths")
	D := intFlag(fs, "D", 512, 1, 1<<16, "model dim")
	DV := intFlag(fs, "DV", 1024, 1, 1<<16, "value dim")
	H := intFlag(fs, "H", 4, 1, 1024, "heads")
	B := intFlag(fs, "B", 1, 1, 4096, "batch")
	chunk := intFlag(fs, "chunk", retnet.DefaultChunk, 1, 1<<16, "chunk size of the chunkwise form")
	repeats := intFlag(fs, "repeats", 3, 1, 1000, "best of N")
	reference := fs.Bool("reference", true, "also time the PyTorch CPU reference (scripts/bench_retention_torch.py) in the same run")
	python := fs.String("python", "/usr/bin/python3", "python with torch for the reference")
	script := fs.String("reference-script", "", "path of bench_retention_torch.py (default: found from the working directory or the binary)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	Ts, err := parseInts("T", *tFlag)
	if err != nil {
		return err
	}
	var forms []retnet.Form
	for _, f := range strings.Split(*formsFlag, ",") {
		form, err := retnet.ParseForm(strings.TrimSpace(f))
		if err != nil {
			return err
		}
		forms = append(forms, form)
	}
	recs, err := bench.Retention(bench.RetentionConfig{Forms: forms, T: Ts, Batch: *B, Dim: *D, Value: *DV, Heads: *H, Chunk: *chunk, Repeats: *repeats})
	if err != nil {
		return err
	}
	if *reference {
		ref, err := torchRetentionReference(*python, *script, *formsFlag, *tFlag, *D, *DV, *H, *B, *chunk, *repeats, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "retlab bench retention: no PyTorch reference: %v\n", err)
		} else {
			for i := range recs {
				for _, r := range ref {
					if r.Form == recs[i].Form && r.T == recs[i].T && r.Ms > 0 && recs[i].Ms > 0 {
						recs[i].Ratio = r.Ms / recs[i].Ms
					}
				}
			}
			recs = append(recs, ref...)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(recs)
	}
	fmt.Fprintf(stdout, "%-8s %-10s %6s %10s %12s %10s %8s\n", "impl", "form", "T", "ms", "us/token", "GFLOP/s", "speedup")
	for _, r := range recs {
		sp := ""
		if r.Ratio > 0 {
			sp = fmt.Sprintf("%.2fx", r.Ratio)
		}
		fmt.Fprintf(stdout, "%-8s %-10s %6d %10.2f %12.2f %10.2f %8s\n", r.Impl, r.Form, r.T, r.Ms, r.MsPerTok*1e3, r.GFlopPerS, sp)
	}
	return nil
}

// findScript locates a file of the repository's scripts/ directory from the
// working directory or the binary's location.
func findScript(name, explicit string) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	var roots []string
	if wd, err := os.Getwd(); err == nil {
		roots = append(roots, wd)
	}
	if exe, err := os.Executable(); err == nil {
		roots = append(roots, filepath.Dir(exe))
	}
	for _, r := range roots {
		for d := r; ; d = filepath.Dir(d) {
			p := filepath.Join(d, "scripts", name)
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	return "", fmt.Errorf("scripts/%s not found from %v (pass --reference-script)", name, roots)
}

func torchRetentionReference(python, script, forms, Ts string, D, DV, H, B, chunk, repeats int, stderr io.Writer) ([]retnet.RetentionBench, error) {
	path, err := findScript("bench_retention_torch.py", script)
	if err != nil {
		return nil, err
	}
	var recs []retnet.RetentionBench
	err = runJSONScript(python, path, []string{"--forms", forms, "--T", Ts, "--D", strconv.Itoa(D), "--DV", strconv.Itoa(DV),
		"--H", strconv.Itoa(H), "--B", strconv.Itoa(B), "--chunk", strconv.Itoa(chunk), "--repeats", strconv.Itoa(repeats)}, nil, stderr, &recs)
	return recs, err
}

// runJSONScript runs a reference script (python path args...) with extra
// environment, passing its stderr through, and decodes the JSON it prints
// into out.
func runJSONScript(python, path string, args, env []string, stderr io.Writer, out any) error {
	cmd := exec.Command(python, append([]string{path}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", python, path, err)
	}
	if err := json.Unmarshal(buf.Bytes(), out); err != nil {
		return fmt.Errorf("%s printed invalid JSON: %w", path, err)
	}
	return nil
}
