package cpu

import (
	"fmt"
	"os"
	"strings"
)

// ISA names one path of the kernels: the instruction set the microkernels,
// the vector helpers and the vectorised exp run on. Every path gives results
// within float32 rounding of the naive loops (SgemmNaive, DotNaive, ...); they
// differ from each other in the last bits (vector widths change the order of
// the sums).
type ISA int

const (
	// Generic is pure Go: any CPU, any GOARCH, and the -tags purego build.
	Generic ISA = iota
	// AVX2 is the 8-lane assembly (AVX2 + FMA, YMM registers): 6x16 Sgemm tile.
	AVX2
	// AVX512 is the 16-lane assembly (AVX-512 F/BW/DQ/VL, ZMM registers and
	// K masks): 12x32 Sgemm tile.
	AVX512
)

var isaNames = [...]string{Generic: "generic", AVX2: "avx2", AVX512: "avx512"}

// String returns the name RETLAB_CPU and ParseISA use: generic, avx2, avx512.
func (i ISA) String() string {
	if i < 0 || int(i) >= len(isaNames) {
		return fmt.Sprintf("ISA(%d)", int(i))
	}
	return isaNames[i]
}

// ParseISA returns the ISA named s (generic, avx2, avx512; any case).
func ParseISA(s string) (ISA, error) {
	for i, name := range isaNames {
		if strings.EqualFold(strings.TrimSpace(s), name) {
			return ISA(i), nil
		}
	}
	return 0, fmt.Errorf("cpu: unknown ISA %q (want one of %s)", s, strings.Join(isaNames[:], ", "))
}

// Supported reports whether this CPU, operating system and build can run i:
// the assembly paths need GOARCH amd64 without -tags purego, the CPU flags
// (golang.org/x/sys/cpu) and the OS saving the YMM / ZMM registers.
func (i ISA) Supported() bool {
	switch i {
	case Generic:
		return true
	case AVX2:
		return hasAVX2
	case AVX512:
		return hasAVX512
	}
	return false
}

// SupportedISAs lists the ISAs this machine can run, slowest first; the
// tests run every one of them against the naive oracles.
func SupportedISAs() []ISA {
	var out []ISA
	for i := range isaNames {
		if ISA(i).Supported() {
			out = append(out, ISA(i))
		}
	}
	return out
}

// BestISA is the fastest supported ISA, the default.
func BestISA() ISA {
	s := SupportedISAs()
	return s[len(s)-1]
}

// isa is the path in use; mr x nr is its register tile (see sgemm.go).
var isa ISA

// CurrentISA returns the path in use.
func CurrentISA() ISA { return isa }

// SetISA makes every kernel run on path i and returns the previous one, so
//
//	prev, err := cpu.SetISA(cpu.AVX2)
//	...
//	defer cpu.SetISA(prev)
//
// compares paths within one process. It is not safe to call while another
// goroutine runs a kernel of this package. An unsupported i is an error and
// changes nothing. The environment variable RETLAB_CPU (generic, avx2,
// avx512) sets the starting path; unset, it is BestISA().
func SetISA(i ISA) (ISA, error) {
	if !i.Supported() {
		return isa, fmt.Errorf("cpu: ISA %v is not supported on this machine (supported: %v)", i, SupportedISAs())
	}
	prev := isa
	isa = i
	if i == AVX512 {
		mr, nr = 12, 32
	} else {
		mr, nr = 6, 16
	}
	return prev, nil
}

func init() {
	want := BestISA()
	if s := os.Getenv("RETLAB_CPU"); s != "" {
		i, err := ParseISA(s)
		if err == nil && !i.Supported() {
			err = fmt.Errorf("cpu: RETLAB_CPU=%s is not supported on this machine (supported: %v)", s, SupportedISAs())
		}
		if err != nil {
			// A forced path that cannot run must not silently become another.
			panic(fmt.Sprintf("%v (RETLAB_CPU)", err))
		}
		want = i
	}
	if _, err := SetISA(want); err != nil {
		panic(err)
	}
}
