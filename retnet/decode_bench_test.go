package retnet

import (
	"fmt"
	"testing"
)

// BenchmarkDecodeStep times one recurrent decode step of the ladder's "m"
// RetNet for B sequences (the latency `retlab bench inference` reports).
func BenchmarkDecodeStep(b *testing.B) {
	mc, _, err := LadderModel(KindRetNet, "m")
	if err != nil {
		b.Fatal(err)
	}
	m, _ := New(mc.(Config))
	m.InitWeights(1)
	for _, B := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("B=%d", B), func(b *testing.B) {
			d := m.NewDecoder(B)
			toks := make([]int, B)
			d.Step(toks)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				d.Step(toks)
			}
			b.ReportMetric(float64(B)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}
