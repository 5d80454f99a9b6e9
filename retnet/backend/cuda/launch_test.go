package cuda

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/retnet/backend"
)

// The Go tile constants are the #defines of kernels/common.cuh.
func TestTileConstantsMatchHeader(t *testing.T) {
	src, err := os.ReadFile("kernels/common.cuh")
	if err != nil {
		t.Fatal(err)
	}
	defs := map[string]int{}
	for _, m := range regexp.MustCompile(`(?m)^#define (\w+) (\d+)`).FindAllStringSubmatch(string(src), -1) {
		v, _ := strconv.Atoi(m[2])
		defs[m[1]] = v
	}
	for name, goVal := range map[string]int{
		"RL_THREADS": threads, "RL_BM": tileM, "RL_BN": tileN, "RL_BD": tileD, "RL_DVT": tileDV, "RL_ODVT": tileODV, "RL_BK": tileK,
		"RL_ST": tileS, "RL_SJ": tileSJ, "RL_REC_ROWS": recRows, "GEMM_BM": gemmM, "GEMM_BN": gemmN, "GEMM_BK": gemmK,
	} {
		if v, ok := defs[name]; !ok || v != goVal {
			t.Errorf("%s: common.cuh has %d (found %v), launch.go %d", name, v, ok, goVal)
		}
	}
	// The kernels rely on these relations.
	if tileM != tileN || threads != 256 || tileM*tileD%threads != 0 || tileK*tileDV > 2*tileM*(tileD+1) {
		t.Error("tile relations the kernels assume do not hold (see kernels/common.cuh)")
	}
}

// The committed PTX was generated from the current sources (CI has no nvcc:
// run `go generate ./retnet/backend/cuda` where nvcc is installed).
func TestPTXUpToDate(t *testing.T) {
	sum, err := os.ReadFile("kernels/ptx.sum")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(sum)), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 {
			listed[f[1]] = f[0]
		}
	}
	srcs, _ := filepath.Glob("kernels/*.cu")
	hdrs, _ := filepath.Glob("kernels/*.cuh")
	for _, p := range append(srcs, hdrs...) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(data)
		if got := hex.EncodeToString(h[:]); listed[filepath.Base(p)] != got {
			t.Errorf("%s changed since its PTX was generated: run go generate ./retnet/backend/cuda (needs nvcc)", p)
		}
		if strings.HasSuffix(p, ".cu") {
			if _, err := os.Stat(strings.TrimSuffix(p, ".cu") + ".ptx"); err != nil {
				t.Errorf("%s has no PTX: %v", p, err)
			}
		}
	}
}

// kernelResources parses kernels/resources.txt: registers and static shared
// memory per kernel for sm_90, as ptxas reported them.
func kernelResources(t *testing.T) map[string][2]int {
	data, err := os.ReadFile("kernels/resources.txt")
	if err != nil {
		t.Fatal(err)
	}
	res := map[string][2]int{}
	var cur string
	entry := regexp.MustCompile(`Compiling entry function '(\w+)'`)
	used := regexp.MustCompile(`Used (\d+) registers(?:, (\d+) bytes smem)?`)
	for _, line := range strings.Split(string(data), "\n") {
		if m := entry.FindStringSubmatch(line); m != nil {
			cur = m[1]
		}
		if m := used.FindStringSubmatch(line); m != nil && cur != "" {
			r, _ := strconv.Atoi(m[1])
			s, _ := strconv.Atoi(m[2])
			res[cur] = [2]int{r, s}
		}
	}
	return res
}

// Every kernel the host launches exists in the PTX and the emulator, and
// fits a 256-thread block on sm_90: registers*256 <= 64Ki, static shared
// memory <= 48 KiB (no opt-in attribute needed), at least one block per SM.
func TestKernelsFitTheirLaunches(t *testing.T) {
	res := kernelResources(t)
	var ptx strings.Builder
	for _, f := range []string{"kernels/retention.ptx", "kernels/gemm.ptx", "kernels/model.ptx"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ptx.Write(data)
	}
	emu, err := os.ReadFile("emu.cc")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kernelNames {
		if !strings.Contains(ptx.String(), ".entry "+k+"(") {
			t.Errorf("kernel %s is not an entry of the PTX", k)
		}
		if !strings.Contains(string(emu), "EMU_KERNEL("+k+")") {
			t.Errorf("kernel %s is missing from the emulator's table (emu.cc)", k)
		}
		r, ok := res[k]
		if !ok {
			t.Errorf("kernel %s missing from kernels/resources.txt", k)
			continue
		}
		if r[0]*threads > 65536 || r[1] > 48<<10 {
			t.Errorf("kernel %s: %d registers x %d threads, %d bytes shared memory: does not fit an SM", k, r[0], threads, r[1])
		}
		t.Logf("%-20s %3d registers %6d bytes smem -> %d blocks/SM by registers", k, r[0], r[1], 65536/(max(r[0], 1)*threads))
	}
}

