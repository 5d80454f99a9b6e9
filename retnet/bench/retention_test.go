package bench

import (
	"fmt"
	"testing"

	"github.com/retlab/retlab/retnet"
)

// BenchmarkRetention times one MSR layer forward (D=512, DV=1024, H=4, B=1)
// per form and length, reporting GFLOP/s of the executed work (RetentionFLOPsExecuted) and the per-token
// time (constant in T for the recurrent form, which decodes 64 tokens per op).
func BenchmarkRetention(b *testing.B) {
	for _, form := range retnet.Forms {
		for _, T := range []int{512, 2048, 8192} {
			b.Run(fmt.Sprintf("%s/T=%d", form, T), func(b *testing.B) {
				cfg := RetentionConfig{MaxRecurrentTokens: 64}
				cfg.defaults()
				r, _ := newBenchLayer(cfg)
				run, steps, err := benchRun(r, cfg, form, T)
				if err != nil {
					b.Fatal(err)
				}
				run()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					run()
				}
				secs := b.Elapsed().Seconds() / float64(b.N)
				flops := retnet.RetentionFLOPsExecuted(form, 1, T, cfg.Dim, cfg.Value, cfg.Heads, cfg.Chunk) * float64(steps) / float64(T)
				b.ReportMetric(flops/secs/1e9, "GFLOP/s")
				b.ReportMetric(secs/float64(steps)*1e6, "us/token")
			})
		}
	}
}
