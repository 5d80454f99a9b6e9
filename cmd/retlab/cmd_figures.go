package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/retnet/load"
	"github.com/retlab/retlab/viz"
)

func init() {
	register("figures", command{"regenerate every figure (SVG, PNG, HTML) from results files", runFigures})
}

// Results files that `retlab figures --from DIR` reads (all optional; the
// JSON may be an array, one object, or JSON lines of the retnet result records):
const figuresFromHelp = `Reads from --from DIR (every file optional; a missing one skips its figure):
  inference.json          retnet.InferenceBench records (retlab bench inference --json)
  perplexity.json         retnet.PerplexityPoint records, drawn beside the paper's Figure 5
  form-agreement.json     retnet.FormAgreement records
  retention-scores.json   retnet.RetentionScores records
  train/RUN/log.jsonl     training logs (retnet.LogEntry lines), one run per directory
  RUN.log.jsonl           training logs in DIR itself
Always drawn: decay matrices and profiles (--heads, --len, --schedule) and the paper's Figure 5.`

func runFigures(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("figures", stderr)
	out := fs.String("out", "", "directory to write figures into (created)")
	from := fs.String("from", "", "results directory (default notebooks/results when it exists)")
	formats := fs.String("formats", "svg,png,html", "comma-separated formats: svg, png, pdf, html")
	scale := floatFlag(fs, "scale", 1, 0.1, 10, "PNG pixel density (2 for print)")
	heads := intFlag(fs, "heads", 8, 1, 64, "heads of the decay figures")
	n := intFlag(fs, "len", 64, 1, 4096, "sequence length of the decay matrices")
	schedule := fs.String("schedule", retnet.ScheduleTorchscale, "decay schedule: torchscale or paper")
	ckpt := fs.String("checkpoint", "", "RetNet checkpoint: a safetensors file (torchscale's RetNet), or a Hugging Face model directory or cached hub name (fla's RetNet); draw its retention scores and form agreement on --text (overrides those results files)")
	text := fs.String("text", "Retentive networks remember the recent past best.", "input for --checkpoint: one token per byte, or the Hugging Face model's tokenizer.json")
	chunk := intFlag(fs, "chunk", 8, 1, 4096, "chunk size of the chunkwise form for --checkpoint's form agreement")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: retlab figures --out DIR [--from RESULTS] [flags]")
		fs.PrintDefaults()
		fmt.Fprintln(stderr, figuresFromHelp)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		fs.Usage()
		return errUsage
	}
	want := map[string]bool{}
	for _, f := range strings.Split(*formats, ",") {
		f = strings.TrimSpace(strings.ToLower(f))
		switch f {
		case "svg", "png", "pdf", "html":
			want[f] = true
		case "":
		default:
			return fmt.Errorf("--formats: unknown format %q (want svg, png, pdf, html)", f)
		}
	}
	if *heads < 1 || *heads > 64 || *n < 1 || *n > 4096 {
		return fmt.Errorf("--heads must be 1..64 and --len 1..4096 (got %d, %d)", *heads, *n)
	}
	if *schedule != retnet.ScheduleTorchscale && *schedule != retnet.SchedulePaper {
		return fmt.Errorf("--schedule %q: want torchscale or paper", *schedule)
	}
	dir := *from
	if dir == "" {
		if st, err := os.Stat("notebooks/results"); err == nil && st.IsDir() {
			dir = "notebooks/results"
		}
	} else if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("--from %s: not a directory", dir)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}

	figs, notes, err := buildFigures(dir, *heads, *n, *schedule)
	if err != nil {
		return err
	}
	if *ckpt != "" {
		if err := modelFigures(figs, *ckpt, *text, *chunk); err != nil {
			return err
		}
	}
	for _, s := range notes {
		fmt.Fprintln(stderr, "figures:", s)
	}
	names := make([]string, 0, len(figs))
	for name := range figs {
		names = append(names, name)
	}
	sort.Strings(names)
	t0 := time.Now()
	var jobs []viz.ExportJob
	for _, name := range names {
		base := filepath.Join(*out, name)
		j := viz.ExportJob{Figure: figs[name], Scale: *scale}
		if want["svg"] {
			j.SVG = base + ".svg"
		}
		if want["png"] {
			j.PNG = base + ".png"
		}
		if want["pdf"] {
			j.PDF = base + ".pdf"
		}
		if want["html"] {
			if err := figs[name].SaveHTML(base + ".html"); err != nil {
				return err
			}
		}
		jobs = append(jobs, j)
	}
	if err := viz.Export(jobs...); err != nil {
		return err
	}
	var fmts []string
	for _, f := range []string{"svg", "png", "pdf", "html"} {
		if want[f] {
			fmts = append(fmts, f)
		}
	}
	for _, name := range names {
		fmt.Fprintf(stdout, "%-22s %s\n", name, figs[name])
	}
	fmt.Fprintf(stdout, "wrote %d figures (%s) to %s in %.1fs\n", len(names), strings.Join(fmts, ", "), *out, time.Since(t0).Seconds())
	return nil
}

