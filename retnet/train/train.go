package train

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/retlab/retlab/display"
	"github.com/retlab/retlab/internal/atomicfile"
	"github.com/retlab/retlab/internal/runlock"
	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/retnet/backend"
	"github.com/retlab/retlab/retnet/backend/cpu"
)

// Config describes a training run. Zero fields take the defaults of
// WithDefaults.
type Config struct {
	Model  string `json:"model"`          // "retnet" or "transformer" (informational; the model decides)
	Size   string `json:"size,omitempty"` // ladder rung, for logs and eval records
	Steps  int    `json:"steps"`          // optimizer updates in all
	Batch  int    `json:"batch"`          // B sequences per step
	SeqLen int    `json:"seq_len"`        // T tokens per sequence
	Seed   uint64 `json:"seed"`           // batches are drawn from (Seed, step)
	// RetNetForm is the retention form a RetNet trains in: "parallel"
	// (default) or "chunkwise" (chunks of DefaultChunk); ignored for the
	// Transformer.
	RetNetForm string `json:"retnet_form,omitempty"`

	LR       float64     `json:"lr"`           // peak learning rate
	MinLR    float64     `json:"min_lr"`       // end of the cosine (default LR/10)
	Warmup   int         `json:"warmup_steps"` // linear warm-up steps (default min(100, Steps/10))
	AdamW    AdamWConfig `json:"adamw"`
	GradClip float64     `json:"grad_clip"` // max gradient L2 norm (default 1; < 0: off)

	EvalEvery       int   `json:"eval_every"`       // validate every N steps and at the end (default Steps/10; < 0: only at the end)
	EvalTokens      int64 `json:"eval_tokens"`      // validation tokens per evaluation (default 32768)
	CheckpointEvery int   `json:"checkpoint_every"` // checkpoint every N steps and at the end (default Steps/5)
}

// WithDefaults fills unset fields.
func (c Config) WithDefaults() Config {
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	def(&c.Batch, 8)
	def(&c.SeqLen, 256)
	def(&c.Warmup, min(100, max(1, c.Steps/10)))
	def(&c.EvalEvery, max(1, c.Steps/10))
	def(&c.CheckpointEvery, max(1, c.Steps/5))
	if c.LR == 0 {
		c.LR = 2e-3
	}
	if c.MinLR == 0 {
		c.MinLR = c.LR / 10
	}
	if c.AdamW == (AdamWConfig{}) {
		c.AdamW = DefaultAdamW
	}
	if c.GradClip == 0 {
		c.GradClip = 1
	}
	if c.EvalTokens == 0 {
		c.EvalTokens = 32768
	}
	return c
}

// Validate reports the first unusable field.
func (c Config) Validate() error {
	switch {
	case c.Steps < 1:
		return fmt.Errorf("train: train steps = %d, want >= 1", c.Steps)
	case c.Batch < 1 || c.SeqLen < 1:
		return fmt.Errorf("train: train batch %d and seq_len %d must be >= 1", c.Batch, c.SeqLen)
	case int64(c.Batch)*int64(c.SeqLen) > 1<<30:
		return fmt.Errorf("train: train batch %d x seq_len %d is too many tokens per step", c.Batch, c.SeqLen)
	case !finite(c.LR, c.MinLR, c.GradClip, c.AdamW.Beta1, c.AdamW.Beta2, c.AdamW.Eps, c.AdamW.WeightDecay):
		return fmt.Errorf("train: a setting is not finite: lr %g, min_lr %g, grad_clip %g, adamw %+v", c.LR, c.MinLR, c.GradClip, c.AdamW)
	case c.LR <= 0 || c.MinLR < 0:
		return fmt.Errorf("train: learning rate %g (min %g) must be > 0", c.LR, c.MinLR)
	case c.AdamW.Beta1 < 0 || c.AdamW.Beta1 >= 1 || c.AdamW.Beta2 < 0 || c.AdamW.Beta2 >= 1 || c.AdamW.Eps <= 0 || c.AdamW.WeightDecay < 0:
		return fmt.Errorf("train: AdamW %+v: want betas in [0,1), eps > 0, weight_decay >= 0", c.AdamW)
	case c.RetNetForm != "" && c.RetNetForm != "parallel" && c.RetNetForm != "chunkwise":
		return fmt.Errorf("train: train retnet_form %q, want parallel or chunkwise", c.RetNetForm)
	}
	return nil
}

