package cuda

import (
	"fmt"

	"github.com/retlab/retlab/retnet/backend"
)

// Tile sizes of the kernels: the #defines of kernels/common.cuh, which
// launch_test.go checks these against. They fix the grid of every launch.
const (
	threads  = 256 // RL_THREADS
	tileM    = 64  // RL_BM: query rows per block
	tileN    = 64  // RL_BN: key columns per score tile
	tileD    = 32  // RL_BD: dk slab
	tileDV   = 128 // RL_DVT: value columns per block (parallel form)
	tileODV  = 256 // RL_ODVT: value columns per block (chunk output)
	powLen   = 65  // RL_POW: gamma^0..gamma^64 per head in the chunk tables
	tileK    = 32  // RL_BK: keys or state rows per value slab
	tileS    = 64  // RL_ST: chunk state tile (dk and dv)
	tileSJ   = 16  // RL_SJ: tokens per state-pass slab
	recRows  = 8   // RL_REC_ROWS: state rows (warps) per recurrent-step block
	gemmM    = 64  // GEMM_BM
	gemmN    = 64  // GEMM_BN
	gemmK    = 16  // GEMM_BK
	maxGridY = 65535
	maxGridZ = 65535
	maxGridX = 1<<31 - 1
)

// kernelNames lists every kernel the host code launches; each must be an
// entry of the committed PTX and of the emulator's table (launch_test.go).
var kernelNames = []string{
	"ret_parallel", "ret_chunk_state", "ret_chunk_scores", "ret_chunk_output",
	"ret_recurrent_step", "ret_rotate", "ret_groupnorm_gate", "sgemm_tiled",
	"lm_embed", "lm_rmsnorm", "lm_glu", "lm_axpy",
}

// launchCfg is the geometry of one kernel launch.
type launchCfg struct {
	Grid  [3]int
	Block [3]int
	Smem  int // dynamic shared memory bytes; the kernels use static shared memory only
}

func cdiv(a, b int) int { return (a + b - 1) / b }

// check returns an error naming kernel if the grid exceeds the hardware
// limits (a shape too large for this launch scheme) or is empty.
func (l launchCfg) check(kernel string) error {
	g := l.Grid
	if g[0] < 1 || g[1] < 1 || g[2] < 1 {
		return fmt.Errorf("cuda: %s: empty grid %v", kernel, g)
	}
	if g[0] > maxGridX || g[1] > maxGridY || g[2] > maxGridZ {
		return fmt.Errorf("cuda: %s: grid %v exceeds the limits (%d, %d, %d)", kernel, g, maxGridX, maxGridY, maxGridZ)
	}
	return nil
}

func grid(x, y, z int) launchCfg {
	return launchCfg{Grid: [3]int{x, y, z}, Block: [3]int{threads, 1, 1}}
}

// parallelLaunch: one block per (query tile, value tile, sequence*head).
func parallelLaunch(s backend.Shape) launchCfg {
	return grid(cdiv(s.T, tileM), cdiv(s.Dv, tileDV), s.B*s.H)
}

// chunkGeom is the chunk bookkeeping of the chunkwise form.
type chunkGeom struct {
	C             int // chunk size (capped at T)
	NChunks       int // ceil(T/C)
	TilesPerChunk int // ceil(C/64) row tiles per chunk
	NDkTiles      int // ceil(dk/64) state tiles along dk
}

func newChunkGeom(s backend.Shape, C int) chunkGeom {
	C = min(C, s.T)
	return chunkGeom{C: C, NChunks: cdiv(s.T, C), TilesPerChunk: cdiv(C, tileM), NDkTiles: cdiv(s.Dk, tileS)}
}

// chunkStateLaunch: one block per 64x64 state tile and sequence*head; each
// walks all chunks in order.
func chunkStateLaunch(s backend.Shape, g chunkGeom) launchCfg {
	return grid(cdiv(s.Dv, tileS), g.NDkTiles, s.B*s.H)
}

// chunkScoresLaunch: one block per (chunk, row tile) and sequence*head.
func chunkScoresLaunch(s backend.Shape, g chunkGeom) launchCfg {
	return grid(g.NChunks*g.TilesPerChunk, s.B*s.H, 1)
}

// chunkOutputLaunch: one block per (chunk, row tile), value tile and
// sequence*head.
func chunkOutputLaunch(s backend.Shape, g chunkGeom) launchCfg {
	return grid(g.NChunks*g.TilesPerChunk, cdiv(s.Dv, tileODV), s.B*s.H)
}

// NSub is the number of sub-chunks (64-row tiles aligned to the chunk
// starts), some empty in a ragged last chunk: the states R are kept per
// sub-chunk.
func (g chunkGeom) NSub() int { return g.NChunks * g.TilesPerChunk }

// needsState reports whether the state pass must run: whenever the first
// sub-chunk does not cover the whole sequence.
func (g chunkGeom) needsState(T int) bool { return min(tileM, g.C) < T }

// chunkScratch is the float count of each device scratch buffer of the
// chunkwise form: R (B*H, nSub, dk, dv) sub-chunk-start states, colsum
// (B*H, nChunks, nDkTiles, dv), A (B*H, T, 64) diagonal score tiles, ascale
// (B*H, T), and the per-head tables: inv (H*C), pow (H*65), invSC (H).
type chunkScratch struct {
	R, Colsum, A, AScale, Tables int
}

func newChunkScratch(s backend.Shape, g chunkGeom) chunkScratch {
	bh := s.B * s.H
	return chunkScratch{
		R:      bh * g.NSub() * s.Dk * s.Dv,
		Colsum: bh * g.NChunks * g.NDkTiles * s.Dv,
		A:      bh * s.T * tileN,
		AScale: bh * s.T,
		Tables: s.H * (g.C + powLen + 1),
	}
}

// Bytes is the device memory the scratch takes.
func (c chunkScratch) Bytes() int64 {
	return 4 * int64(c.R+c.Colsum+c.A+c.AScale+c.Tables)
}

// recurrentLaunch: one warp per state row (b, h, j), recRows per block.
func recurrentLaunch(B, H, Dv int) launchCfg {
	return grid(cdiv(B*H*Dv, recRows), 1, 1)
}

// rotateLaunch: one thread per (row, head, pair).
func rotateLaunch(rows, H, Dk int) launchCfg {
	return grid(cdiv(rows*H*Dk/2, threads), 1, 1)
}

// groupNormLaunch: one warp per (row, head).
func groupNormLaunch(N, H int) launchCfg {
	return grid(cdiv(N*H, recRows), 1, 1)
}

// elemLaunch: one thread per element.
func elemLaunch(n int) launchCfg { return grid(cdiv(n, threads), 1, 1) }

// rowLaunch: one warp per row.
func rowLaunch(rows int) launchCfg { return grid(cdiv(rows, recRows), 1, 1) }

// gemmLaunch: one block per 64x64 tile of C.
func gemmLaunch(m, n int) launchCfg {
	return grid(cdiv(n, gemmN), cdiv(m, gemmM), 1)
}

// gemmStrides maps a row-major op(X) with leading dimension ld to the
// element strides the sgemm kernel takes: op(A)(i,p) = a[i*si + p*sp].
func gemmStrides(trans bool, ld int) (si, sp int64) {
	if trans {
		return 1, int64(ld)
	}
	return int64(ld), 1
}
