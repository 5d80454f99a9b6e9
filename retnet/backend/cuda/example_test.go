package cuda_test

import (
	"fmt"

	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/retnet/backend"
	"github.com/retlab/retlab/retnet/backend/cuda"
)

// The chunkwise form on device-resident buffers: plan once, run many.
// (Examples here have no Output: they need a GPU, or -tags cudaemu.)
func ExampleBackend_NewChunkPlan() {
	b, err := cuda.Open()
	if err != nil {
		fmt.Println(err) // cuda: built without GPU support (rebuild with -tags cuda)
		return
	}
	defer b.Close()
	s := backend.Shape{B: 1, T: 8192, H: 8, Dk: 256, Dv: 512}
	q, _ := b.Alloc(s.QKLen()) // fill with q.CopyFrom(host), likewise k, v
	k, _ := b.Alloc(s.QKLen())
	v, _ := b.Alloc(s.VLen())
	o, _ := b.Alloc(s.VLen())
	plan, err := b.NewChunkPlan(s, 64, retnet.LogGammas(retnet.ScheduleTorchscale, s.H))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer plan.Close()
	ms, err := b.Time(func() error { return plan.Run(q, k, v, o) })
	fmt.Println(ms, err)
	out := make([]float32, s.VLen())
	_ = o.CopyTo(out)
}

// Decoding 64 sequences with the state in device memory.
func ExampleBackend_OpenDecoder() {
	b, err := cuda.Open()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()
	const B, H, dk, dv = 64, 8, 256, 512
	dec, err := b.OpenDecoder(B, H, dk, dv, retnet.LogGammas(retnet.ScheduleTorchscale, H))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer dec.Close()
	q, k := make([]float32, B*H*dk), make([]float32, B*H*dk)
	v, o := make([]float32, B*H*dv), make([]float32, B*H*dv)
	for step := 0; step < 3; step++ {
		if err := dec.Step(q, k, v, o); err != nil { // or StepDev on device buffers
			fmt.Println(err)
			return
		}
	}
}
