// cuda_emu.h: just enough of CUDA C++ to compile this package's kernels
// (../kernels/*.cu) as ordinary C++ and run them on the CPU, for tests on
// machines without a GPU (build tag cudaemu, see ../emu.go, ../emu_rt.c).
//
// Every thread of a block is a fiber (ucontext) on one OS thread. The
// kernel code is compiled with -fsanitize=thread, which makes every load
// and store call the runtime, so the emulator sees each access to shared
// and device memory. With that it
//
//   - interleaves the threads of a barrier phase: at a random point (an
//     access to shared memory, a store to device memory) a thread yields to
//     another, so a data race inside a phase gives a wrong result;
//   - detects data races: two threads of a block touching one word of
//     shared or device memory in the same phase (no __syncthreads or warp
//     operation between), one of them writing; and two blocks of a launch
//     touching one word of device memory, one writing (blocks run in a
//     random order and there is no grid-wide barrier);
//   - poisons __shared__ with NaN for every block and reports a read of a
//     shared word the block has not written, or of device memory nothing
//     has written (allocations are NaN-filled), or outside an allocation;
//   - honours the masks and widths of __shfl_*_sync and __syncwarp: a lane
//     outside the mask calling, reading a lane outside the mask, or a mask
//     naming a lane that exited or waits elsewhere is an error;
//   - releases a __syncthreads only when every thread of the block waits at
//     that same call: a thread that exited or waits at another barrier is
//     an error (a barrier in divergent code).
//
// __shared__ variables are function statics in a section of their own
// (emu_shared), one copy used by one block at a time. It checks what the
// kernels do, not how fast: no timing, and no memory model beyond "a
// barrier or warp operation orders everything before it".
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "emu_rt.h"

struct alignas(16) float4 {
    float x, y, z, w;
};

#define threadIdx (*emu_thread_idx())
#define blockIdx emu_blockIdx
#define blockDim emu_blockDim
#define gridDim emu_gridDim
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static __attribute__((section("emu_shared")))
#define __restrict__ __restrict
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))

#define EMU_STR2(x) #x
#define EMU_STR(x) EMU_STR2(x)
#define EMU_SITE __FILE__ ":" EMU_STR(__LINE__)
#define __syncthreads() emu_syncthreads(EMU_SITE)
#define __syncwarp(...) emu_syncwarp(EMU_SITE, ##__VA_ARGS__)

inline void emu_syncwarp(const char* site, unsigned mask = 0xffffffffu) { emu_warp(0, EMU_SYNCWARP, 0, mask, 32, site); }

template <class T>
inline T emu_shfl(T v, int op, int arg, unsigned mask, int width, const char* site) {
    static_assert(sizeof(T) <= 8, "shuffle payload");
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof v);
    bits = emu_warp(bits, op, arg, mask, width, site);
    T r;
    std::memcpy(&r, &bits, sizeof r);
    return r;
}
#define __shfl_xor_sync(mask, v, laneMask, ...) emu_shfl_w(v, EMU_SHFL_XOR, laneMask, mask, EMU_SITE, ##__VA_ARGS__)
#define __shfl_sync(mask, v, srcLane, ...) emu_shfl_w(v, EMU_SHFL_IDX, srcLane, mask, EMU_SITE, ##__VA_ARGS__)
#define __shfl_down_sync(mask, v, delta, ...) emu_shfl_w(v, EMU_SHFL_DOWN, (int)(delta), mask, EMU_SITE, ##__VA_ARGS__)
#define __shfl_up_sync(mask, v, delta, ...) emu_shfl_w(v, EMU_SHFL_UP, (int)(delta), mask, EMU_SITE, ##__VA_ARGS__)
template <class T>
inline T emu_shfl_w(T v, int op, int arg, unsigned mask, const char* site, int width = 32) {
    return emu_shfl(v, op, arg, mask, width, site);
}

inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
