package bench

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/retlab/retlab/display"
	"github.com/retlab/retlab/internal/sweep"
	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/retnet/backend/cpu"
)

// RetentionConfig describes a timing sweep of one multi-scale retention
// layer forward (projections, rotation, retention, group norm, gate, output
// projection) in each form.
type RetentionConfig struct {
	Forms   []retnet.Form // default: all three
	T       []int         // sequence lengths; default 512, 2048, 8192
	Batch   int           // default 1
	Dim     int           // D, default 512
	Value   int           // DV, default 1024
	Heads   int           // H, default 4 (dk = 128)
	Chunk   int           // chunkwise chunk size, default DefaultChunk
	Repeats int           // best of; default 3
	// MaxRecurrentTokens, if positive, caps how many decode steps the
	// recurrent timing runs (the time is then scaled to T and the record
	// says so). Default 0: the whole sequence is decoded and timed, so
	// whether the per-token cost stays flat is measured, not assumed.
	MaxRecurrentTokens int
	// Peak is the float32 peak MFU is computed against (cpu.MeasurePeak of
	// the current ISA and threads); zero: measured once per sweep.
	Peak cpu.Peak
}

func (c *RetentionConfig) defaults() {
	if len(c.Forms) == 0 {
		c.Forms = retnet.Forms
	}
	if len(c.T) == 0 {
		c.T = []int{512, 2048, 8192}
	}
	def := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	def(&c.Batch, 1)
	def(&c.Dim, 512)
	def(&c.Value, 1024)
	def(&c.Heads, 4)
	def(&c.Chunk, retnet.DefaultChunk)
	def(&c.Repeats, 3)
}

// Retention times an MSR layer with random weights in each form and
// length of cfg (best of cfg.Repeats) and returns one record per point.
func Retention(cfg RetentionConfig) ([]retnet.RetentionBench, error) {
	cfg.defaults()
	r, err := newBenchLayer(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Peak.FLOPS == 0 && cpu.CurrentISA() != cpu.Generic {
		if cfg.Peak, err = cpu.MeasurePeak(cpu.CurrentISA(), cpu.Threads(), 300*time.Millisecond); err != nil {
			return nil, err
		}
	}
	var out []retnet.RetentionBench
	sw := sweep.Start(len(cfg.T)*len(cfg.Forms), "bench retention")
	defer sw.Close()
	for _, T := range cfg.T {
		for _, form := range cfg.Forms {
			if err := sw.Check(); err != nil {
				return out, err
			}
			run, steps, err := benchRun(r, cfg, form, T)
			if err != nil {
				return nil, err
			}
			rec := retnet.RetentionBench{Impl: "go", Form: string(form), T: T, Batch: cfg.Batch, Dim: cfg.Dim, ValueDim: cfg.Value,
				Heads: cfg.Heads, Threads: runtime.GOMAXPROCS(0), PeakRSSBytes: PeakRSS()}
			if form == retnet.Chunkwise {
				rec.Chunk = min(cfg.Chunk, T)
			}
			times, err := sweep.Repeat(cfg.Repeats, func() error { run(); return nil }, sweep.Wall)
			if err != nil {
				return nil, err
			}
			secs := times.Best().Seconds() * float64(T) / float64(steps) // whole-sequence time
			rec.Ms = secs * 1e3
			rec.MsPerTok = rec.Ms / float64(T)
			rec.GFlop = retnet.RetentionFLOPs(form, cfg.Batch, T, cfg.Dim, cfg.Value, cfg.Heads, cfg.Chunk) / 1e9
			rec.GFlopExecuted = retnet.RetentionFLOPsExecuted(form, cfg.Batch, T, cfg.Dim, cfg.Value, cfg.Heads, cfg.Chunk) / 1e9
			rec.GFlopPerS = rec.GFlopExecuted / secs
			if cfg.Peak.FLOPS > 0 {
				rec.PeakGFlopPerS = cfg.Peak.FLOPS / 1e9
				rec.MFU = rec.GFlopPerS / rec.PeakGFlopPerS
			}
			rec.Note = fmt.Sprintf("cpu %v; GFLOP/s of the executed work", cpu.CurrentISA())
			if form == retnet.Parallel {
				rec.Note += " (the causal tiles only; the nominal gflop counts the full T x T)"
			}
			if steps < T {
				rec.Note += fmt.Sprintf("; recurrent timed over the first %d tokens, scaled to T", steps)
			} else if form == retnet.Recurrent {
				rec.Note += "; recurrent: the whole sequence decoded and timed"
			}
			out = append(out, rec)
			sw.Done(display.Metric{Name: string(form) + " T=" + fmt.Sprint(T) + " GFLOP/s", Value: rec.GFlopPerS})
		}
	}
	return out, nil
}

// newBenchLayer builds an MSR layer of cfg's shape with random weights.
func newBenchLayer(cfg RetentionConfig) (*retnet.MSR[float32], error) {
	D, DV, H := cfg.Dim, cfg.Value, cfg.Heads
	if D%H != 0 || DV%H != 0 || (D/H)%2 != 0 {
		return nil, fmt.Errorf("bench: bench dims D=%d DV=%d H=%d: heads must divide both and D/H be even", D, DV, H)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	randn := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 0.05)
		}
		return x
	}
	return &retnet.MSR[float32]{D: D, DV: DV, H: H, Wq: randn(D * D), Wk: randn(D * D), Wv: randn(DV * D), Wg: randn(DV * D),
		Wo: randn(D * DV), LogGamma: retnet.LogGammas(retnet.ScheduleTorchscale, H), Angle: retnet.Angles(D / H), GroupNormEps: 1e-6}, nil
}

// benchRun returns a function running one timed unit of form at length T
// and how many tokens it covers (the recurrent form decodes a prefix).
func benchRun(r *retnet.MSR[float32], cfg RetentionConfig, form retnet.Form, T int) (run func(), steps int, err error) {
	B, D := cfg.Batch, r.D
	rng := rand.New(rand.NewPCG(2, uint64(T)))
	x := make([]float32, B*T*D)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	y := make([]float32, B*T*D)
	acts := &retnet.MSRActs[float32]{}
	switch form {
	case retnet.Parallel, retnet.Chunkwise:
		return func() { r.Forward(y, x, B, T, form, cfg.Chunk, acts, nil) }, T, nil
	case retnet.Recurrent:
		steps = T
		if cfg.MaxRecurrentTokens > 0 {
			steps = min(T, cfg.MaxRecurrentTokens)
		}
		st := &retnet.LayerState[float32]{S: make([]float32, B*r.H*(D/r.H)*(r.DV/r.H)), Scale: make([]float32, r.H)}
		xt := make([]float32, B*D)
		return func() {
			clear(st.S)
			clear(st.Scale)
			st.Pos = 0
			for t := 0; t < steps; t++ {
				for b := 0; b < B; b++ {
					copy(xt[b*D:(b+1)*D], x[(b*T+t)*D:])
				}
				r.Forward(y[:B*D], xt, B, 1, retnet.Recurrent, 0, acts, st)
			}
		}, steps, nil
	}
	return nil, 0, fmt.Errorf("bench: unknown form %q", form)
}
