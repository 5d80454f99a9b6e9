package cpu

import (
	"testing"
	"time"
)

// The probe gives a plausible number for every assembly path: above 1
// GFLOP/s per thread (a shared machine still delivers that) and below
// 2 ports x 2 flops x lanes x 6 GHz.
func TestMeasurePeak(t *testing.T) {
	for _, isa := range SupportedISAs() {
		if isa == Generic {
			if _, err := MeasurePeak(isa, 1, time.Millisecond); err == nil {
				t.Error("MeasurePeak(generic) gave no error")
			}
			continue
		}
		p, err := MeasurePeak(isa, 1, 20*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if hi := 4 * float64(isa.Lanes()) * 6e9; p.PerThread < 1e9 || p.PerThread > hi {
			t.Errorf("%v: %v, outside [1, %.0f] GFLOP/s", isa, p, hi/1e9)
		}
	}
}

// BenchmarkPeak reports the probe's FLOP/s per ISA on -cpu threads.
func BenchmarkPeak(b *testing.B) {
	for _, isa := range SupportedISAs()[1:] {
		b.Run(isa.String(), func(b *testing.B) {
			var p Peak
			for b.Loop() {
				var err error
				if p, err = MeasurePeak(isa, Threads(), 100*time.Millisecond); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(p.FLOPS/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkMicroKernel times the ISA's register tile alone on packed
// panels that stay in L1 and L2 (kc = kcBlock): the ceiling Sgemm can reach.
func BenchmarkMicroKernel(b *testing.B) {
	for _, isa := range SupportedISAs() {
		b.Run(isa.String(), func(b *testing.B) {
			prev, _ := SetISA(isa)
			defer SetISA(prev)
			kc := kcBlock
			a, bp, c := aligned64(kc*mr), aligned64(kc*nr), make([]float32, mr*nr)
			for b.Loop() {
				microKernel(kc, a, bp, c, nr, 1, 0)
			}
			b.ReportMetric(2*float64(kc*mr*nr)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
