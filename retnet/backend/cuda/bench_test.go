package cuda_test

import (
	"testing"

	"github.com/retlab/retlab/retnet/backend"
	"github.com/retlab/retlab/retnet/backend/cuda"
)

// The benchmark runner on tiny shapes: every op produces a sane record
// (on the emulator the times are meaningless, the plumbing is not).
func TestBenchSmoke(t *testing.T) {
	b := open(t)
	cfg := cuda.BenchConfig{
		Chunkwise: []backend.Shape{{B: 1, T: 70, H: 2, Dk: 16, Dv: 24}},
		Chunks:    []int{16, 64},
		Parallel:  []backend.Shape{{B: 1, T: 70, H: 2, Dk: 16, Dv: 24}},
		Decode:    backend.Shape{H: 2, Dk: 128, Dv: 8},
		Batches:   []int{2},
		Steps:     2,
		Gemm:      [][3]int{{65, 33, 17}},
		CopyBytes: 1 << 16,
		Repeats:   2,
	}
	recs, err := cuda.Bench(b, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]int{}
	for _, r := range recs {
		ops[r.Op]++
		if !(r.Ms > 0) || r.MsMedian < r.Ms || r.Impl != b.Name() {
			t.Errorf("bad record %+v", r)
		}
		if (r.Op == "copy" || r.Op == "recurrent_step") && !(r.GBPerS > 0) {
			t.Errorf("%s without a bandwidth: %+v", r.Op, r)
		}
		if (r.Op == "chunkwise" || r.Op == "parallel" || r.Op == "sgemm") && !(r.GFlopPerS > 0) {
			t.Errorf("%s without a flop rate: %+v", r.Op, r)
		}
	}
	if ops["copy"] != 1 || ops["chunkwise"] != len(cfg.Chunks)*max(1, len(cfg.Chunkwise)) || ops["recurrent_step"] != max(1, len(cfg.Batches)) {
		t.Errorf("records per op %v", ops)
	}
}

func TestFlopFormulas(t *testing.T) {
	s := backend.Shape{B: 1, T: 8192, H: 8, Dk: 256, Dv: 512}
	// 128 chunks x 8 heads x (2*64^2*768 + 4*64*256*512)
	if got, want := cuda.ChunkwiseFLOPs(s, 64), 128.0*8*(2*64*64*768+4*64*256*512); got != want {
		t.Errorf("ChunkwiseFLOPs = %g, want %g", got, want)
	}
	if got, want := cuda.DecodeBytes(64, 8, 256, 512), 4.0*64*8*(2*256*512+2*256+2*512); got != want {
		t.Errorf("DecodeBytes = %g, want %g", got, want)
	}
}
