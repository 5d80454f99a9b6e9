package cpu

import (
	"fmt"
	"sync"
	"time"
)

// Peak is a measured upper bound on float32 arithmetic: FLOP/s of
// independent FMA chains with no memory traffic, for one ISA and thread
// count. MFU (model FLOP/s utilisation) is achieved FLOP/s over it.
type Peak struct {
	ISA     ISA
	Threads int
	// FLOPS is the sum over threads of 2*lanes*FMAs per second, best of
	// the probe's rounds.
	FLOPS float64
	// PerThread is FLOPS / Threads; with the lanes and the FMA ports it
	// gives the clock the chip ran at: PerThread / (2 ports * 2 * lanes).
	PerThread float64
}

// String reads like "avx512, 2 threads: 185.2 GFLOP/s (92.6 per thread)".
func (p Peak) String() string {
	return fmt.Sprintf("%v, %d threads: %.1f GFLOP/s (%.1f per thread)", p.ISA, p.Threads, p.FLOPS/1e9, p.PerThread/1e9)
}

// MFU returns flops/seconds as a fraction of the peak.
func (p Peak) MFU(flops, seconds float64) float64 {
	if p.FLOPS <= 0 || seconds <= 0 {
		return 0
	}
	return flops / seconds / p.FLOPS
}

// Lanes is the float32 vector width of the ISA's kernels (1 for Generic).
func (i ISA) Lanes() int {
	switch i {
	case AVX512:
		return 16
	case AVX2:
		return 8
	}
	return 1
}

// MeasurePeak runs the FMA-chain probe of isa on threads goroutines at
// once (each locked to an OS thread) for about d in total, best of five
// rounds, and returns the FLOP/s. It is the physical limit cores x FMA
// ports x lanes x 2 x clock, as the chip delivers it now: the clock under
// a sustained AVX-512 load is often lower than under AVX2, and a shared
// machine gives less. Generic has no probe (an error).
func MeasurePeak(isa ISA, threads int, d time.Duration) (Peak, error) {
	if isa == Generic || !isa.Supported() {
		return Peak{}, fmt.Errorf("cpu: no FMA probe for ISA %v on this machine", isa)
	}
	if threads < 1 {
		return Peak{}, fmt.Errorf("cpu: MeasurePeak with %d threads", threads)
	}
	chains, flopsPerRound := fmaChainsAVX2, 192.0
	if isa == AVX512 {
		chains, flopsPerRound = fmaChainsAVX512, 768.0
	}
	// Calibrate rounds so one timing lasts about d/5.
	n := 1 << 16
	for {
		t0 := time.Now()
		chains(n)
		if el := time.Since(t0); el > d/50 || n > 1<<30 {
			n = int(float64(n) * float64(d/5) / float64(max(el, time.Microsecond)))
			break
		}
		n *= 4
	}
	n = max(n, 1)
	best := 0.0
	for range 5 {
		var wg sync.WaitGroup
		t0 := time.Now()
		for range threads {
			wg.Add(1)
			go func() {
				defer wg.Done()
				lockThread()
				defer unlockThread()
				chains(n)
			}()
		}
		wg.Wait()
		if f := float64(threads) * float64(n) * flopsPerRound / time.Since(t0).Seconds(); f > best {
			best = f
		}
	}
	return Peak{ISA: isa, Threads: threads, FLOPS: best, PerThread: best / float64(threads)}, nil
}
