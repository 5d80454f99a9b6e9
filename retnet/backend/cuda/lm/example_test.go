package lm_test

import (
	"fmt"

	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/retnet/backend/cuda"
	"github.com/retlab/retlab/retnet/backend/cuda/lm"
)

// A model's logits and decoding on the GPU (needs a GPU or
// -tags cudaemu, so no Output).
func ExampleNew() {
	c, _ := retnet.Preset("base", retnet.DefaultVocab)
	m, _ := retnet.New(c)
	m.InitWeights(1)
	b, err := cuda.Open()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()
	g, err := lm.New(b, m)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer g.Close()
	logits, err := g.Logits([][]int{{1, 2, 3}}, retnet.Chunkwise, 0) // (1,3,V)
	fmt.Println(len(logits), err)
	dec, _ := g.NewDecoder(1)
	defer dec.Close()
	next, _ := dec.Prefill([][]int{{1, 2, 3}}) // (1,V)
	next, _ = dec.Step([]int{4})
	fmt.Println(len(next))
}