// buildFigures makes every figure the results in dir (may be "") allow,
// and notes saying which were skipped and why.
func buildFigures(dir string, heads, n int, schedule string) (map[string]*viz.Figure, []string, error) {
	figs := map[string]*viz.Figure{}
	var notes []string
	gammas := retnet.Gammas(schedule, heads)
	figs["decay-matrices"] = viz.DecayMatrices(gammas, n, viz.DecayOptions{Normalized: true, LogScale: true})
	figs["decay-matrices-raw"] = viz.DecayMatrices(gammas, n, viz.DecayOptions{})
	figs["decay-profiles"] = viz.DecayProfiles(gammas, viz.ProfileOptions{})

	path := func(name string) string {
		if dir == "" {
			return ""
		}
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err != nil {
			notes = append(notes, fmt.Sprintf("no %s: skipped its figure", p))
			return ""
		}
		return p
	}
	ppl := viz.PaperFigure5()
	if p := path("perplexity.json"); p != "" {
		m, err := viz.ReadPerplexity(p)
		if err != nil {
			return nil, nil, err
		}
		ppl = append(m, ppl...)
	}
	figs["perplexity-vs-size"] = viz.PerplexityVsSize(ppl, viz.PerplexityOptions{})

	if p := path("inference.json"); p != "" {
		b, err := viz.ReadInferenceBench(p)
		if err != nil {
			return nil, nil, err
		}
		if len(b) > 0 {
			figs["inference-vs-context"] = viz.InferenceCost(b, viz.InferenceOptions{X: "context"})
			if varies(b, func(r retnet.InferenceBench) int { return r.Batch }) {
				figs["inference-vs-batch"] = viz.InferenceCost(b, viz.InferenceOptions{X: "batch"})
			}
		}
	}
	if p := path("form-agreement.json"); p != "" {
		r, err := viz.ReadFormAgreement(p)
		if err != nil {
			return nil, nil, err
		}
		if len(r) > 0 {
			figs["form-agreement"] = viz.FormAgreement(r, viz.AgreementOptions{})
		}
	}
	if p := path("retention-scores.json"); p != "" {
		r, err := viz.ReadRetentionScores(p)
		if err != nil {
			return nil, nil, err
		}
		if len(r) > 0 {
			figs["retention-scores"] = viz.RetentionScores(r, viz.ScoresOptions{})
		}
	}
	runs, err := trainingRuns(dir)
	if err != nil {
		return nil, nil, err
	}
	if len(runs) > 0 {
		figs["training-loss"] = viz.TrainingCurves(runs, viz.TrainingOptions{})
		figs["training-loss-tokens"] = viz.TrainingCurves(runs, viz.TrainingOptions{X: "tokens"})
	} else if dir != "" {
		notes = append(notes, fmt.Sprintf("no training logs (train/RUN/log.jsonl or RUN.log.jsonl) in %s: skipped training curves", dir))
	}
	return figs, notes, nil
}

// modelFigures draws a RetNet checkpoint's retention scores and form
// agreement on text. path is anything load.Model opens: a RetLab or
// torchscale safetensors file (text one token per byte), or a Hugging Face
// model directory or cached hub name of fla's RetNet (text through its
// tokenizer.json).
func modelFigures(figs map[string]*viz.Figure, path, text string, chunk int) error {
	if text == "" || chunk < 1 {
		return fmt.Errorf("--text must be non-empty and --chunk >= 1")
	}
	m, err := load.Model(path)
	if err != nil {
		return err
	}
	defer m.Close()
	r, ok := retnet.AsRetentive(m)
	if !ok {
		return fmt.Errorf("--checkpoint %s is a %s: retention scores and form agreement need a RetNet", path, m.Kind())
	}
	tokens, labels, err := load.Encode(m, text)
	if err != nil {
		return fmt.Errorf("--checkpoint %s: --text: %w", path, err)
	}
	scores, err := r.RetentionScores(tokens, labels)
	if err != nil {
		return err
	}
	figs["retention-scores"] = viz.RetentionScores(scores, viz.ScoresOptions{})
	fa, err := r.FormAgreement(tokens, chunk)
	if err != nil {
		return err
	}
	figs["form-agreement"] = viz.FormAgreement(fa, viz.AgreementOptions{})
	return nil
}

func varies(b []retnet.InferenceBench, f func(retnet.InferenceBench) int) bool {
	for _, r := range b[1:] {
		if f(r) != f(b[0]) {
			return true
		}
	}
	return false
}

// trainingRuns reads dir/train/RUN/log.jsonl and dir/RUN.log.jsonl.
func trainingRuns(dir string) ([]viz.Run, error) {
	if dir == "" {
		return nil, nil
	}
	var paths []string
	m1, _ := filepath.Glob(filepath.Join(dir, "train", "*", "log.jsonl"))
	m2, _ := filepath.Glob(filepath.Join(dir, "*.log.jsonl"))
	paths = append(append(paths, m1...), m2...)
	sort.Strings(paths)
	var runs []viz.Run
	for _, p := range paths {
		log, err := viz.ReadTrainingLog(p)
		if err != nil {
			return nil, err
		}
		name := filepath.Base(filepath.Dir(p))
		if strings.HasSuffix(p, ".log.jsonl") && filepath.Base(p) != "log.jsonl" {
			name = strings.TrimSuffix(filepath.Base(p), ".log.jsonl")
		}
		if len(log) > 0 {
			runs = append(runs, viz.Run{Name: name, Log: log})
		}
	}
	return runs, nil
}
