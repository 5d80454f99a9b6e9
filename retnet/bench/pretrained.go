package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/retnet/backend/cpu"
	"github.com/retlab/retlab/retnet/hf"
)

// PretrainedBench is the cost of one Hugging Face model on this machine:
// opening it, its memory against its file size, scoring text (perplexity
// throughput, RetNet chunkwise) and decoding one token at a time.
type PretrainedBench struct {
	Model     string `json:"model"`      // directory or hub name
	ModelType string `json:"model_type"` // retnet, transformer, llama
	DType     string `json:"dtype"`
	Params    int64  `json:"params"`
	FileBytes int64  `json:"file_bytes"` // safetensors files

	LoadSeconds         float64 `json:"load_s"`          // Open + build: maps the files, reads config, header, norms
	FirstForwardSeconds float64 `json:"first_forward_s"` // the first pass over all weights (pages come in)

	RSSBytes     int64   `json:"rss_bytes"`      // VmRSS after the perplexity and decoding runs
	RSSFileBytes int64   `json:"rss_file_bytes"` // of which mapped file pages (the weights)
	RSSAnonBytes int64   `json:"rss_anon_bytes"` // of which heap: activations, logits, scratch
	PeakRSSBytes int64   `json:"peak_rss_bytes"` // VmHWM
	WeightsRatio float64 `json:"weights_rss_per_file_byte"`
	RSSRatio     float64 `json:"rss_per_file_byte"`

	SeqLen       int     `json:"seq_len"`
	PPLTokens    int64   `json:"ppl_tokens"`
	TokensPerSec float64 `json:"ppl_tokens_per_s"` // perplexity throughput (batch 1)

	Context       int     `json:"decode_context"` // prompt prefilled before the steps
	Steps         int     `json:"decode_steps"`
	PrefillSecond float64 `json:"prefill_s"`
	DecodeMs      float64 `json:"decode_ms_per_token"` // median step latency
	StateBytes    int64   `json:"decode_state_bytes"`  // RetNet state or KV cache after the steps

	LoadAvg   [2]float64 `json:"load_avg_1m"`     // /proc/loadavg's 1-minute load at start and end: how shared the machine was
	BF16Dot   bool       `json:"avx512_bf16_dot"` // cpu.HasBF16Dot: BF16 products ran as VDPBF16PS
	Threads   int        `json:"threads"`
	Machine   string     `json:"machine"`
	GoVersion string     `json:"go_version"`
	Date      string     `json:"date"`
	Note      string     `json:"note"`

	// Torch is PyTorch's run of the same directory in the same benchmark
	// (LLaMA models only: scripts/bench_pretrained_torch.py), nil otherwise.
	Torch *TorchReference `json:"torch,omitempty"`
}

// TorchReference is scripts/bench_pretrained_torch.py's record.
type TorchReference struct {
	LoadSeconds   float64 `json:"load_s"`
	TokensPerSec  float64 `json:"ppl_tokens_per_s"`
	PrefillSecond float64 `json:"prefill_s"`
	DecodeMs      float64 `json:"decode_ms_per_token"`
	RSSBytes      int64   `json:"rss_bytes"`
	PeakRSSBytes  int64   `json:"peak_rss_bytes"`
	Threads       int     `json:"threads"`
	Torch         string  `json:"torch"`
	Transformers  string  `json:"transformers"`
	CPUCapability string  `json:"cpu_capability"`
}

// PretrainedConfig says what to measure.
type PretrainedConfig struct {
	Model   string // directory or hub name
	SeqLen  int    // perplexity window (tokens)
	Windows int    // windows scored (random tokens)
	Context int    // decode prompt length
	Steps   int    // decode steps timed
	Seed    uint64
	Note    string
	Log     func(format string, args ...any) // progress lines (may be nil)
}

