package bench

import (
	"fmt"
	"testing"

	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/retnet/train"
)

// BenchmarkTrainStep times one training step (forward, backward, clipping,
// AdamW) of the ladder's "s" models at 4096 tokens per step, the unit of
// `retlab bench train`, for profiling: go test -bench TrainStep -cpuprofile.
func BenchmarkTrainStep(b *testing.B) {
	for _, kind := range []string{retnet.KindRetNet, retnet.KindTransformer} {
		for _, T := range []int{256, 512, 2048} {
			b.Run(fmt.Sprintf("%s/T=%d", kind, T), func(b *testing.B) {
				mc, _, err := retnet.LadderModel(kind, "s")
				if err != nil {
					b.Fatal(err)
				}
				model, err := retnet.NewLanguageModel(mc, 1)
				if err != nil {
					b.Fatal(err)
				}
				if T > retnet.DefaultChunk {
					train.SetForm(model, "chunkwise")
				}
				B := 4096 / T
				step := benchStep(model, B, T)
				step()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					step()
				}
				b.ReportMetric(float64(B*T)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
			})
		}
	}
}
