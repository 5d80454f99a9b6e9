//go:build cudaemu && !cuda

package cuda

import (
	"math"
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"
	"unsafe"
)

// The emulator's own tests: each kernel of emu/defects.cuh has one defect,
// and the emulator must report it (with its checks on) or, for the defects
// that corrupt data, give a wrong result (with the checks off, by its
// schedule alone). The seed of the random schedule is printed; run with
// RETLAB_EMU_SEED=N to repeat a failure.

// testSeed is RETLAB_EMU_SEED, or a fresh seed, logged either way.
func testSeed(t *testing.T) uint32 {
	t.Helper()
	seed := uint32(time.Now().UnixNano()%1_000_000) + 1
	if s := os.Getenv("RETLAB_EMU_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			t.Fatalf("RETLAB_EMU_SEED=%q", s)
		}
		seed = uint32(n)
	}
	t.Logf("emulator seed %d (RETLAB_EMU_SEED=%d repeats this run)", seed, seed)
	return seed
}

// withEmuOptions runs f with the emulator configured as o, then restores
// the environment's configuration.
func withEmuOptions(t *testing.T, o emuOptions, f func()) {
	t.Helper()
	setEmuOptions(o)
	defer func() {
		env, err := emuOptionsFromEnv()
		if err != nil {
			t.Error(err)
		}
		setEmuOptions(env)
	}()
	f()
}

// defectRun launches kernel over blocks blocks of 256 threads with x
// (blocks*256 floats, random), out (blocks*256 floats, zero) and, for
// defect_uninit_global, y (allocated, never written) between them. It
// returns x, out after the launch, and the launch's error.
func defectRun(t *testing.T, kernel string, blocks int, x []float32) (out []float32, err error) {
	t.Helper()
	d := &emuDriver{mem: map[devPtr]emuAlloc{}}
	defer func() {
		if err := d.close(); err != nil {
			t.Error(err)
		}
	}()
	n := blocks * threads
	up := func(h []float32) devPtr {
		p, err := d.alloc(int64(4 * len(h)))
		if err != nil {
			t.Fatal(err)
		}
		if err := d.htod(p, unsafe.Pointer(&h[0]), int64(4*len(h))); err != nil {
			t.Fatal(err)
		}
		return p
	}
	out = make([]float32, n)
	xp, op := up(x), up(out)
	args := []uint64{argP(xp), argP(op)}
	if kernel == "defect_uninit_global" {
		yp, err := d.alloc(int64(4 * n))
		if err != nil {
			t.Fatal(err)
		}
		args = []uint64{argP(xp), argP(yp), argP(op)}
	}
	err = d.launch(kernel, grid(blocks, 1, 1), args)
	if e := d.dtoh(unsafe.Pointer(&out[0]), op, int64(4*n)); e != nil {
		t.Fatal(e)
	}
	return out, err
}

