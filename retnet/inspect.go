package retnet

import (
	"fmt"
	"math"
)

// Inspection: what a researcher looks at inside a model on a real input.

// RetentionScores runs the model on one sequence in the parallel form and
// returns, for every layer and head, the T x T matrix the parallel form
// multiplies the values by: S[n][m] = (q_n . k_m) gamma^(n-m) /
// sqrt(sum gamma^(n-m')) / clamp(rowsum |S|, 1, 5e4) for m <= n, else 0.
// labels, if not nil, names each position (e.g. the decoded byte).
func (m *ModelOf[T]) RetentionScores(tokens []int, labels []string) ([]RetentionScores, error) {
	if labels != nil && len(labels) != len(tokens) {
		return nil, fmt.Errorf("retnet: %d labels for %d tokens", len(labels), len(tokens))
	}
	acts, err := m.parallelRun(tokens)
	if err != nil {
		return nil, err
	}
	c := m.Config
	n := len(tokens)
	gammas := make([]float64, c.Heads)
	for h := range gammas {
		gammas[h] = math.Exp(float64(m.LogGamma[h]))
	}
	var out []RetentionScores
	for l := range acts.Layers {
		a := &acts.Layers[l].MSR
		r := m.msr(l)
		for h := 0; h < c.Heads; h++ {
			hd := r.head(a, 0, h)
			dt := NewDecayTable[T](hd.LogGamma, n)
			S := make([]T, n*n)
			matmul(true, false, true, n, n, hd.Dk, 1, hd.Q, hd.LdQK, hd.K, hd.LdQK, 0, S, n)
			rows := make([][]float32, n)
			for i := 0; i < n; i++ {
				row := S[i*n : (i+1)*n]
				rows[i] = make([]float32, n)
				for j := 0; j <= i; j++ {
					rows[i][j] = float32(row[j] * dt.Pow[i-j] * dt.InvSqrtCum[i] / a.Denom[i])
				}
			}
			out = append(out, RetentionScores{Layer: l, Head: h, Gamma: gammas[h], Tokens: labels, Scores: rows})
		}
	}
	return out, nil
}

// FormAgreement runs the model on one sequence in the parallel form and,
// for every layer, feeds that layer's normed input through its multi-scale
// retention in all three forms (chunkwise with chunk), reporting the largest
// absolute differences between the outputs. With GroupNormEps = 0 they agree
// to float rounding; at the default eps they differ where activations are
// small (see the spec).
func (m *ModelOf[T]) FormAgreement(tokens []int, chunk int) ([]FormAgreement, error) {
	acts, err := m.parallelRun(tokens)
	if err != nil {
		return nil, err
	}
	c := m.Config
	n := len(tokens)
	var out []FormAgreement
	for l := range acts.Layers {
		outs := map[Form][]T{}
		for _, form := range Forms {
			o := make([]T, n*c.Dim)
			m.msr(l).Forward(o, acts.Layers[l].XN, 1, n, form, chunk, &MSRActs[T]{}, nil)
			outs[form] = o
		}
		out = append(out, FormAgreement{Layer: l,
			ParallelVsRecurrent:  maxDiff(outs[Parallel], outs[Recurrent]),
			ParallelVsChunkwise:  maxDiff(outs[Parallel], outs[Chunkwise]),
			RecurrentVsChunkwise: maxDiff(outs[Recurrent], outs[Chunkwise]),
			GroupNormEps:         c.GroupNormEps})
	}
	return out, nil
}

func maxDiff[T Float](a, b []T) float64 {
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}

// parallelRun runs the parallel form on one sequence, keeping the activations.
func (m *ModelOf[T]) parallelRun(tokens []int) (*ActivationsOf[T], error) {
	acts, err := m.activationsFor([][]int{tokens})
	if err != nil {
		return nil, err
	}
	for l := range acts.Layers {
		acts.Layers[l].MSR.KeepForBackward = true // the row normalisers
	}
	m.Forward(acts, Parallel, 0)
	return acts, nil
}
