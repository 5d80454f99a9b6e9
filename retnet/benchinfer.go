package retnet

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// InferenceBenchConfig describes `retlab bench inference`: the latency of
// decoding one token (for Batch sequences at once) after Context tokens,
// and the memory decoding holds, for each architecture at one ladder rung
// (the paper's Figures 1 and 6 at our scale).
type InferenceBenchConfig struct {
	Models   []string // default: retnet, transformer
	Size     string   // ladder rung (default "m")
	Contexts []int    // default 256, 512, ..., 8192
	Batches  []int    // default 1, 2, 4, 8
	Steps    int      // timed decode steps per point, median reported (default 16)
	Seed     uint64
}

func (c *InferenceBenchConfig) defaults() {
	if len(c.Models) == 0 {
		c.Models = []string{KindRetNet, KindTransformer}
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
		c.Steps = 16
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

// BenchInference measures one record per model, batch and context length
// (the model built from the ladder rung with seeded random weights).
func BenchInference(cfg InferenceBenchConfig) ([]InferenceBench, error) {
	cfg.defaults()
	var out []InferenceBench
	for _, kind := range cfg.Models {
		mc, _, err := LadderModel(kind, cfg.Size)
		if err != nil {
			return nil, err
		}
		model, err := NewLanguageModel(mc, cfg.Seed+1)
		if err != nil {
			return nil, err
		}
		for _, B := range cfg.Batches {
			for _, n := range cfg.Contexts {
				rec, err := benchDecode(model, kind, cfg.Size, B, n, cfg.Steps, cfg.Seed)
				if err != nil {
					return nil, err
				}
				out = append(out, rec)
			}
		}
	}
	return out, nil
}

func benchDecode(model LanguageModel, kind, size string, B, n, steps int, seed uint64) (InferenceBench, error) {
	runtime.GC()
	debug.FreeOSMemory()
	ResetPeakRSS()
	dec := model.NewDecoder(B)
	rng := rand.New(rand.NewPCG(seed, uint64(n*16+B)))
	V := model.VocabSize()
	if f, ok := dec.(ContextFiller); ok {
		if err := f.FillContext(n, seed); err != nil {
			return InferenceBench{}, err
		}
	} else {
		prompt := make([][]int, B)
		for b := range prompt {
			prompt[b] = make([]int, n)
			for i := range prompt[b] {
				prompt[b][i] = rng.IntN(V)
			}
		}
		if _, err := dec.Prefill(prompt); err != nil {
			return InferenceBench{}, err
		}
	}
	tok := make([]int, B)
	for b := range tok {
		tok[b] = rng.IntN(V)
	}
	if _, err := dec.Step(tok); err != nil { // warm-up (allocations, cache growth)
		return InferenceBench{}, err
	}
	times := make([]float64, steps)
	for i := range times {
		t0 := time.Now()
		if _, err := dec.Step(tok); err != nil {
			return InferenceBench{}, err
		}
		times[i] = float64(time.Since(t0).Nanoseconds()) / 1e6
	}
	sort.Float64s(times)
	ms := times[len(times)/2]
	rec := InferenceBench{Model: kind, Size: size, Context: n, Batch: B, LatencyMs: ms,
		TokensPerS: float64(B) / (ms / 1e3), StateBytes: dec.StateBytes(), PeakRSSBytes: PeakRSS()}
	runtime.KeepAlive(dec)
	return rec, nil
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
func FlatnessRatio(recs []InferenceBench, model string, batch int) float64 {
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

func (c InferenceBenchConfig) String() string {
	return fmt.Sprintf("bench inference: %v at size %s, contexts %v, batches %v", c.Models, c.Size, c.Contexts, c.Batches)
}