func randomInput(seed uint32, n int) []float32 {
	r := rand.New(rand.NewPCG(uint64(seed), 7))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

// Every defect class is reported, with an error that says what it is.
func TestEmuDetectsDefects(t *testing.T) {
	cases := []struct {
		kernel string
		blocks int
		want   string // regexp of the error
	}{
		{"defect_shared_race", 2, `data race \((read after write|write after write|write after read)\) on shared memory`},
		{"defect_missing_barrier", 2, `data race .* on shared memory|read of uninitialised shared memory`},
		{"defect_warp_unsynced", 2, `data race .* on shared memory`},
		{"defect_uninit_shared", 2, `read of uninitialised shared memory`},
		{"defect_shared_across_blocks", 3, `read of uninitialised shared memory`},
		{"defect_shfl_outside_mask", 1, `reads lane 1[6-9]|reads lane 2[0-9]|reads lane 3[01]`},
		{"defect_shfl_caller_outside_mask", 1, `mask 0x0000ffff, which excludes it`},
		{"defect_shfl_exited_lanes", 1, `names lane \d+, which has exited`},
		{"defect_barrier_after_exit", 1, `reached by 128 of 256 threads; the others have exited`},
		{"defect_barrier_divergent", 1, `wait at different barriers`},
		{"defect_block_race_write", 4, `data race \(write after write\) on allocation .* of block .* \(blocks of one launch run in any order\)`},
		{"defect_block_race_read", 4, `data race .* of block .* \(blocks of one launch run in any order\)`},
		{"defect_global_race", 1, `data race \(write after write\) on allocation`},
		{"defect_uninit_global", 1, `read of uninitialised allocation #\d+ \(1024 bytes\)`},
		{"defect_out_of_bounds", 1, `read of allocation #\d+ \(1024 bytes\), byte 1024 .* outside every live allocation`},
	}
	for _, c := range cases {
		t.Run(c.kernel, func(t *testing.T) {
			seed := testSeed(t)
			withEmuOptions(t, emuOptions{Seed: seed, Check: true, Preempt: 8}, func() {
				_, err := defectRun(t, c.kernel, c.blocks, randomInput(seed, c.blocks*threads))
				if err == nil {
					t.Fatalf("seed %d: the emulator did not report the defect of %s", seed, c.kernel)
				}
				t.Log(err)
				if !regexp.MustCompile(c.want).MatchString(err.Error()) {
					t.Errorf("seed %d: error %q does not match %q", seed, err, c.want)
				}
				if !regexp.MustCompile(`RETLAB_EMU_SEED=\d+`).MatchString(err.Error()) {
					t.Errorf("the error does not name the seed: %q", err)
				}
			})
		})
	}
}

// blockMax is the maximum of each block of 256 inputs: the right answer of
// defect_shared_race and defect_none_max.
func blockMax(x []float32) []float32 {
	m := make([]float32, len(x)/threads)
	for b := range m {
		m[b] = float32(math.Inf(-1))
		for _, v := range x[b*threads : (b+1)*threads] {
			m[b] = max(m[b], v)
		}
	}
	return m
}

// The correct reduction passes the checks and is right, under any schedule.
func TestEmuPassesCorrectReduction(t *testing.T) {
	seed := testSeed(t)
	for s := seed; s < seed+4; s++ {
		withEmuOptions(t, emuOptions{Seed: s, Check: true, Preempt: 2}, func() {
			x := randomInput(s, 3*threads)
			out, err := defectRun(t, "defect_none_max", 3, x)
			if err != nil {
				t.Fatalf("seed %d: %v", s, err)
			}
			for b, want := range blockMax(x) {
				if out[b] != want {
					t.Errorf("seed %d: block %d max %g, want %g", s, b, out[b], want)
				}
			}
		})
	}
}

// With the checks off, the schedule alone makes the data-corrupting
// defects give wrong results: threads interleaved inside a phase (lost
// updates), blocks in a random order, NaN in fresh shared memory.
func TestEmuWrongResultsWithoutChecks(t *testing.T) {
	seed := testSeed(t)
	const blocks, tries = 4, 8
	type check func(x, out []float32) bool // reports a right result
	cases := []struct {
		kernel string
		right  check
		always bool // wrong under every schedule (poisoned shared memory), not just some
	}{
		{"defect_shared_race", func(x, out []float32) bool {
			for b, want := range blockMax(x) {
				if out[b] != want {
					return false
				}
			}
			return true
		}, false},
		{"defect_missing_barrier", func(x, out []float32) bool {
			for i := range out {
				if out[i] != x[i/threads*threads+(i+1)%threads] {
					return false
				}
			}
			return true
		}, false},
		{"defect_block_race_read", func(x, out []float32) bool {
			sum := float32(0)
			for b := 0; b < blocks; b++ {
				sum += x[b]
				if out[b] != sum {
					return false
				}
			}
			return true
		}, false},
		{"defect_uninit_shared", func(x, out []float32) bool { return !math.IsNaN(float64(out[254])) }, true},
		{"defect_shared_across_blocks", func(x, out []float32) bool {
			return !math.IsNaN(float64(out[threads])) && !math.IsNaN(float64(out[3*threads]))
		}, true},
	}
	for _, c := range cases {
		t.Run(c.kernel, func(t *testing.T) {
			wrong := 0
			for s := seed; s < seed+tries; s++ {
				withEmuOptions(t, emuOptions{Seed: s, Check: false, Preempt: 4}, func() {
					x := randomInput(s, blocks*threads)
					out, err := defectRun(t, c.kernel, blocks, x)
					if err != nil {
						t.Fatalf("seed %d: %v", s, err)
					}
					if !c.right(x, out) {
						wrong++
					} else if c.always {
						t.Errorf("seed %d: %s gave the right result from poisoned shared memory", s, c.kernel)
					}
				})
			}
			t.Logf("%s: wrong result under %d of %d schedules (seeds %d..%d)", c.kernel, wrong, tries, seed, seed+tries-1)
			if wrong == 0 {
				t.Errorf("seeds %d..%d: %s gave the right result under every schedule", seed, seed+tries-1, c.kernel)
			}
		})
	}
}
