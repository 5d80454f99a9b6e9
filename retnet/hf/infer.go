package hf

import (
	"context"
	"fmt"
	"math"

	"github.com/retlab/retlab/retnet"
)

// Inference on top of Forward: incremental decoding (retnet.Decoder, so
// retnet.Generate samples from these models), perplexity of a token
// stream, and RetNet's retention maps and decay matrices per head.

var _ retnet.DecoderMaker = (*Model)(nil)

// Every model is a retnet.Inference (package retnet/load opens it with the
// others) and has retnet.Retentive's methods; retnet.AsRetentive accepts
// only the RetNets (for a Transformer the methods return errors, Gammas
// none).
var _ retnet.Retentive = (*Model)(nil)

// NewDecoder starts decoding B sequences: a chunkwise prefill (RetNet) or a
// full forward into the KV cache (Transformer), then one-token steps.
func (m *Model) NewDecoder(B int) retnet.Decoder { return &decoder{m: m, st: m.NewState(B)} }

type decoder struct {
	m    *Model
	st   *State
	last []float32
}

func (d *decoder) Prefill(tokens [][]int) ([]float32, error) {
	if len(tokens) != d.st.B || len(tokens[0]) == 0 {
		return nil, fmt.Errorf("hf: Prefill with %d sequences, the decoder has %d", len(tokens), d.st.B)
	}
	T := len(tokens[0])
	flat := make([]int32, 0, d.st.B*T)
	for b, s := range tokens {
		if len(s) != T {
			return nil, fmt.Errorf("hf: sequence %d has %d tokens, sequence 0 has %d", b, len(s), T)
		}
		for _, t := range s {
			flat = append(flat, int32(t))
		}
	}
	logits, err := d.m.Forward(flat, d.st.B, T, retnet.Chunkwise, 0, d.st)
	if err != nil {
		return nil, err
	}
	V := d.m.Config.Vocab
	d.last = d.last[:0]
	for b := 0; b < d.st.B; b++ {
		d.last = append(d.last, logits[(b*T+T-1)*V:(b*T+T)*V]...)
	}
	return d.last, nil
}

func (d *decoder) Step(tokens []int) ([]float32, error) {
	flat := make([]int32, len(tokens))
	for i, t := range tokens {
		flat[i] = int32(t)
	}
	return d.m.Forward(flat, d.st.B, 1, retnet.Recurrent, 0, d.st)
}

func (d *decoder) Pos() int          { return d.st.Pos }
func (d *decoder) StateBytes() int64 { return d.st.Bytes() }

// Perplexity is retnet.Perplexity(ctx, m, tokens, seqLen, B, progress):
// tokens scored in consecutive windows of seqLen+1 tokens (each predicting
// seqLen; a shorter last window is kept), B windows per forward pass, RetNet
// in the chunkwise form. progress, if not nil, is called after each pass
// with the tokens done and the total. It stops at once when ctx is
// cancelled, returning the windows scored so far and ctx's error.
func (m *Model) Perplexity(ctx context.Context, tokens []int, seqLen, B int, progress func(done, total int64)) (retnet.PerplexityResult, error) {
	return retnet.Perplexity(ctx, m, tokens, seqLen, B, progress)
}

// RetentionMaps returns, for one layer of a RetNet and one sequence, each
// head's retention scores: the matrix (T,T) of the parallel form,
// A[n][m] = gamma^(n-m) (q_n . k_m) dk^-1/2 for m <= n (0 above the
// diagonal) — how much token n takes from token m before the value
// product. Index [h][n*T+m].
func (m *Model) RetentionMaps(tokens []int, layerIdx int) ([][]float32, error) {
	if layerIdx < 0 || layerIdx >= m.Config.Layers {
		return nil, fmt.Errorf("hf: layer %d outside [0,%d)", layerIdx, m.Config.Layers)
	}
	maps, err := m.retentionMaps(tokens)
	if err != nil {
		return nil, err
	}
	return maps[layerIdx], nil
}

// retentionMaps is RetentionMaps of every layer, index [layer][h][n*T+m],
// from one parallel-form forward.
func (m *Model) retentionMaps(tokens []int) ([][][]float32, error) {
	c := m.Config
	if !c.IsRetNet() {
		return nil, fmt.Errorf("hf: retention maps need a RetNet, %s is a %s", m.Dir, c.ModelType)
	}
	maps := make([][][]float32, c.Layers)
	for l := range maps {
		maps[l] = make([][]float32, c.Heads)
	}
	m.tap = func(l int, h *retHead, head int) { // called for every (layer, head), heads in parallel
		maps[l][head] = make([]float32, h.T*h.T)
		h.scores(maps[l][head])
	}
	defer func() { m.tap = nil }()
	if _, err := m.Forward(int32s(tokens), 1, len(tokens), retnet.Parallel, 0, nil); err != nil {
		return nil, err
	}
	return maps, nil
}

func int32s(tokens []int) []int32 {
	flat := make([]int32, len(tokens))
	for i, t := range tokens {
		flat[i] = int32(min(max(t, -1), math.MaxInt32)) // out of range stays out of range for Forward's check
	}
	return flat
}

// DecayMatrix returns head h's decay matrix for n positions,
// D[i][j] = gamma_h^(i-j) for j <= i, else 0, gamma_h = 1 - 2^(-5-h).
func (m *Model) DecayMatrix(h, n int) ([]float32, error) {
	if !m.Config.IsRetNet() || h < 0 || h >= m.Config.Heads {
		return nil, fmt.Errorf("hf: decay matrix of head %d: the model is a %s with %d heads", h, m.Config.ModelType, m.Config.Heads)
	}
	hd := retHead{log2g: m.log2Gamma[h]}
	out := make([]float32, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j <= i; j++ {
			out[i*n+j] = hd.pow(i - j)
		}
	}
	return out, nil
}

