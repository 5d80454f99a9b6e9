package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/retlab/retlab/display"
	"github.com/retlab/retlab/internal/sweep"
	"github.com/retlab/retlab/retnet/backend"
)

// KernelBench is one timing of `retlab bench gpu`: a kernel on device-
// resident inputs, timed with device events (no host copies). The PyTorch
// reference (scripts/gpu/torch_reference.py) writes the same records with
// impl "pytorch", so the two compare by (op, shape).
type KernelBench struct {
	Impl      string  `json:"impl"`            // "cuda", "cuda-emu" or "pytorch"
	Op        string  `json:"op"`              // parallel | chunkwise | recurrent_step | sgemm | copy
	B         int     `json:"B,omitempty"`     // sequences
	T         int     `json:"T,omitempty"`     // tokens
	H         int     `json:"H,omitempty"`     // heads
	Dk        int     `json:"dk,omitempty"`    // key head dim
	Dv        int     `json:"dv,omitempty"`    // value head dim
	Chunk     int     `json:"chunk,omitempty"` // chunkwise chunk size
	M         int     `json:"m,omitempty"`     // sgemm dims
	N         int     `json:"n,omitempty"`     //
	K         int     `json:"k,omitempty"`     //
	Ms        float64 `json:"ms"`              // fastest of the repeats, one call (recurrent_step: one step)
	MsMedian  float64 `json:"ms_median"`       // median of the repeats
	GFlop     float64 `json:"gflop,omitempty"` // nominal work of one call, 1e9 flops
	GFlopPerS float64 `json:"gflop_per_s,omitempty"`
	GB        float64 `json:"gb,omitempty"` // bytes one call must move (memory-bound ops), 1e9
	GBPerS    float64 `json:"gb_per_s,omitempty"`
	BWFrac    float64 `json:"bw_frac,omitempty"` // GBPerS / the copy bandwidth measured in the same run
	Speedup   float64 `json:"speedup,omitempty"` // reference ms / this ms (set by the comparison)
	Device    string  `json:"device,omitempty"`
	Note      string  `json:"note,omitempty"`
}

// BenchConfig selects what Bench times. Zero fields take the defaults of
// issue 8's goals: the chunkwise form at B=1, T=8192, H=8, dk=256, dv=512
// and the batched recurrent step at H=8, dk=256, dv=512.
type BenchConfig struct {
	Chunkwise []backend.Shape // default {1, 8192, 8, 256, 512}
	Chunks    []int           // default 64, 128, 256, 512
	Parallel  []backend.Shape // default T = 2048 and 8192 of the chunkwise shape
	Decode    backend.Shape   // H, Dk, Dv of the decode step (B, T ignored); default 8, 256, 512
	Batches   []int           // decode batch sizes; default 1, 8, 64, 256
	Steps     int             // decode steps per timing; default 50
	Gemm      [][3]int        // (m, n, k); default 4096^3 and the (8192 x 2048) x 2048 projection
	CopyBytes int64           // device copy measuring the practical bandwidth; default 1 GiB
	Repeats   int             // timed calls per point; default 10
	Skip      map[string]bool // ops to leave out
}

func (c *BenchConfig) defaults() {
	goal := backend.Shape{B: 1, T: 8192, H: 8, Dk: 256, Dv: 512}
	if len(c.Chunkwise) == 0 {
		c.Chunkwise = []backend.Shape{goal}
	}
	if len(c.Chunks) == 0 {
		c.Chunks = []int{64, 128, 256, 512}
	}
	if len(c.Parallel) == 0 {
		short := goal
		short.T = 2048
		c.Parallel = []backend.Shape{short, goal}
	}
	if c.Decode.H == 0 {
		c.Decode = backend.Shape{H: 8, Dk: 256, Dv: 512}
	}
	if len(c.Batches) == 0 {
		c.Batches = []int{1, 8, 64, 256}
	}
	if c.Steps <= 0 {
		c.Steps = 50
	}
	if len(c.Gemm) == 0 {
		c.Gemm = [][3]int{{4096, 4096, 4096}, {8192, 2048, 2048}}
	}
	if c.CopyBytes <= 0 {
		c.CopyBytes = 1 << 30
	}
	if c.Repeats <= 0 {
		c.Repeats = 10
	}
}