// finite reports whether every value is neither NaN nor infinite.
func finite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// FromRecipe is the Config of a model-size ladder rung's recipe
// (retnet.LadderModel); fields the recipe leaves zero take the defaults.
func FromRecipe(r retnet.Recipe) Config {
	return Config{Model: r.Model, Size: r.Size, Steps: r.Steps, Batch: r.Batch, SeqLen: r.SeqLen, Seed: r.Seed, LR: r.LR,
		Warmup: r.Warmup, EvalEvery: r.EvalEvery, EvalTokens: r.EvalTokens, CheckpointEvery: r.CheckpointEvery}
}

// SetForm makes a RetNet model train (and evaluate) in the named
// retention form ("parallel", "chunkwise"; "" leaves it); other models are
// left alone.
func SetForm(model retnet.LanguageModel, form string) {
	if m, ok := model.(*retnet.Model); ok && form != "" {
		m.TrainForm = retnet.Parallel
		if form == "chunkwise" {
			m.TrainForm = retnet.Chunkwise
		}
	}
}

// Schedule is the learning-rate schedule of c.
func (c Config) Schedule() Schedule {
	return Schedule{Peak: c.LR, Min: c.MinLR, Warmup: c.Warmup, Total: c.Steps}
}

// State is the training progress stored in a checkpoint's
// __metadata__ under MetaKey, everything besides weights and moments
// that a resumed run needs to continue bit-exactly.
type State struct {
	Config      Config   `json:"config"`
	Step        int      `json:"step"`   // updates completed
	Tokens      int64    `json:"tokens"` // tokens trained on
	ElapsedS    float64  `json:"elapsed_s"`
	Data        string   `json:"data"`             // Dataset.Source
	DataPath    string   `json:"data_path"`        // Dataset.Path ("" = Go standard library)
	DataHash    string   `json:"data_fingerprint"` // Dataset.Fingerprint
	LastValLoss *float64 `json:"val_loss,omitempty"`
}

// MetaKey is the __metadata__ key of a checkpoint's State.
const MetaKey = "retlab_train"

// StateOf returns the training state a checkpoint holds, nil if it
// holds none (a checkpoint not written by the trainer).
func StateOf(f *retnet.TensorFile) (*State, error) {
	js, ok := f.Metadata[MetaKey]
	if !ok {
		return nil, nil
	}
	var st State
	if err := json.Unmarshal([]byte(js), &st); err != nil {
		return nil, fmt.Errorf("train: %s: __metadata__ %s is not valid: %w", f.Path, MetaKey, err)
	}
	return &st, nil
}

// cpuPeak is the float32 FLOP/s MFU is reported against: the FMA-chain
// probe of the CPU backend's current ISA on its threads (about 0.1 s, once
// per process and setting), or 0 when the products run elsewhere (another
// backend) or on the pure-Go path, which has no probe.
func cpuPeak() float64 {
	if backend.Current().Name() != "cpu" {
		return 0
	}
	key := [2]int{int(cpu.CurrentISA()), cpu.Threads()}
	peaks.Lock()
	defer peaks.Unlock()
	if f, ok := peaks.m[key]; ok {
		return f
	}
	p, err := cpu.MeasurePeak(cpu.CurrentISA(), cpu.Threads(), 100*time.Millisecond)
	if err != nil {
		p.FLOPS = 0
	}
	if peaks.m == nil {
		peaks.m = map[[2]int]float64{}
	}
	peaks.m[key] = p.FLOPS
	return p.FLOPS
}

// peaks caches cpuPeak per (ISA, threads).
var peaks struct {
	sync.Mutex
	m map[[2]int]float64
}

// Files a training run writes into its output directory.
const (
	CheckpointFile = "checkpoint.safetensors"
	LogFile        = "log.jsonl"
)

// Trainer trains a LanguageModel on a Dataset with AdamW. Everything it
// does is a function of the config, the seed, the initial weights and the
// data, so a run resumed from a checkpoint reproduces the losses of an
// uninterrupted one exactly.
type Trainer struct {
	Config   Config
	Model    retnet.LanguageModel
	Opt      *AdamW
	Data     *Dataset
	OutDir   string // checkpoint and log directory ("" = write nothing)
	Progress Sink   // nil: a DisplayProgress (NoProgress is silent); gets every LogEntry

	Step        int   // updates completed
	Tokens      int64 // tokens trained on
	elapsed     time.Duration
	lastValLoss *float64
	savedStep   int // step of the last checkpoint on disk (0: none)
}