// Gammas returns the decay of each head (RetNet).
func (m *Model) Gammas() []float64 {
	out := make([]float64, len(m.log2Gamma))
	for h, l := range m.log2Gamma {
		out[h] = math.Exp2(float64(l))
	}
	return out
}

// RetentionScores implements retnet.Retentive: RetentionMaps of every
// layer in the form viz.RetentionScores draws, one record per layer and
// head (layer-major) with its gamma and the token labels (nil: none).
func (m *Model) RetentionScores(tokens []int, labels []string) ([]retnet.RetentionScores, error) {
	if labels != nil && len(labels) != len(tokens) {
		return nil, fmt.Errorf("hf: %d labels for %d tokens", len(labels), len(tokens))
	}
	maps, err := m.retentionMaps(tokens)
	if err != nil {
		return nil, err
	}
	var out []retnet.RetentionScores
	for l := range maps {
		out = append(out, m.scoreRecords(maps[l], l, labels)...)
	}
	return out, nil
}

// LayerRetentionScores is RetentionScores of one layer.
func (m *Model) LayerRetentionScores(tokens []int, labels []string, layerIdx int) ([]retnet.RetentionScores, error) {
	if labels != nil && len(labels) != len(tokens) {
		return nil, fmt.Errorf("hf: %d labels for %d tokens", len(labels), len(tokens))
	}
	maps, err := m.RetentionMaps(tokens, layerIdx)
	if err != nil {
		return nil, err
	}
	return m.scoreRecords(maps, layerIdx, labels), nil
}

func (m *Model) scoreRecords(maps [][]float32, layer int, labels []string) []retnet.RetentionScores {
	g := m.Gammas()
	out := make([]retnet.RetentionScores, len(maps))
	for h, a := range maps {
		T := int(math.Sqrt(float64(len(a))))
		rows := make([][]float32, T)
		for n := range rows {
			rows[n] = a[n*T : (n+1)*T]
		}
		out[h] = retnet.RetentionScores{Layer: layer, Head: h, Gamma: g[h], Tokens: labels, Scores: rows}
	}
	return out
}

// FormAgreement implements retnet.Retentive: it runs one sequence in the
// parallel form and feeds each layer's normed input through that layer's
// retention in the three forms (chunkwise with chunk), reporting the
// largest absolute differences between the outputs. fla's retention has no
// normalisation, so they agree to float rounding (GroupNormEps reports the
// norm's eps, which acts after the forms meet).
func (m *Model) FormAgreement(tokens []int, chunk int) ([]retnet.FormAgreement, error) {
	c := m.Config
	if !c.IsRetNet() {
		return nil, fmt.Errorf("hf: form agreement needs a RetNet, %s is a %s", m.Dir, c.ModelType)
	}
	if chunk < 1 {
		return nil, fmt.Errorf("hf: form agreement with chunk %d (want >= 1)", chunk)
	}
	inputs := make([][]float32, c.Layers)
	m.inputTap = func(l int, x []float32) { inputs[l] = append([]float32(nil), x...) }
	_, err := m.Forward(int32s(tokens), 1, len(tokens), retnet.Parallel, 0, nil)
	m.inputTap = nil
	if err != nil {
		return nil, err
	}
	T := len(tokens)
	out := make([]retnet.FormAgreement, c.Layers)
	for l, x := range inputs {
		o := map[retnet.Form][]float32{}
		for _, form := range retnet.Forms {
			o[form] = make([]float32, T*c.Hidden)
			m.retention(o[form], x, l, 1, T, 0, form, chunk, nil)
		}
		out[l] = retnet.FormAgreement{Layer: l,
			ParallelVsRecurrent:  diff(o[retnet.Parallel], o[retnet.Recurrent]),
			ParallelVsChunkwise:  diff(o[retnet.Parallel], o[retnet.Chunkwise]),
			RecurrentVsChunkwise: diff(o[retnet.Recurrent], o[retnet.Chunkwise]),
			GroupNormEps:         c.NormEps}
	}
	return out, nil
}

func diff(a, b []float32) float64 {
	var d float64
	for i := range a {
		d = max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}

// Logits implements retnet.Inference: Forward of B equal-length sequences
// from position 0 (chunk <= 0: DefaultChunk).
func (m *Model) Logits(tokens [][]int, form retnet.Form, chunk int) ([]float32, error) {
	if len(tokens) == 0 || len(tokens[0]) == 0 {
		return nil, fmt.Errorf("hf: no tokens")
	}
	T := len(tokens[0])
	flat := make([]int32, 0, len(tokens)*T)
	for b, s := range tokens {
		if len(s) != T {
			return nil, fmt.Errorf("hf: sequence %d has %d tokens, sequence 0 has %d (a batch needs equal lengths)", b, len(s), T)
		}
		flat = append(flat, int32s(s)...)
	}
	return m.Forward(flat, len(tokens), T, form, chunk, nil)
}

// PerplexityPoint is a measured perplexity in the form viz.PerplexityVsSize
// draws beside the paper's Figure 5 (size label: the parameter count).
func (m *Model) PerplexityPoint(r retnet.PerplexityResult) retnet.PerplexityPoint {
	return retnet.PerplexityPoint{Model: m.Kind(), Size: m.SizeLabel(), NonEmbeddingParams: m.Config.NonEmbeddingParams(),
		ValLoss: r.Loss, Perplexity: r.Perplexity, Source: "measured"}
}