// ChunkwiseFLOPs is the nominal work of the chunkwise core, the formula
// retnet.RetentionFLOPs and the PyTorch scripts use: per head and chunk of
// C tokens, 2C^2(dk+dv) for the intra-chunk products and 4C dk dv for the
// state update and the cross term.
func ChunkwiseFLOPs(s backend.Shape, C int) float64 {
	C = min(C, s.T)
	nc := float64(cdiv(s.T, C))
	c, dk, dv := float64(C), float64(s.Dk), float64(s.Dv)
	return float64(s.B*s.H) * nc * (2*c*c*(dk+dv) + 4*c*dk*dv)
}

// ParallelFLOPs is the nominal work of the parallel core: the full T x T
// products, 2 B H T^2 (dk+dv) (the kernels skip the upper triangle).
func ParallelFLOPs(s backend.Shape) float64 {
	t := float64(s.T)
	return 2 * float64(s.B*s.H) * t * t * float64(s.Dk+s.Dv)
}

// DecodeBytes is what one batched recurrent step must move: the state read
// and written, q, k, v read and o written.
func DecodeBytes(B, H, Dk, Dv int) float64 {
	return 4 * float64(B*H) * (2*float64(Dk*Dv) + 2*float64(Dk) + 2*float64(Dv))
}

