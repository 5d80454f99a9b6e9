// emu_rt.h: the C interface between the emulator's runtime (../emu_rt.c,
// plain C, not instrumented) and the kernel code compiled as C++ with
// -fsanitize=thread (cuda_emu.h, ../emu.cc), whose every load and store of
// memory calls one of the runtime's __tsan_* hooks.
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    unsigned int x, y, z;
} uint3;
typedef struct {
    unsigned int x, y, z;
} dim3;

// Warp operations (emu_warp's op).
enum { EMU_SHFL_XOR, EMU_SHFL_IDX, EMU_SHFL_DOWN, EMU_SHFL_UP, EMU_SYNCWARP };

extern uint3 emu_blockIdx;
extern dim3 emu_blockDim, emu_gridDim;
const uint3* emu_thread_idx(void);
// emu_syncthreads is __syncthreads; site names the call ("file:line").
void emu_syncthreads(const char* site);
// emu_warp is a warp operation over the lanes of mask: a shuffle of a
// 64-bit payload or __syncwarp.
uint64_t emu_warp(uint64_t bits, int op, int arg, unsigned mask, int width, const char* site);

// emu_run runs fn(arg) as every thread of every block of the grid, blocks
// in a random order. It returns 0, or -1 with a message in err.
int emu_run(const char* kernel, int gx, int gy, int gz, int bx, int by, int bz, void (*fn)(void*), void* arg,
            char* err, int errlen);

#ifdef __cplusplus
}
#endif
