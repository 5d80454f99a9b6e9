//go:build cudaemu

package retnet_test

import (
	"math"
	"testing"

	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/retnet/backend"
	"github.com/retlab/retlab/retnet/backend/cuda"
)

// With a backend that has its own retention kernels (here the CUDA kernels
// run by the CPU emulator), inference forwards offload the retention to it
// and give the CPU logits; training forwards stay on the CPU code.
func TestOffloadToCUDAKernels(t *testing.T) {
	c := retnet.Config{Vocab: 19, Dim: 16, ValueDim: 24, FFNDim: 20, Layers: 2, Heads: 2}.WithDefaults()
	m, err := retnet.New(c)
	if err != nil {
		t.Fatal(err)
	}
	m.InitWeights(3)
	tokens := [][]int{{1, 5, 2, 9, 3, 3, 7, 0, 11, 4, 6}, {2, 2, 8, 1, 0, 5, 17, 3, 9, 9, 1}}
	want := map[retnet.Form][]float32{}
	for _, f := range []retnet.Form{retnet.Parallel, retnet.Chunkwise} {
		l, _ := m.Logits(tokens, f, 4)
		want[f] = l
	}
	if err := backend.Use(cuda.RegistryName); err != nil {
		t.Fatal(err)
	}
	defer backend.Use("cpu")
	for f, w := range want {
		got, err := m.Logits(tokens, f, 4)
		if err != nil {
			t.Fatal(err)
		}
		var d float64
		for i := range got {
			d = math.Max(d, math.Abs(float64(got[i]-w[i])))
		}
		if d > 1e-4 {
			t.Errorf("%s on %s: logits differ from the CPU by %g", f, cuda.RegistryName, d)
		}
		t.Logf("%s on %s: max |diff| %.3g", f, cuda.RegistryName, d)
	}
}
