package viz

import (
	"fmt"
	"math"
	"sort"

	"github.com/retlab/retlab/retnet"
)

// ScoresOptions configures RetentionScores.
type ScoresOptions struct {
	Style
	// Abs colours by |S| instead of the signed score (signed scores use a
	// diverging blue-white-red scale centred on 0).
	Abs bool
	// LogScale colours by log10 |S| (implies Abs).
	LogScale bool
	// MaxCells is the most cells drawn a side; longer inputs are shown as
	// averages of k x k blocks (0: 64).
	MaxCells int
}

// RetentionScores draws the (T,T) parallel-form score matrices of a model on
// one input, one panel per record, in a grid with one row per layer and one
// column per head (records are sorted by layer, then head). Axis labels are
// the records' Tokens when given. The records come from the model's
// retention-scores API or from a results file (ReadRetentionScores).
//
// It panics if scores is empty or a record's matrix is not square.
func RetentionScores(scores []retnet.RetentionScores, o ScoresOptions) *Figure {
	if len(scores) == 0 {
		panic("viz: RetentionScores with no records")
	}
	recs := append([]retnet.RetentionScores(nil), scores...)
	sort.SliceStable(recs, func(a, b int) bool {
		if recs[a].Layer != recs[b].Layer {
			return recs[a].Layer < recs[b].Layer
		}
		return recs[a].Head < recs[b].Head
	})
	heads := map[int]bool{}
	for _, r := range recs {
		heads[r.Head] = true
	}
	maxCells := o.MaxCells
	if maxCells <= 0 {
		maxCells = 64
	}
	abs := o.Abs || o.LogScale
	var panels []heatPanel
	k, T := 1, 0
	for _, r := range recs {
		T = len(r.Scores)
		for i, row := range r.Scores {
			if len(row) != T {
				panic(fmt.Sprintf("viz: RetentionScores layer %d head %d: row %d has %d scores, want %d", r.Layer, r.Head, i, len(row), T))
			}
		}
		S := r.Scores
		at := func(i, j int) (float64, bool) {
			if j > i { // causal: nothing above the diagonal
				return 0, false
			}
			v := float64(S[i][j])
			if abs {
				v = math.Abs(v)
			}
			return v, true
		}
		var pr, pc int
		k, pr, pc, at = pool(T, T, maxCells, at)
		lab := pooledLabels(r.Tokens, T, k)
		panels = append(panels, heatPanel{
			title: fmt.Sprintf("layer %d head %d  γ=%s", r.Layer, r.Head, fmtGamma(r.Gamma)),
			rows:  pr, cols: pc, at: at, rowLabels: lab, colLabels: lab,
		})
	}
	what := "signed S"
	if abs {
		what = "|S|"
	}
	if o.LogScale {
		what = "log10 |S|"
	}
	sub := o.subtitle(fmt.Sprintf("parallel form, S = (QKᵀ)⊙D, rows normalised; T=%d, colour: %s; rows: query, columns: key%s", T, what, poolNote(k)))
	f := heatGrid{
		style: o.Style, title: o.title("Retention scores"), subtitle: sub,
		panels: panels, pcols: min(len(heads), len(panels)), logScale: o.LogScale,
	}.figure("retention-scores")
	f.Summary = fmt.Sprintf("viz.RetentionScores: %d panels, T=%d", len(panels), T)
	return f
}