func TestLaunchGeometry(t *testing.T) {
	shapes := []backend.Shape{
		{B: 1, T: 1, H: 1, Dk: 1, Dv: 1},
		{B: 2, T: 37, H: 3, Dk: 8, Dv: 6},
		{B: 1, T: 8192, H: 8, Dk: 256, Dv: 512},
		{B: 64, T: 1, H: 8, Dk: 256, Dv: 512},
		{B: 3, T: 200, H: 2, Dk: 72, Dv: 129},
	}
	covers := func(name string, blocks, tile, n int) {
		t.Helper()
		if blocks*tile < n || (blocks-1)*tile >= n {
			t.Errorf("%s: %d blocks of %d for %d", name, blocks, tile, n)
		}
	}
	for _, s := range shapes {
		p := parallelLaunch(s)
		covers("parallel rows", p.Grid[0], tileM, s.T)
		covers("parallel cols", p.Grid[1], tileDV, s.Dv)
		if p.Grid[2] != s.B*s.H || p.Block != [3]int{threads, 1, 1} || p.check("p") != nil {
			t.Errorf("%+v: parallel launch %+v", s, p)
		}
		for _, C := range []int{1, 5, 64, 100, 512, 100000} {
			g := newChunkGeom(s, C)
			if g.C > s.T || g.C < 1 || g.NChunks*g.C < s.T || (g.NChunks-1)*g.C >= s.T {
				t.Errorf("%+v chunk %d: geometry %+v", s, C, g)
			}
			covers("chunk row tiles", g.TilesPerChunk, tileM, g.C)
			covers("dk tiles", g.NDkTiles, tileS, s.Dk)
			st := chunkStateLaunch(s, g)
			covers("state dv tiles", st.Grid[0], tileS, s.Dv)
			if st.Grid[1] != g.NDkTiles || st.Grid[2] != s.B*s.H {
				t.Errorf("%+v: state launch %+v", s, st)
			}
			if sc := chunkScoresLaunch(s, g); sc.Grid[0] != g.NChunks*g.TilesPerChunk || sc.Grid[1] != s.B*s.H {
				t.Errorf("%+v: scores launch %+v", s, sc)
			}
			out := chunkOutputLaunch(s, g)
			covers("output cols", out.Grid[1], tileODV, s.Dv)
		}
		r := recurrentLaunch(s.B, s.H, s.Dv)
		covers("recurrent rows", r.Grid[0], recRows, s.B*s.H*s.Dv)
	}
	if err := grid(1, 1, 70000).check("k"); err == nil {
		t.Error("a grid of 70000 in z passed the limit check")
	}
	if err := parallelLaunch(backend.Shape{B: 70000, T: 1, H: 1, Dk: 1, Dv: 1}).check("ret_parallel"); err == nil {
		t.Error("B*H > 65535 must be reported")
	}
}

// The scratch of the goal shape of issue 8 (B=1, T=8192, H=8, dk=256,
// dv=512): R, a state per 64-token sub-chunk, dominates: 8*128*256*512
// floats = 512 MiB at any chunk size that is a multiple of 64.
func TestChunkScratchSize(t *testing.T) {
	s := backend.Shape{B: 1, T: 8192, H: 8, Dk: 256, Dv: 512}
	for _, C := range []int{64, 512} {
		g := newChunkGeom(s, C)
		sz := newChunkScratch(s, g)
		if g.NSub() != 128 || sz.R != 8*128*256*512 || sz.A != 8*8192*64 || sz.Colsum != 8*(8192/C)*4*512 || sz.Tables != 8*(C+66) {
			t.Errorf("C=%d: scratch %+v", C, sz)
		}
		t.Logf("goal shape, chunk %d: %.1f MiB of scratch", C, float64(sz.Bytes())/(1<<20))
	}
	if g := newChunkGeom(backend.Shape{B: 1, T: 64, H: 1, Dk: 1, Dv: 1}, 512); g.needsState(64) {
		t.Error("one sub-chunk covering T needs no state pass")
	}
	if g := newChunkGeom(backend.Shape{B: 1, T: 65, H: 1, Dk: 1, Dv: 1}, 512); !g.needsState(65) {
		t.Error("two sub-chunks need the state pass")
	}
}

// chunkTables rounds exactly as retnet's DecayTable does.
func TestChunkTablesMatchRetnet(t *testing.T) {
	lg := retnet.LogGammas(retnet.ScheduleTorchscale, 4)
	lg[3] = 0
	for _, C := range []int{1, 7, 64, 512} {
		tab := chunkTables(lg, 4, C)
		for h := 0; h < 4; h++ {
			dt := retnet.NewDecayTable[float32](lg[h], max(C, powLen))
			var SC float64
			for j := 0; j < C; j++ {
				SC += float64(dt.Pow[j])
			}
			for i := 0; i < C; i++ {
				if tab[h*C+i] != dt.InvSqrtCum[i] {
					t.Fatalf("C=%d h=%d inv[%d] = %g, want %g", C, h, i, tab[h*C+i], dt.InvSqrtCum[i])
				}
			}
			for d := 0; d < powLen; d++ {
				if got := tab[4*C+h*powLen+d]; got != dt.Pow[d] {
					t.Fatalf("C=%d h=%d pow[%d] = %g, want %g", C, h, d, got, dt.Pow[d])
				}
			}
			if got, want := tab[4*(C+powLen)+h], float32(1/SC); got != want {
				t.Errorf("C=%d h=%d invSC = %g, want %g", C, h, got, want)
			}
		}
	}
	g := gammas(lg)
	for h := range g {
		if want := float32(math.Exp(float64(lg[h]))); g[h] != want {
			t.Errorf("gamma %d = %g want %g", h, g[h], want)
		}
	}
}

func TestArgEncoding(t *testing.T) {
	if argI(-1) != 0xffffffff || argI(5) != 5 {
		t.Error("int32 arguments must sit in the low 4 bytes")
	}
	if math.Float32frombits(uint32(argF(1.5))) != 1.5 || math.Float64frombits(argD(0.25)) != 0.25 {
		t.Error("float arguments")
	}
	if argOff(devPtr(1000), 3) != 1012 {
		t.Error("argOff counts floats")
	}
}