// New prepares a fresh run of model on data. It returns an error if
// the config is unusable or the data too short for one sequence.
func New(model retnet.LanguageModel, data *Dataset, cfg Config, outDir string) (*Trainer, error) {
	cfg = cfg.WithDefaults()
	if cfg.Model == "" {
		cfg.Model = model.Kind()
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkDataFits(data, cfg.SeqLen); err != nil {
		return nil, err
	}
	SetForm(model, cfg.RetNetForm)
	return &Trainer{Config: cfg, Model: model, Opt: NewAdamW(len(model.Weights()), cfg.AdamW), Data: data, OutDir: outDir}, nil
}

func checkDataFits(d *Dataset, T int) error {
	if len(d.Train) < T+1 {
		return fmt.Errorf("train: training split of %s has %d bytes, need at least seq_len+1 = %d", d.Source, len(d.Train), T+1)
	}
	if len(d.Val) < T+1 {
		return fmt.Errorf("train: validation split of %s has %d bytes, need at least seq_len+1 = %d (use more data or a shorter --seq-len)", d.Source, len(d.Val), T+1)
	}
	return nil
}

// Resume continues the run whose checkpoint is at path: model,
// optimizer moments, step and config are restored; steps > 0 extends the
// total (the schedule then follows the new total). A different dataset
// than the checkpoint's is an error, as it would break reproducibility.
func Resume(path string, data *Dataset, outDir string, steps int) (*Trainer, error) {
	model, f, err := retnet.LoadLanguageModel(path)
	if err != nil {
		return nil, err
	}
	st, err := StateOf(f)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return nil, fmt.Errorf("train: %s has no training state (__metadata__ %s): not written by the trainer", path, MetaKey)
	}
	if st.DataHash != data.Fingerprint {
		return nil, fmt.Errorf("train: %s was trained on %s (fingerprint %s), the data now is %s (fingerprint %s): resuming on other data would not reproduce the run", path, st.Data, st.DataHash, data.Source, data.Fingerprint)
	}
	n := len(model.Weights())
	opt := NewAdamW(n, st.Config.AdamW)
	opt.Step = st.Step
	for _, mv := range []struct {
		name string
		dst  []float32
	}{{retnet.OptimPrefix + "m", opt.M}, {retnet.OptimPrefix + "v", opt.V}} {
		data, shape, err := f.Float32(mv.name)
		if err != nil {
			return nil, fmt.Errorf("train: %s has no optimizer state: %w", path, err)
		}
		if len(shape) != 1 || shape[0] != n {
			return nil, fmt.Errorf("train: %s: optimizer tensor %q has shape %v, want [%d]", path, mv.name, shape, n)
		}
		copy(mv.dst, data)
	}
	cfg := st.Config
	if steps > 0 {
		cfg.Steps = steps
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkDataFits(data, cfg.SeqLen); err != nil {
		return nil, err
	}
	SetForm(model, cfg.RetNetForm)
	return &Trainer{Config: cfg, Model: model, Opt: opt, Data: data, OutDir: outDir, Step: st.Step, Tokens: st.Tokens,
		elapsed: time.Duration(st.ElapsedS * float64(time.Second)), lastValLoss: st.LastValLoss, savedStep: st.Step}, nil
}

// Result summarises a finished (or interrupted) run.
type Result struct {
	Steps      int     `json:"steps"`
	Tokens     int64   `json:"tokens"`
	Loss       float64 `json:"loss"` // last step's training loss
	ValLoss    float64 `json:"val_loss"`
	ElapsedS   float64 `json:"elapsed_s"`
	TokensPerS float64 `json:"tokens_per_s"` // this session's mean
	Checkpoint string  `json:"checkpoint,omitempty"`
}

// Run trains until Config.Steps updates are done or ctx is cancelled. It
// validates every EvalEvery steps and at the end, appends one LogEntry per
// step to OutDir/log.jsonl, and writes OutDir/checkpoint.safetensors
// (atomically) every CheckpointEvery steps, at the end, and on
// cancellation (ctx or display.Interrupted), after which it returns an error
// wrapping display.ErrInterrupted.
func (t *Trainer) Run(ctx context.Context) (*Result, error) {
	c := t.Config
	B, nT := c.Batch, c.SeqLen
	inputs, targets := make([]int32, B*nT), make([]int32, B*nT)
	sched := c.Schedule()
	var log *os.File
	if t.OutDir != "" {
		if err := os.MkdirAll(t.OutDir, 0o755); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		lock, err := runlock.Acquire(t.OutDir)
		if err != nil {
			return nil, fmt.Errorf("train: %w: another training run writes there; wait for it or choose another output directory", err)
		}
		defer lock.Unlock()
		for _, f := range []string{CheckpointFile, LogFile} {
			removed, err := atomicfile.RemoveOrphans(filepath.Join(t.OutDir, f))
			if err != nil {
				return nil, fmt.Errorf("train: removing temporary files of a killed run: %w", err)
			}
			for _, r := range removed {
				t.message("removed " + r + ", left by a killed run")
			}
		}
		if log, err = t.openLog(); err != nil {
			return nil, err
		}
		defer log.Close()
	}
	res := &Result{}
	if t.OutDir != "" {
		res.Checkpoint = filepath.Join(t.OutDir, CheckpointFile)
	}
	sessionStart, sessionSteps := time.Now(), 0
	flopsPerToken := retnet.TrainStepFLOPs(t.Model.Counts().Total, 1, 1)
	peak := cpuPeak() / 1e9
	var lastLoss float64
	if t.Progress == nil {
		t.Progress = NewDisplayProgress("train")
	}
	for t.Step < c.Steps {
		if ctx.Err() != nil || display.Interrupted() {
			if err := t.checkpoint(); err != nil {
				return nil, err
			}
			t.message(fmt.Sprintf("interrupted after step %d; checkpoint saved to %s (continue with --resume)", t.Step, res.Checkpoint))
			t.fill(res, lastLoss, sessionStart, sessionSteps)
			return res, fmt.Errorf("training interrupted; checkpoint saved: %w", display.ErrInterrupted)
		}
		stepStart := time.Now()
		if err := t.Data.TrainBatch(c.Seed, t.Step, B, nT, inputs, targets); err != nil {
			return nil, err
		}
		lr := sched.LR(t.Step)
		t.Model.ZeroGrad()
		loss := t.Model.ForwardBackward(inputs, targets, B, nT)
		if !finite(loss) {
			return nil, t.diverged(fmt.Sprintf("training loss is %g", loss), lr)
		}
		g := t.Model.Gradients()
		norm := ClipGradNorm(g, c.GradClip)
		if !finite(norm) {
			return nil, t.diverged(fmt.Sprintf("gradient norm is %g (loss %g)", norm, loss), lr)
		}
		t.Opt.Update(t.Model.Weights(), g, lr)
		t.Step++
		t.Tokens += int64(B * nT)
		dt := time.Since(stepStart)
		t.elapsed += dt
		sessionSteps++
		lastLoss = loss
		tokS := float64(B*nT) / dt.Seconds()
		entry := retnet.LogEntry{Step: t.Step, Tokens: t.Tokens, Loss: loss, TokensPerS: tokS,
			LR: lr, GradNorm: norm, ElapsedS: t.elapsed.Seconds(), TotalSteps: c.Steps,
			StepMs: float64(dt.Microseconds()) / 1e3, GFlopPerS: flopsPerToken * tokS / 1e9, PeakGFlopPerS: peak}
		if (c.EvalEvery > 0 && t.Step%c.EvalEvery == 0) || t.Step == c.Steps {
			ev, err := Evaluate(t.Model, t.Data, B, nT, c.EvalTokens)
			if err != nil {
				return nil, err
			}
			v := ev.Loss
			entry.ValLoss, t.lastValLoss = &v, &v
			t.message(fmt.Sprintf("step %d: validation loss %.4f (ppl %.3f, %d tokens)", t.Step, v, ev.Perplexity, ev.Tokens))
		}
		if log != nil {
			b, err := json.Marshal(entry)
			if err != nil {
				return nil, fmt.Errorf("train: step %d: log entry: %w", t.Step, err)
			}
			if _, err := log.Write(append(b, '\n')); err != nil {
				return nil, fmt.Errorf("train: writing the training log: %w", err)
			}
		}
		t.Progress.Update(entry) // the record just logged
		if t.Step%c.CheckpointEvery == 0 || t.Step == c.Steps {
			if err := t.checkpoint(); err != nil {
				return nil, err
			}
		}
	}
	t.fill(res, lastLoss, sessionStart, sessionSteps)
	if t.OutDir != "" {
		t.message(fmt.Sprintf("done: %d steps, %d tokens, validation loss %.4f; checkpoint %s", t.Step, t.Tokens, res.ValLoss, res.Checkpoint))
	}
	return res, nil
}

// diverged is the error of a step whose loss or gradient is not finite:
// training stops before the update, and the last checkpoint written (of a
// step whose values were all finite) is kept as it is.
func (t *Trainer) diverged(what string, lr float64) error {
	kept := "no checkpoint was written yet"
	if t.OutDir != "" && t.savedStep > 0 {
		kept = fmt.Sprintf("the last good checkpoint, of step %d, is kept in %s", t.savedStep, filepath.Join(t.OutDir, CheckpointFile))
	}
	return fmt.Errorf("train: %s at step %d (lr %g): training diverged and stopped; %s", what, t.Step+1, lr, kept)
}

func (t *Trainer) fill(res *Result, loss float64, start time.Time, steps int) {
	res.Steps, res.Tokens, res.Loss, res.ElapsedS = t.Step, t.Tokens, loss, t.elapsed.Seconds()
	if t.lastValLoss != nil {
		res.ValLoss = *t.lastValLoss
	}
	if s := time.Since(start).Seconds(); steps > 0 && s > 0 {
		res.TokensPerS = float64(steps*t.Config.Batch*t.Config.SeqLen) / s
	}
}

func (t *Trainer) message(s string) {
	if t.Progress != nil {
		t.Progress.Message(s)
	}
}

// checkpoint writes model, optimizer state and State atomically.
func (t *Trainer) checkpoint() error {
	if t.OutDir == "" {
		return nil
	}
	st := State{Config: t.Config, Step: t.Step, Tokens: t.Tokens, ElapsedS: t.elapsed.Seconds(),
		Data: t.Data.Source, DataPath: t.Data.Path, DataHash: t.Data.Fingerprint, LastValLoss: t.lastValLoss}
	js, _ := json.Marshal(st)
	md := t.Model.CheckpointMetadata()
	md[MetaKey] = string(js)
	n := len(t.Opt.M)
	tensors := append(t.Model.CheckpointTensors(),
		retnet.Tensor{Name: retnet.OptimPrefix + "m", Shape: []int{n}, Data: t.Opt.M},
		retnet.Tensor{Name: retnet.OptimPrefix + "v", Shape: []int{n}, Data: t.Opt.V})
	if err := retnet.WriteSafetensors(filepath.Join(t.OutDir, CheckpointFile), tensors, md); err != nil {
		return err
	}
	t.savedStep = t.Step
	return nil
}

// openLog opens OutDir/log.jsonl for appending, first dropping entries past
// t.Step (written after the checkpoint being resumed from), so the log of a
// resumed run reads like that of an uninterrupted one.
func (t *Trainer) openLog() (*os.File, error) {
	path := filepath.Join(t.OutDir, LogFile)
	if old, err := os.ReadFile(path); err == nil {
		var keep bytes.Buffer
		sc := bufio.NewScanner(bytes.NewReader(old))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var e retnet.LogEntry
			if json.Unmarshal(sc.Bytes(), &e) == nil && e.Step <= t.Step {
				keep.Write(sc.Bytes())
				keep.WriteByte('\n')
			}
		}
		if err := atomicfile.Write(path, func(f *os.File) error { _, err := f.Write(keep.Bytes()); return err }); err != nil {
			return nil, err
		}
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	return f, nil
}

// ReadLog reads a training log (log.jsonl), one LogEntry per line.
func ReadLog(path string) ([]retnet.LogEntry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	var out []retnet.LogEntry
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var e retnet.LogEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("train: %s line %d: %w", path, line, err)
		}
		out = append(out, e)
	}
	return out, nil
}
