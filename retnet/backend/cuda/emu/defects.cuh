// defects.cuh: kernels with one defect each, for the emulator's own tests
// (../emu_test.go launches every one and expects the emulator to report its
// defect, or, with the checks off, to give a wrong result). Compiled only
// into the emulator (../emu.cc), never into the PTX. Every kernel runs
// blocks of 256 threads over x and out of gridDim.x * 256 floats unless its
// comment says otherwise; i is the thread's global index.
#pragma once

#define DEFECT_I (blockIdx.x * blockDim.x + threadIdx.x)

// The race of issue 18: every thread updates one shared word in the same
// barrier phase (a read-modify-write with no barrier or atomic). out has
// one float per block.
extern "C" __global__ void defect_shared_race(const float* x, float* out) {
    __shared__ float red[1];
    if (threadIdx.x == 0) red[0] = -INFINITY;
    __syncthreads();
    red[0] = fmaxf(red[0], x[DEFECT_I]);
    __syncthreads();
    if (threadIdx.x == 0) out[blockIdx.x] = red[0];
}

// The same maximum done right (the control): a tree with a barrier per level.
extern "C" __global__ void defect_none_max(const float* x, float* out) {
    __shared__ float red[256];
    const int t = threadIdx.x;
    red[t] = x[DEFECT_I];
    __syncthreads();
    for (int off = 128; off > 0; off >>= 1) {
        if (t < off) red[t] = fmaxf(red[t], red[t + off]);
        __syncthreads();
    }
    if (t == 0) out[blockIdx.x] = red[0];
}

// A missing barrier: a thread reads its neighbour's shared word in the
// phase the neighbour writes it.
extern "C" __global__ void defect_missing_barrier(const float* x, float* out) {
    __shared__ float s[256];
    s[threadIdx.x] = x[DEFECT_I];
    out[DEFECT_I] = s[(threadIdx.x + 1) & 255];
}

// Warp-synchronous code without __syncwarp: lanes read words other lanes of
// their warp write in the same phase (no longer safe since Volta).
extern "C" __global__ void defect_warp_unsynced(const float* x, float* out) {
    __shared__ float s[256];
    const int t = threadIdx.x, lane = t & 31;
    s[t] = x[DEFECT_I];
    __syncthreads();
    if (lane < 16) s[t] += s[t + 16];
    if (lane < 8) s[t] += s[t + 8];
    out[DEFECT_I] = s[t & ~31];
}

// A read of shared memory nothing wrote: word 255 is never stored.
extern "C" __global__ void defect_uninit_shared(const float* x, float* out) {
    __shared__ float s[256];
    if (threadIdx.x < 255) s[threadIdx.x] = x[DEFECT_I];
    __syncthreads();
    out[DEFECT_I] = s[(threadIdx.x + 1) & 255];
}

// Shared memory assumed to survive from one block to the next: only block
// 0 fills it.
extern "C" __global__ void defect_shared_across_blocks(const float* x, float* out) {
    __shared__ float s[256];
    if (blockIdx.x == 0) s[threadIdx.x] = x[threadIdx.x];
    __syncthreads();
    out[DEFECT_I] = s[threadIdx.x];
}

// Half a warp shuffles with mask 0x0000ffff but reads the other half.
extern "C" __global__ void defect_shfl_outside_mask(const float* x, float* out) {
    float v = x[DEFECT_I];
    if ((threadIdx.x & 31) < 16) v = __shfl_xor_sync(0x0000ffffu, v, 16);
    out[DEFECT_I] = v;
}

// Every lane shuffles with mask 0x0000ffff: lanes 16..31 are not in it.
extern "C" __global__ void defect_shfl_caller_outside_mask(const float* x, float* out) {
    out[DEFECT_I] = __shfl_xor_sync(0x0000ffffu, x[DEFECT_I], 1);
}

// A full mask after half of the warp has exited.
extern "C" __global__ void defect_shfl_exited_lanes(const float* x, float* out) {
    if ((threadIdx.x & 31) >= 16) return;
    out[DEFECT_I] = __shfl_xor_sync(0xffffffffu, x[DEFECT_I], 1);
}

// __syncthreads after half of the block has returned.
extern "C" __global__ void defect_barrier_after_exit(const float* x, float* out) {
    __shared__ float s[128];
    if (threadIdx.x >= 128) return;
    s[threadIdx.x] = x[DEFECT_I];
    __syncthreads();
    out[DEFECT_I] = s[127 - threadIdx.x];
}

// The two halves of the block wait at different __syncthreads.
extern "C" __global__ void defect_barrier_divergent(const float* x, float* out) {
    __shared__ float s[256];
    s[threadIdx.x] = x[DEFECT_I];
    if (threadIdx.x < 128) {
        __syncthreads();
    } else {
        __syncthreads();
    }
    out[DEFECT_I] = s[255 - threadIdx.x];
}

// Blocks race on device memory: every block writes out[0].
extern "C" __global__ void defect_block_race_write(const float* x, float* out) {
    if (threadIdx.x == 0) out[0] = x[blockIdx.x];
}

// A scan that assumes blocks run in order: block b reads what block b-1
// writes in the same launch. out has one float per block.
extern "C" __global__ void defect_block_race_read(const float* x, float* out) {
    if (threadIdx.x == 0) out[blockIdx.x] = (blockIdx.x ? out[blockIdx.x - 1] : 0.f) + x[blockIdx.x];
}

// Threads of one block race on device memory: all write out[blockIdx.x].
extern "C" __global__ void defect_global_race(const float* x, float* out) { out[blockIdx.x] = x[DEFECT_I]; }

// A read of device memory nothing wrote (y is allocated, never filled).
extern "C" __global__ void defect_uninit_global(const float* x, const float* y, float* out) {
    out[DEFECT_I] = x[DEFECT_I] + y[DEFECT_I];
}

// An off-by-one read past the end of x.
extern "C" __global__ void defect_out_of_bounds(const float* x, float* out) { out[DEFECT_I] = x[DEFECT_I + 1]; }

#define EMU_DEFECT_KERNELS                                                                                    \
    EMU_KERNEL(defect_shared_race), EMU_KERNEL(defect_none_max), EMU_KERNEL(defect_missing_barrier),          \
        EMU_KERNEL(defect_warp_unsynced), EMU_KERNEL(defect_uninit_shared),                                   \
        EMU_KERNEL(defect_shared_across_blocks), EMU_KERNEL(defect_shfl_outside_mask),                        \
        EMU_KERNEL(defect_shfl_caller_outside_mask), EMU_KERNEL(defect_shfl_exited_lanes),                    \
        EMU_KERNEL(defect_barrier_after_exit), EMU_KERNEL(defect_barrier_divergent),                          \
        EMU_KERNEL(defect_block_race_write), EMU_KERNEL(defect_block_race_read), EMU_KERNEL(defect_global_race), \
        EMU_KERNEL(defect_uninit_global), EMU_KERNEL(defect_out_of_bounds),
