package viz

import (
	"fmt"
	"sort"
	"strings"

	"github.com/retlab/retlab/retnet"
)

// InferenceOptions configures InferenceCost.
type InferenceOptions struct {
	Style
	// X is "context" (default) or "batch": the swept quantity on the x axes.
	X string
	// Memory is "state" (default: recurrent state or KV cache bytes) or
	// "rss" (peak resident memory of the process).
	Memory string
}

// InferenceCost draws decoding cost against context length or batch size in
// three panels, memory (MiB), throughput (tokens/s) and latency per step
// (ms), one series per model (RetNet, Transformer) and, when the records
// hold several values of the other quantity, per value of it. The x axes
// are log2. The records are `retlab bench inference --json` output
// (ReadInferenceBench).
//
// It panics if bench is empty or X or Memory is unknown.
func InferenceCost(bench []retnet.InferenceBench, o InferenceOptions) *Figure {
	if len(bench) == 0 {
		panic("viz: InferenceCost with no records")
	}
	xKey := o.X
	if xKey == "" {
		xKey = "context"
	}
	if xKey != "context" && xKey != "batch" {
		panic(fmt.Sprintf("viz: InferenceCost X %q: want context or batch", o.X))
	}
	mem := o.Memory
	if mem == "" {
		mem = "state"
	}
	if mem != "state" && mem != "rss" {
		panic(fmt.Sprintf("viz: InferenceCost Memory %q: want state or rss", o.Memory))
	}
	// Group by model and the value that is not swept.
	type key struct {
		model string
		other int
	}
	groups := map[key][]retnet.InferenceBench{}
	others := map[int]bool{}
	for _, b := range bench {
		k := key{strings.ToLower(b.Model), b.Batch}
		if xKey == "batch" {
			k.other = b.Context
		}
		groups[k] = append(groups[k], b)
		others[k.other] = true
	}
	keys := make([]key, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		if keys[a].model != keys[b].model {
			return keys[a].model < keys[b].model
		}
		return keys[a].other < keys[b].other
	})
	colors := map[string]string{"retnet": o.color(0), "transformer": o.color(1)}
	var memS, tputS, latS []xySeries
	for i, k := range keys {
		rows := groups[k]
		sort.Slice(rows, func(a, b int) bool { return xOf(rows[a], xKey) < xOf(rows[b], xKey) })
		name := archName(k.model)
		if len(others) > 1 {
			if xKey == "context" {
				name += fmt.Sprintf(" (batch %d)", k.other)
			} else {
				name += fmt.Sprintf(" (context %d)", k.other)
			}
		}
		c, ok := colors[k.model]
		if !ok || len(others) > 1 {
			c = o.color(i)
		}
		base := xySeries{name: name, color: c, symbol: true, width: 2}
		m, t, l := base, base, base
		for _, r := range rows {
			x := float64(xOf(r, xKey))
			b := r.StateBytes
			if mem == "rss" {
				b = r.PeakRSSBytes
			}
			m.points = append(m.points, [2]float64{x, float64(b) / (1 << 20)})
			t.points = append(t.points, [2]float64{x, r.TokensPerS})
			l.points = append(l.points, [2]float64{x, r.LatencyMs})
		}
		memS, tputS, latS = append(memS, m), append(tputS, t), append(latS, l)
	}
	xName := "context length (tokens)"
	if xKey == "batch" {
		xName = "batch size"
	}
	xa := axisSpec{name: xName, log: true, logBase: 2}
	memTitle := "Memory: recurrent state / KV cache"
	if mem == "rss" {
		memTitle = "Memory: peak RSS"
	}
	panels := []xyPanel{
		{title: memTitle, x: xa, y: axisSpec{name: "MiB"}, series: memS},
		{title: "Throughput", x: xa, y: axisSpec{name: "tokens/s"}, series: tputS},
		{title: "Latency per decode step", x: xa, y: axisSpec{name: "ms"}, series: latS},
	}
	p := PaperInference()
	sub := o.subtitle(fmt.Sprintf("decoding one token per sequence; paper (%s, %dk context, %s): %.1fx throughput, %.1fx less memory, %.1fx lower latency",
		p.Size, p.Context/1024, p.Hardware, p.ThroughputX, p.MemoryX, p.LatencyX))
	f := xyFigure("inference-cost", o.Style, o.title("Inference cost: RetNet vs Transformer"), sub, panels, 3, 1200, 440)
	f.Summary = fmt.Sprintf("viz.InferenceCost: %d records against %s", len(bench), xKey)
	return f
}

func xOf(b retnet.InferenceBench, x string) int {
	if x == "batch" {
		return b.Batch
	}
	return b.Context
}