// Pretrained measures one model.
func Pretrained(ctx context.Context, cfg PretrainedConfig) (PretrainedBench, error) {
	logf := cfg.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	ResetPeakRSS()
	load0 := loadAvg()
	t0 := time.Now()
	m, err := hf.Load(cfg.Model)
	if err != nil {
		return PretrainedBench{}, err
	}
	defer m.Close()
	r := PretrainedBench{Model: cfg.Model, ModelType: m.Config.ModelType, DType: m.DType(), Params: m.Config.Params(),
		LoadSeconds: time.Since(t0).Seconds(), SeqLen: cfg.SeqLen, Context: cfg.Context, Steps: cfg.Steps,
		BF16Dot: cpu.HasBF16Dot(), Threads: cpu.Threads(), Machine: Machine(), GoVersion: runtime.Version(),
		Date: time.Now().UTC().Format(time.RFC3339), Note: cfg.Note}
	for _, f := range m.Files() {
		if st, err := os.Stat(f); err == nil {
			r.FileBytes += st.Size()
		}
	}
	logf("%s: opened in %.3f s (%.2f GB)", cfg.Model, r.LoadSeconds, float64(r.FileBytes)/1e9)
	rng := rand.New(rand.NewPCG(cfg.Seed, 7))
	V := m.Config.Vocab
	tok := func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = 3 + rng.IntN(V-3)
		}
		return out
	}
	t1 := time.Now()
	if _, err := m.Forward([]int32{1}, 1, 1, retnet.Chunkwise, 0, nil); err != nil {
		return r, err
	}
	r.FirstForwardSeconds = time.Since(t1).Seconds()
	logf("first forward (all weights paged in) %.2f s", r.FirstForwardSeconds)

	text := tok(cfg.SeqLen*cfg.Windows + 1)
	res, err := m.Perplexity(ctx, text, cfg.SeqLen, 1, func(done, total int64) { logf("perplexity: %d/%d tokens", done, total) })
	if err != nil {
		return r, err
	}
	r.PPLTokens, r.TokensPerSec = res.Tokens, res.TokensPerSec
	logf("perplexity throughput %.1f tokens/s (T=%d)", r.TokensPerSec, cfg.SeqLen)

	dec := m.NewDecoder(1)
	t2 := time.Now()
	logits, err := dec.Prefill([][]int{tok(cfg.Context)})
	if err != nil {
		return r, err
	}
	r.PrefillSecond = time.Since(t2).Seconds()
	lat := make([]float64, 0, cfg.Steps)
	for i := 0; i < cfg.Steps; i++ {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		next := retnet.Argmax(logits)
		ts := time.Now()
		if logits, err = dec.Step([]int{next}); err != nil {
			return r, err
		}
		lat = append(lat, time.Since(ts).Seconds()*1e3)
	}
	sort.Float64s(lat)
	r.DecodeMs = lat[len(lat)/2]
	r.StateBytes = dec.StateBytes()
	logf("decode %.1f ms/token (median of %d, context %d)", r.DecodeMs, cfg.Steps, cfg.Context)

	rss := ProcStatus()
	r.RSSBytes, r.RSSFileBytes, r.RSSAnonBytes = rss["VmRSS"], rss["RssFile"], rss["RssAnon"]
	r.PeakRSSBytes = PeakRSS()
	r.LoadAvg = [2]float64{load0, loadAvg()}
	if r.FileBytes > 0 {
		r.WeightsRatio = float64(r.RSSFileBytes) / float64(r.FileBytes)
		r.RSSRatio = float64(r.RSSBytes) / float64(r.FileBytes)
	}
	return r, nil
}

// ProcStatus reads the byte counts of /proc/self/status (VmRSS, RssAnon,
// RssFile, VmHWM, ...); empty where there is no /proc.
func ProcStatus() map[string]int64 {
	out := map[string]int64{}
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return out
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		f := strings.Fields(v)
		if !ok || len(f) != 2 || f[1] != "kB" {
			continue
		}
		if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
			out[k] = n * 1024
		}
	}
	return out
}

// Machine describes the host: OS/arch, CPUs, CPU model, the CPU backend's ISA.
func Machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s/%s, %d CPUs, %s, ISA %v", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), model, cpu.CurrentISA())
}

// loadAvg is the 1-minute load average (0 where unknown).
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
