package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/retlab/retlab/display"
	"github.com/retlab/retlab/internal/sweep"
	"github.com/retlab/retlab/retnet"
)

// InferenceConfig describes `retlab bench inference`: the latency of
// decoding one token (for Batch sequences at once) after Context tokens,
// and the memory decoding holds, for each architecture at one ladder rung
// (the paper's Figures 1 and 6 at our scale).
type InferenceConfig struct {
	Models   []string // default: retnet, transformer
	Size     string   // ladder rung (default "m")
	Contexts []int    // default 256, 512, ..., 8192
	Batches  []int    // default 1, 2, 4, 8
	Steps    int      // timed decode rounds per point, median reported (default 64)
	Passes   int      // latency passes over all points, best median reported (default 3)
	Seed     uint64
}

func (c *InferenceConfig) defaults() {
	if len(c.Models) == 0 {
		c.Models = []string{retnet.KindRetNet, retnet.KindTransformer}
	}
	if c.Size == "" {
		c.Size = "m"
	}
	if len(c.Contexts) == 0 {
		c.Contexts = []int{256, 512, 1024, 2048, 4096, 8192}
	}
	if len(c.Batches) == 0 {
		c.Batches = []int{1, 2, 4, 8}
	}
	if c.Steps <= 0 {
		c.Steps = 64
	}
	if c.Passes <= 0 {
		c.Passes = 3
	}
}

// ContextFiller is implemented by decoders that can be put at position n
// with arbitrary (random, seeded) state in O(state size) time. The cost of a
// decode step depends only on n, not on the state's content, so the
// inference benchmark uses it to reach long contexts without an O(n^2)
// Transformer prefill; decoders without it are prefilled with random tokens.
type ContextFiller interface {
	FillContext(n int, seed uint64) error
}

// Inference measures one record per model, batch and context length
// (the model built from the ladder rung with seeded random weights):
//
//   - memory: one context at a time, a fresh decoder brought to the context,
//     the peak RSS reset, then a few steps: StateBytes and PeakRSSBytes;
//   - latency: decoders for every context of one model and batch alive at
//     once, timed in interleaved rounds (one step on each context in turn,
//     Steps rounds), so that a change in machine load over time hits every
//     context alike instead of looking like a dependence on the context; the
//     median per context is taken. This runs Passes times over all models
//     and batches, so the passes over one point lie a whole sweep apart, and
//     the best (lowest) median is reported: a burst of load on a shared
//     machine, which can last longer than one point's timing, then has to
//     hit every pass to show.
//
// Decoders reach a context through ContextFiller when they implement it,
// else by prefilling random tokens in pieces of at most prefillPiece tokens
// (bounding the prefill's activation memory).
func Inference(cfg InferenceConfig) ([]retnet.InferenceBench, error) {
	cfg.defaults()
	var out []retnet.InferenceBench
	sw := sweep.Start(cfg.Passes*len(cfg.Models)*len(cfg.Batches), "bench inference")
	defer sw.Close()
	models := make([]retnet.LanguageModel, len(cfg.Models))
	for m, kind := range cfg.Models {
		mc, _, err := retnet.LadderModel(kind, cfg.Size)
		if err != nil {
			return nil, err
		}
		if models[m], err = retnet.NewLanguageModel(mc, cfg.Seed+1); err != nil {
			return nil, err
		}
	}
	for pass := 0; pass < cfg.Passes; pass++ {
		at := 0 // index of the next (model, batch) group in out
		for m, kind := range cfg.Models {
			for _, B := range cfg.Batches {
				if err := sw.Check(); err != nil {
					// out holds the groups measured so far (all of them,
					// with finite latencies, after the first pass).
					return out, err
				}
				if pass == 0 {
					for _, n := range cfg.Contexts {
						rec, err := benchMemory(models[m], kind, cfg.Size, B, n, cfg.Seed)
						if err != nil {
							return nil, err
						}
						rec.LatencyMs = math.Inf(1)
						out = append(out, rec)
					}
				}
				lat, err := benchLatency(models[m], B, cfg.Contexts, cfg.Steps, cfg.Seed)
				if err != nil {
					return nil, err
				}
				recs := out[at : at+len(cfg.Contexts)]
				at += len(cfg.Contexts)
				for i := range recs {
					if lat[i] < recs[i].LatencyMs {
						recs[i].LatencyMs = lat[i]
						recs[i].TokensPerS = float64(B) / (lat[i] / 1e3)
					}
				}
				sw.Done(display.Metric{Name: kind + " B=" + fmt.Sprint(B) + " ms/token", Value: recs[0].LatencyMs})
			}
		}
	}
	return out, nil
}

// prefillPiece is the largest prompt piece benchmarks prefill at once.
const prefillPiece = 1024