// Bench times the kernels on device-resident random inputs: each point is
// warmed up, then timed Repeats times with device events. Its progress is
// the CPU benchmarks' (internal/sweep: a bar over the points, a notebook
// output under the kernel, a stderr line elsewhere), and the user's
// interrupt stops it between points with display.ErrInterrupted and the
// records measured so far.
func Bench(b *Backend, cfg BenchConfig) ([]KernelBench, error) {
	cfg.defaults()
	dev := b.Info().Device
	rng := rand.New(rand.NewPCG(8, 8))
	gemmModes := 1 // sgemm_tiled, and cuBLAS when it loaded
	if b.SetVendorBLAS(true) {
		gemmModes = 2
	}
	points := 0
	for op, n := range map[string]int{"copy": 1, "chunkwise": len(cfg.Chunkwise) * len(cfg.Chunks), "parallel": len(cfg.Parallel),
		"recurrent_step": len(cfg.Batches), "sgemm": len(cfg.Gemm) * gemmModes} {
		if !cfg.Skip[op] {
			points += n
		}
	}
	sw := sweep.Start(points, "bench gpu")
	defer sw.Close()
	var out []KernelBench
	// add completes and keeps one point's record, shows its headline rate
	// and reports the user's interrupt.
	add := func(r KernelBench) error {
		r.Impl, r.Device = b.Name(), dev
		m := display.Metric{Name: r.Op + " ms", Value: r.Ms}
		if r.GFlop > 0 {
			r.GFlopPerS = r.GFlop / (r.Ms / 1e3)
			m = display.Metric{Name: r.Op + " GFLOP/s", Value: r.GFlopPerS}
		}
		if r.GB > 0 {
			r.GBPerS = r.GB / (r.Ms / 1e3)
			if r.GFlop == 0 {
				m = display.Metric{Name: r.Op + " GB/s", Value: r.GBPerS}
			}
		}
		out = append(out, r)
		sw.Done(m)
		return sw.Check()
	}
	upload := func(n int, scale float64) (*Buffer, error) {
		x, err := b.Alloc(n)
		if err != nil {
			return nil, err
		}
		h := make([]float32, n)
		for i := range h {
			h[i] = float32(rng.NormFloat64() * scale)
		}
		return x, x.CopyFrom(h)
	}
	var bufs []*Buffer
	defer func() {
		for _, x := range bufs {
			_ = x.Free()
		}
	}()
	qkvo := func(s backend.Shape) (q, k, v, o *Buffer, err error) {
		if q, err = upload(s.QKLen(), 1); err != nil {
			return
		}
		bufs = append(bufs, q)
		if k, err = upload(s.QKLen(), 1/math.Sqrt(float64(s.Dk))); err != nil {
			return
		}
		bufs = append(bufs, k)
		if v, err = upload(s.VLen(), 1); err != nil {
			return
		}
		bufs = append(bufs, v)
		if o, err = b.Alloc(s.VLen()); err != nil {
			return
		}
		bufs = append(bufs, o)
		return
	}
	free := func() {
		for _, x := range bufs {
			_ = x.Free()
		}
		bufs = nil
	}
	lgFor := func(H int) []float32 {
		lg := make([]float32, H)
		for h := range lg {
			lg[h] = float32(math.Log(1 - math.Pow(2, -5-float64(h)))) // torchscale's decays
		}
		return lg
	}

	// Practical bandwidth: a device-to-device copy (read + write).
	copyGBs := 0.0
	if !cfg.Skip["copy"] {
		n := int(cfg.CopyBytes / 4)
		src, err := b.Alloc(n)
		if err != nil {
			return out, err
		}
		bufs = append(bufs, src)
		dst, err := b.Alloc(n)
		if err != nil {
			return out, err
		}
		bufs = append(bufs, dst)
		best, med, err := timeRepeats(b, cfg.Repeats, func() error {
			return b.do(func() error { return b.drv.copy(dst.p, src.p, 4*int64(n)) })
		})
		if err != nil {
			return out, err
		}
		r := KernelBench{Op: "copy", Ms: best, MsMedian: med, GB: 2 * float64(4*n) / 1e9, Note: "device-to-device copy, read + write"}
		if err := add(r); err != nil {
			return out, err
		}
		copyGBs = out[len(out)-1].GBPerS
		free()
	}

	if !cfg.Skip["chunkwise"] {
		for _, s := range cfg.Chunkwise {
			q, k, v, o, err := qkvo(s)
			if err != nil {
				return out, err
			}
			for _, C := range cfg.Chunks {
				p, err := b.NewChunkPlan(s, C, lgFor(s.H))
				if err != nil {
					return out, err
				}
				best, med, err := timeRepeats(b, cfg.Repeats, func() error { return p.Run(q, k, v, o) })
				var stages [3]float64
				for st := 0; st < 3 && err == nil; st++ {
					stages[st], _, err = timeRepeats(b, cfg.Repeats, func() error {
						return b.do(func() error { return p.stage(st, q, k, v, o) })
					})
				}
				scratch := p.ScratchBytes()
				if cerr := p.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					return out, err
				}
				err = add(KernelBench{Op: "chunkwise", B: s.B, T: s.T, H: s.H, Dk: s.Dk, Dv: s.Dv, Chunk: min(C, s.T), Ms: best, MsMedian: med,
					GFlop: ChunkwiseFLOPs(s, C) / 1e9,
					Note: fmt.Sprintf("stages: state %.3f ms, scores %.3f ms, output %.3f ms; scratch %.0f MiB",
						stages[0], stages[1], stages[2], float64(scratch)/(1<<20))})
				if err != nil {
					return out, err
				}
			}
			free()
		}
	}

	if !cfg.Skip["parallel"] {
		for _, s := range cfg.Parallel {
			q, k, v, o, err := qkvo(s)
			if err != nil {
				return out, err
			}
			lg, err := b.Alloc(s.H)
			if err != nil {
				return out, err
			}
			bufs = append(bufs, lg)
			if err := lg.CopyFrom(lgFor(s.H)); err != nil {
				return out, err
			}
			best, med, err := timeRepeats(b, cfg.Repeats, func() error { return b.ParallelDev(s, q, k, v, o, lg) })
			if err != nil {
				return out, err
			}
			err = add(KernelBench{Op: "parallel", B: s.B, T: s.T, H: s.H, Dk: s.Dk, Dv: s.Dv, Ms: best, MsMedian: med,
				GFlop: ParallelFLOPs(s) / 1e9, Note: "nominal flops count the full T x T products; the kernel skips the upper triangle"})
			if err != nil {
				return out, err
			}
			free()
		}
	}

	if !cfg.Skip["recurrent_step"] {
		ds := cfg.Decode
		for _, B := range cfg.Batches {
			d, err := b.OpenDecoder(B, ds.H, ds.Dk, ds.Dv, lgFor(ds.H))
			if err != nil {
				return out, err
			}
			s := backend.Shape{B: B, T: 1, H: ds.H, Dk: ds.Dk, Dv: ds.Dv}
			q, k, v, o, err := qkvo(s)
			if err == nil {
				for i := 0; i < 3 && err == nil; i++ {
					err = d.StepDev(q, k, v, o)
				}
			}
			var best, med float64
			if err == nil {
				best, med, err = timeRepeats(b, cfg.Repeats, func() error {
					for i := 0; i < cfg.Steps; i++ {
						if err := d.StepDev(q, k, v, o); err != nil {
							return err
						}
					}
					return nil
				})
			}
			if cerr := d.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return out, err
			}
			r := KernelBench{Op: "recurrent_step", B: B, T: 1, H: ds.H, Dk: ds.Dk, Dv: ds.Dv,
				Ms: best / float64(cfg.Steps), MsMedian: med / float64(cfg.Steps), GB: DecodeBytes(B, ds.H, ds.Dk, ds.Dv) / 1e9,
				Note: fmt.Sprintf("%d consecutive steps per timing, state %.0f MiB", cfg.Steps, float64(d.StateBytes())/(1<<20))}
			if copyGBs > 0 {
				r.BWFrac = r.GB / (r.Ms / 1e3) / copyGBs
			}
			if err := add(r); err != nil {
				return out, err
			}
			free()
		}
	}

	if !cfg.Skip["sgemm"] {
		for _, g := range cfg.Gemm {
			m, n, k := g[0], g[1], g[2]
			a, err := upload(m*k, 1)
			if err != nil {
				return out, err
			}
			bufs = append(bufs, a)
			bb, err := upload(k*n, 1)
			if err != nil {
				return out, err
			}
			bufs = append(bufs, bb)
			c, err := b.Alloc(m * n)
			if err != nil {
				return out, err
			}
			bufs = append(bufs, c)
			modes := []bool{false} // sgemm_tiled
			if b.SetVendorBLAS(true) {
				modes = []bool{true, false}
			}
			for _, vendor := range modes {
				b.SetVendorBLAS(vendor)
				best, med, err := timeRepeats(b, cfg.Repeats, func() error {
					return b.SgemmDev(false, false, m, n, k, 1, a, k, bb, n, 0, c, n)
				})
				if err != nil {
					b.SetVendorBLAS(true)
					return out, err
				}
				note := "sgemm_tiled kernel, full float32"
				if vendor {
					note = "cuBLAS, default math (full float32, no TF32)"
				}
				if err := add(KernelBench{Op: "sgemm", M: m, N: n, K: k, Ms: best, MsMedian: med, GFlop: 2 * float64(m) * float64(n) * float64(k) / 1e9, Note: note}); err != nil {
					b.SetVendorBLAS(true)
					return out, err
				}
			}
			b.SetVendorBLAS(true)
			free()
		}
	}
	for i := range out {
		if out[i].Op != "copy" && out[i].GB > 0 && copyGBs > 0 && out[i].BWFrac == 0 {
			out[i].BWFrac = out[i].GBPerS / copyGBs
		}
	}
	return out, nil
}

// timeRepeats times fn by the benchmarks' one policy (sweep.Repeat: one
// warm-up, then n runs) with device events, and returns the fastest and
// the median milliseconds.
func timeRepeats(b *Backend, n int, fn func() error) (best, median float64, err error) {
	events := func(run func() error) (time.Duration, error) {
		ms, err := b.Time(run)
		return time.Duration(ms * float64(time.Millisecond)), err
	}
	s, err := sweep.Repeat(n, fn, events)
	if err != nil {
		return 0, 0, err
	}
	toMs := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return toMs(s.Best()), toMs(s.Median()), nil
}
