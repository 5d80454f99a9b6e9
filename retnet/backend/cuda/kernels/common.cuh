// Shared by every kernel file: tile sizes and small device helpers.
//
// The tile sizes are mirrored in ../launch.go (launch_test.go parses this file
// and checks both agree), which turns a shape into grid and block sizes.
// Every kernel runs blocks of RL_THREADS threads and uses only static shared
// memory (< 48 KiB), so no launch needs a shared-memory attribute.
//
// Layouts (row-major, float32): q, k (B,T,H*dk), v, o (B,T,H*dv): head h of
// token t of sequence b is q[((b*T + t)*H + h)*dk + d]. Offsets are size_t:
// products like B*T*H*dv overflow int for long sequences.
//
// The same source compiles as C++ for the CPU emulator (../emu/cuda_emu.h),
// so it uses nothing the emulator does not provide: no dynamic shared
// memory, no warp-synchronous code without __shfl_*_sync / __syncthreads.
#pragma once

#define RL_THREADS 256   // threads per block, every kernel
#define RL_BM 64         // query rows per block: parallel form, chunk scores, chunk output
#define RL_BN 64         // key columns per score tile (== RL_BM: tiles align on the diagonal)
#define RL_BD 32         // dk columns per shared-memory slab of a score tile
#define RL_DVT 128       // value columns per block: parallel form
#define RL_ODVT 256      // value columns per block: chunk output (8x8 results per thread)
#define RL_BK 32         // keys (or state rows) per shared-memory slab of an output product
#define RL_ST 64         // state tile (dk rows x dv columns) of the chunk state pass
#define RL_SJ 16         // tokens per shared-memory slab of the chunk state pass
#define RL_REC_ROWS 8    // state rows (one warp each) per block of the recurrent step
#define GEMM_BM 64       // rows of C per block
#define GEMM_BN 64       // columns of C per block
#define GEMM_BK 16       // k per shared-memory slab

#define RL_FULL 0xffffffffu
#define RL_POW (RL_BM + 1)  // powers gamma^0 .. gamma^RL_BM per head in the chunk tables

static __device__ __forceinline__ int rl_min(int a, int b) { return a < b ? a : b; }

// Sum over the 16 lanes that share lane>>4 (a half warp).
static __device__ __forceinline__ float rl_sum16(float x) {
    x += __shfl_xor_sync(RL_FULL, x, 8);
    x += __shfl_xor_sync(RL_FULL, x, 4);
    x += __shfl_xor_sync(RL_FULL, x, 2);
    x += __shfl_xor_sync(RL_FULL, x, 1);
    return x;
}

// Sum over the 32 lanes of a warp.
static __device__ __forceinline__ float rl_sum32(float x) {
    x += __shfl_xor_sync(RL_FULL, x, 16);
    return rl_sum16(x);
}

static __device__ __forceinline__ double rl_sum32d(double x) {
    x += __shfl_xor_sync(RL_FULL, x, 16);
    x += __shfl_xor_sync(RL_FULL, x, 8);
    x += __shfl_xor_sync(RL_FULL, x, 4);
    x += __shfl_xor_sync(RL_FULL, x, 2);
    x += __shfl_xor_sync(RL_FULL, x, 1);
    return x;
}