// reachContext returns a decoder of B sequences at position n, with a
// random next token per sequence.
func reachContext(model retnet.LanguageModel, B, n int, seed uint64) (retnet.Decoder, []int, error) {
	dec := model.NewDecoder(B)
	rng := rand.New(rand.NewPCG(seed, uint64(n*16+B)))
	V := model.VocabSize()
	if f, ok := dec.(ContextFiller); ok {
		if err := f.FillContext(n, seed); err != nil {
			return nil, nil, err
		}
	} else {
		for done := 0; done < n; {
			k := min(prefillPiece, n-done)
			prompt := make([][]int, B)
			for b := range prompt {
				prompt[b] = make([]int, k)
				for i := range prompt[b] {
					prompt[b][i] = rng.IntN(V)
				}
			}
			if _, err := dec.Prefill(prompt); err != nil {
				return nil, nil, err
			}
			done += k
		}
	}
	tok := make([]int, B)
	for b := range tok {
		tok[b] = rng.IntN(V)
	}
	return dec, tok, nil
}

func releaseMemory() {
	runtime.GC()
	debug.FreeOSMemory()
}

// benchMemory measures the state size and the peak RSS of decoding at
// context n (the prefill's own memory released first).
func benchMemory(model retnet.LanguageModel, kind, size string, B, n int, seed uint64) (retnet.InferenceBench, error) {
	releaseMemory()
	dec, tok, err := reachContext(model, B, n, seed)
	if err != nil {
		return retnet.InferenceBench{}, err
	}
	releaseMemory()
	ResetPeakRSS()
	state := dec.StateBytes() // what is held at context n
	for i := 0; i < 2; i++ {
		if _, err := dec.Step(tok); err != nil {
			return retnet.InferenceBench{}, err
		}
	}
	rec := retnet.InferenceBench{Model: kind, Size: size, Context: n, Batch: B, StateBytes: state, PeakRSSBytes: PeakRSS()}
	runtime.KeepAlive(dec)
	return rec, nil
}

// benchLatency returns the median step latency (ms) at each context,
// timed in interleaved rounds.
func benchLatency(model retnet.LanguageModel, B int, contexts []int, steps int, seed uint64) ([]float64, error) {
	decs := make([]retnet.Decoder, len(contexts))
	toks := make([][]int, len(contexts))
	for i, n := range contexts {
		var err error
		if decs[i], toks[i], err = reachContext(model, B, n, seed); err != nil {
			return nil, err
		}
		if _, err := decs[i].Step(toks[i]); err != nil { // warm-up: growth, scratch
			return nil, err
		}
	}
	releaseMemory()
	times := make([]sweep.Samples, len(contexts))
	for r := 0; r < steps; r++ {
		for i, d := range decs {
			dt, err := sweep.Wall(func() error { _, err := d.Step(toks[i]); return err })
			if err != nil {
				return nil, err
			}
			times[i] = append(times[i], dt)
		}
	}
	med := make([]float64, len(contexts))
	for i, t := range times {
		slices.Sort(t)
		med[i] = float64(t.Median().Nanoseconds()) / 1e6
	}
	return med, nil
}

// ResetPeakRSS resets the process's peak resident set size where the OS
// allows it (Linux: writing 5 to /proc/self/clear_refs), so that PeakRSS
// measures from now on. Elsewhere it does nothing.
func ResetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// PeakRSS returns the peak resident set size of the process in bytes:
// VmHWM from /proc/self/status on Linux (since the last ResetPeakRSS), else
// getrusage's ru_maxrss. 0 if neither is available.
func PeakRSS() int64 {
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			line := sc.Text()
			if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				f := bytes.Fields([]byte(rest))
				if len(f) >= 1 {
					if kb, err := strconv.ParseInt(string(f[0]), 10, 64); err == nil {
						return kb * 1024
					}
				}
			}
		}
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		return int64(ru.Maxrss) * 1024 // kilobytes on Linux
	}
	return 0
}

// FlatnessRatio returns max/min latency of the records of one model and
// batch over their contexts (1 when fewer than two records match).
func FlatnessRatio(recs []retnet.InferenceBench, model string, batch int) float64 {
	lo, hi := 0.0, 0.0
	for _, r := range recs {
		if r.Model != model || r.Batch != batch {
			continue
		}
		if lo == 0 || r.LatencyMs < lo {
			lo = r.LatencyMs
		}
		hi = max(hi, r.LatencyMs)
	}
	if lo == 0 {
		return 1
	}
	return hi / lo
}

// String summarises the sweep.
func (c InferenceConfig) String() string {
	return fmt.Sprintf("bench inference: %v at size %s, contexts %v, batches %v", c.Models, c.Size, c.Contexts, c.Batches)
}
