package retnet

// Result records: plain structs with JSON tags. They are the seam between
// computing and drawing: `retlab bench ... --json`, training logs and the
// notebooks write them; `viz` and `retlab figures --from` read them.
// Fields are only ever added, never renamed.

// RetentionBench is one timing of a retention form (`retlab bench retention`).
type RetentionBench struct {
	Impl      string  `json:"impl"`              // "go" or "pytorch" (or a backend name)
	Form      string  `json:"form"`              // parallel | chunkwise | recurrent
	T         int     `json:"T"`                 // sequence length
	Batch     int     `json:"batch"`             // B
	Dim       int     `json:"D"`                 // model dim
	ValueDim  int     `json:"DV"`                // value dim
	Heads     int     `json:"H"`                 // heads
	Chunk     int     `json:"chunk,omitempty"`   // chunk size (chunkwise)
	Ms        float64 `json:"ms"`                // wall time of one call (recurrent: whole sequence)
	MsPerTok  float64 `json:"ms_per_token"`      // Ms / T
	GFlop     float64 `json:"gflop"`             // floating-point work of the call, 1e9
	GFlopPerS float64 `json:"gflop_per_s"`       // GFlop / seconds
	Threads   int     `json:"threads,omitempty"` // worker threads used
	Note      string  `json:"note,omitempty"`    // e.g. which BLAS the reference used
	Ratio     float64 `json:"speedup,omitempty"` // reference ms / our ms, same run
	// GFlopExecuted is the work this implementation executed (the Go
	// parallel form skips the masked upper triangle; PyTorch computes it);
	// GFlopPerS and MFU are computed from it. 0 in old records: = GFlop.
	GFlopExecuted float64 `json:"gflop_executed,omitempty"`
	// MFU is GFlopPerS over the machine's measured float32 peak (FMA-chain
	// probe, same threads; PeakGFlopPerS), when known.
	MFU           float64 `json:"mfu,omitempty"`
	PeakGFlopPerS float64 `json:"peak_gflop_per_s,omitempty"`
	PeakRSSBytes  int64   `json:"peak_rss_bytes,omitempty"` // whole process, fresh per point when measured so
}

// InferenceBench is one point of `retlab bench inference`: decoding one token
// after `Context` tokens, for `Batch` sequences at once.
type InferenceBench struct {
	Model        string  `json:"model"` // "retnet" or "transformer"
	Size         string  `json:"size,omitempty"`
	Context      int     `json:"context"` // tokens already in the state / KV cache
	Batch        int     `json:"batch"`
	LatencyMs    float64 `json:"latency_ms"`   // per decode step (all Batch sequences)
	TokensPerS   float64 `json:"tokens_per_s"` // Batch / latency
	StateBytes   int64   `json:"state_bytes"`  // recurrent state or KV cache
	PeakRSSBytes int64   `json:"peak_rss_bytes"`
}

// TrainBench is one point of `retlab bench train`.
type TrainBench struct {
	Impl         string  `json:"impl,omitempty"` // "go" or "pytorch"
	Model        string  `json:"model"`
	Size         string  `json:"size,omitempty"`
	SeqLen       int     `json:"seq_len"`
	Batch        int     `json:"batch"`
	StepMs       float64 `json:"step_ms"`
	TokensPerS   float64 `json:"tokens_per_s"`
	PeakRSSBytes int64   `json:"peak_rss_bytes"`
	ActBytes     int64   `json:"activation_bytes,omitempty"`
	Speedup      float64 `json:"speedup,omitempty"` // Go tokens/s over the same-run reference's, same config and T
	Note         string  `json:"note,omitempty"`
}

// LogEntry is one line of a training log (DIR/log.jsonl), and what the
// trainer reports to its progress sink after the same step.
type LogEntry struct {
	Step       int      `json:"step"`
	Tokens     int64    `json:"tokens"`       // tokens trained on so far
	Loss       float64  `json:"loss"`         // mean next-token NLL of this step (nats)
	TokensPerS float64  `json:"tokens_per_s"` // this step's tokens / this step's time
	LR         float64  `json:"lr,omitempty"`
	GradNorm   float64  `json:"grad_norm,omitempty"`
	ValLoss    *float64 `json:"val_loss,omitempty"`    // set when validation ran after this step
	ElapsedS   float64  `json:"elapsed_s,omitempty"`   // training time so far (steps only: no validation or checkpoints)
	TotalSteps int      `json:"total_steps,omitempty"` // the run's planned steps
	StepMs     float64  `json:"step_ms,omitempty"`     // this step's time
	GFlopPerS  float64  `json:"gflop_per_s,omitempty"` // this step's 6N-estimate work rate (TrainStepFLOPs)
	// PeakGFlopPerS is the CPU's measured float32 peak (FMA-chain probe of
	// the kernels' ISA, same threads) that MFU = GFlopPerS / PeakGFlopPerS
	// is reported against; 0 when unknown (another backend, pure Go).
	PeakGFlopPerS float64 `json:"peak_gflop_per_s,omitempty"`
}

// SizeInfo describes one rung of the model-size ladder (`retlab sizes --json`).
type SizeInfo struct {
	Model              string `json:"model"` // "retnet" or "transformer"
	Size               string `json:"size"`
	Params             int64  `json:"params"`
	NonEmbeddingParams int64  `json:"non_embedding_params"`
	Dim                int    `json:"dim"`
	Layers             int    `json:"layers"`
	Heads              int    `json:"heads"`
	FFNDim             int    `json:"ffn_dim"`
	ValueDim           int    `json:"value_dim,omitempty"`
}

// PerplexityResult is the score of a model on a token stream (Perplexity).
type PerplexityResult struct {
	Loss         float64 `json:"loss"`       // mean next-token NLL, nats
	Perplexity   float64 `json:"perplexity"` // exp(Loss)
	Tokens       int64   `json:"tokens"`     // predicted tokens
	SeqLen       int     `json:"seq_len"`    // tokens per window
	Seconds      float64 `json:"seconds"`
	TokensPerSec float64 `json:"tokens_per_s"`
}

// PerplexityPoint is one trained model's validation result, the unit of the
// perplexity-against-size figure.
type PerplexityPoint struct {
	Model              string  `json:"model"`
	Size               string  `json:"size"`
	NonEmbeddingParams int64   `json:"non_embedding_params"`
	ValLoss            float64 `json:"val_loss"`
	Perplexity         float64 `json:"ppl"`
	TokensTrained      int64   `json:"tokens_trained,omitempty"`
	Source             string  `json:"source,omitempty"` // "measured" or "paper"
}

// RetentionScores is the (T,T) parallel-form score matrix of one layer and
// head on one input: S[n][m] after the decay mask and row normalisation.
type RetentionScores struct {
	Layer  int         `json:"layer"`
	Head   int         `json:"head"`
	Gamma  float64     `json:"gamma"`
	Tokens []string    `json:"tokens,omitempty"` // display form of each position
	Scores [][]float32 `json:"scores"`           // [T][T]
}

// FormAgreement is the largest absolute difference between retention forms
// on one layer's output, for one input.
type FormAgreement struct {
	Layer                int     `json:"layer"`
	ParallelVsRecurrent  float64 `json:"parallel_vs_recurrent"`
	ParallelVsChunkwise  float64 `json:"parallel_vs_chunkwise"`
	RecurrentVsChunkwise float64 `json:"recurrent_vs_chunkwise"`
	GroupNormEps         float64 `json:"group_norm_eps"`
}
