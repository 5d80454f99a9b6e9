package viz

import (
	"fmt"
	"math"

	"github.com/retlab/retlab/retnet"
)

// DecayOptions configures DecayMatrices.
type DecayOptions struct {
	Style
	// Normalized draws the parallel form's mask, each row divided by the
	// square root of its sum (retnet.DecayMask with normalized); otherwise
	// the raw gamma^(n-m).
	Normalized bool
	// LogScale colours by log10 of the value, which shows how far back a
	// head still sees; entries above the diagonal (0) stay blank either way.
	LogScale bool
	// MaxCells is the most cells drawn a side; longer sequences are shown as
	// averages of k x k blocks (0: 64).
	MaxCells int
	// Columns is the number of panels a row (0: about square).
	Columns int
}

// DecayMatrices draws the (N,N) decay matrix D[n][m] of each head as a grid
// of heatmaps, one panel per head titled with its gamma. gammas are the
// heads' decays (retnet.Gammas); the values are what retnet.DecayMask
// computes from float32 log(gamma), as the model does. Rows are the query
// position n (top to bottom), columns the key position m.
//
// It panics if gammas is empty, any gamma is outside (0, 1], or N < 1.
func DecayMatrices(gammas []float64, N int, o DecayOptions) *Figure {
	if len(gammas) == 0 || N < 1 {
		panic(fmt.Sprintf("viz: DecayMatrices with %d heads and length %d", len(gammas), N))
	}
	maxCells := o.MaxCells
	if maxCells <= 0 {
		maxCells = 64
	}
	var panels []heatPanel
	k := 1
	for h, g := range gammas {
		if !(g > 0 && g <= 1) {
			panic(fmt.Sprintf("viz: DecayMatrices: gamma[%d] = %v is not in (0, 1]", h, g))
		}
		mask := make([]float32, N*N) // (N,N)
		retnet.DecayMask(mask, float32(math.Log(float64(float32(g)))), N, o.Normalized)
		at := func(i, j int) (float64, bool) {
			if j > i {
				return 0, false
			}
			return float64(mask[i*N+j]), true
		}
		var pr, pc int
		k, pr, pc, at = pool(N, N, maxCells, at)
		at = materialise(pr, pc, at) // one (N,N) mask alive at a time
		lab := pooledLabels(nil, N, k)
		panels = append(panels, heatPanel{
			title: fmt.Sprintf("head %d  γ=%s", h, fmtGamma(g)),
			rows:  pr, cols: pc, at: at, rowLabels: lab, colLabels: lab,
		})
	}
	what := "raw γ^(n−m)"
	if o.Normalized {
		what = "normalised γ^(n−m)/√(row sum)"
	}
	scale := "linear colour"
	if o.LogScale {
		scale = "log10 colour"
	}
	sub := o.subtitle(fmt.Sprintf("%s, N=%d, %s; rows: query n, columns: key m%s", what, N, scale, poolNote(k)))
	f := heatGrid{
		style: o.Style, title: o.title("Decay matrices per head"), subtitle: sub,
		panels: panels, pcols: o.Columns, logScale: o.LogScale,
	}.figure("decay-matrices")
	f.Summary = fmt.Sprintf("viz.DecayMatrices: %d heads, N=%d, normalized=%v, log=%v", len(gammas), N, o.Normalized, o.LogScale)
	return f
}

// fmtGamma prints gamma with enough digits to tell heads apart (1-2^-12 is
// 0.999756...).
func fmtGamma(g float64) string {
	if g == 1 {
		return "1"
	}
	d := int(math.Ceil(-math.Log10(1-g))) + 2
	return fmt.Sprintf("%.*f", min(max(d, 3), 10), g)
}

// ProfileOptions configures DecayProfiles.
type ProfileOptions struct {
	Style
	// MaxDistance is the largest distance d drawn (0: four times the longest
	// finite effective memory, at least 16).
	MaxDistance int
	// LogY draws gamma^d on a log axis, where each head is a straight line.
	LogY bool
}

// DecayProfiles draws gamma^d against the distance d for each head, with a
// dotted line at each head's half-life (retnet.HalfLife); the legend gives
// gamma, the half-life and the effective memory 1/(1-gamma)
// (retnet.EffectiveMemory) of each head. Heads with gamma = 1 (no decay,
// e.g. heads >= 20 in float32) are flat lines with infinite memory.
//
// It panics if gammas is empty or a gamma is outside (0, 1].
func DecayProfiles(gammas []float64, o ProfileOptions) *Figure {
	if len(gammas) == 0 {
		panic("viz: DecayProfiles with no heads")
	}
	maxD := o.MaxDistance
	if maxD <= 0 {
		longest := 0.0
		for _, g := range gammas {
			if m := retnet.EffectiveMemory(g); finite(m) {
				longest = math.Max(longest, m)
			}
		}
		maxD = max(16, int(math.Ceil(4*longest)))
	}
	step := max(1, maxD/400)
	var series []xySeries
	for h, g := range gammas {
		if !(g > 0 && g <= 1) {
			panic(fmt.Sprintf("viz: DecayProfiles: gamma[%d] = %v is not in (0, 1]", h, g))
		}
		hl, mem := retnet.HalfLife(g), retnet.EffectiveMemory(g)
		s := xySeries{
			name:  fmt.Sprintf("head %d: γ=%s, t½=%s, memory=%s", h, fmtGamma(g), fmtNum(hl), fmtNum(mem)),
			color: o.color(h), width: 2,
		}
		for d := 0; d <= maxD; d += step {
			s.points = append(s.points, [2]float64{float64(d), math.Pow(g, float64(d))})
		}
		if maxD%step != 0 {
			s.points = append(s.points, [2]float64{float64(maxD), math.Pow(g, float64(maxD))})
		}
		if finite(hl) && hl <= float64(maxD) {
			s.marks = []any{map[string]any{"xAxis": round6(hl), "name": "t½ head " + fmt.Sprint(h),
				"label": map[string]any{"show": false}}}
		}
		series = append(series, s)
	}
	y := axisSpec{name: "γ^d"}
	if o.LogY {
		y.log = true
	} else {
		y.min, y.max = 0, 1
	}
	panel := xyPanel{x: axisSpec{name: "distance d (tokens back)", min: 0, max: maxD}, y: y, series: series}
	sub := o.subtitle("half-life t½ = ln(1/2)/ln γ (dotted), effective memory = Σ γ^d = 1/(1−γ)")
	f := xyFigure("decay-profiles", o.Style, o.title("Decay profiles per head"), sub, []xyPanel{panel}, 1, 820, 460+legendHeight(legendNames([]xyPanel{panel}), 820))
	f.Summary = fmt.Sprintf("viz.DecayProfiles: %d heads, d=0..%d", len(gammas), maxD)
	return f
}
