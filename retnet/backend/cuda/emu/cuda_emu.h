// cuda_emu.h: just enough of CUDA C++ to compile this package's kernels
// (../kernels/*.cu) as ordinary C++ and run them on the CPU, for tests on
// machines without a GPU (build tag cudaemu, see ../emu.go).
//
// Every thread of a block is a fiber (ucontext) on one OS thread. Fibers run
// until they reach __syncthreads or a warp operation (__shfl_*_sync,
// __syncwarp); the scheduler releases a barrier when every live thread of
// the block (of the warp) has reached it, and runs the fibers of each phase
// in a random order, so a missing barrier shows up as a wrong result.
// __shared__ variables become function statics: one copy, shared by the
// fibers of the block, blocks run one after another. Device memory is host
// memory from emu_alloc (filled with NaN, a guard page behind it).
//
// It checks what the kernels do, not how fast: no timing, no memory model
// beyond "a barrier orders everything".
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

struct uint3 {
    unsigned int x, y, z;
};
struct dim3 {
    unsigned int x, y, z;
};
struct alignas(16) float4 {
    float x, y, z, w;
};

namespace emu {
extern uint3 blockIdx_;
extern dim3 blockDim_, gridDim_;
const uint3& thread_idx();
void syncthreads();
// Warp exchange of 64-bit payloads: op 0 = xor lane mask, 1 = from lane, 2 = down by delta.
uint64_t shfl(uint64_t bits, int op, int arg);
}  // namespace emu

#define threadIdx (emu::thread_idx())
#define blockIdx (emu::blockIdx_)
#define blockDim (emu::blockDim_)
#define gridDim (emu::gridDim_)
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define __restrict__ __restrict
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))

inline void __syncthreads() { emu::syncthreads(); }
inline void __syncwarp(unsigned = 0xffffffffu) { emu::shfl(0, 0, 0); }

template <class T>
inline T emu_shfl(T v, int op, int arg) {
    static_assert(sizeof(T) <= 8, "shuffle payload");
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof v);
    bits = emu::shfl(bits, op, arg);
    T r;
    std::memcpy(&r, &bits, sizeof r);
    return r;
}
template <class T>
inline T __shfl_xor_sync(unsigned, T v, int laneMask, int = 32) { return emu_shfl(v, 0, laneMask); }
template <class T>
inline T __shfl_sync(unsigned, T v, int srcLane, int = 32) { return emu_shfl(v, 1, srcLane); }
template <class T>
inline T __shfl_down_sync(unsigned, T v, unsigned delta, int = 32) { return emu_shfl(v, 2, (int)delta); }

inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
