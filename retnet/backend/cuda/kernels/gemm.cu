// General matrix product in float32 for the backend's Sgemm (cpu.Sgemm's
// semantics): C = alpha op(A) op(B) + beta C, row-major C (m,n) with row
// stride ldc. op(A)(i,p) = a[i*sai + p*sap] and op(B)(p,j) = b[p*sbp + j*sbj],
// so a transpose is only a swap of strides. beta = 0 overwrites C without
// reading it (C may hold NaN).
//
// It is the plain shared-memory tiled kernel (64x64 tile, 16-deep slabs,
// 4x4 results per thread), in full float32 (no TF32) so results match the
// CPU to float32 rounding. It is what runs where cuBLAS cannot be loaded;
// see ../cublas.go.
#include "common.cuh"

// Grid: x = column tile, y = row tile. Thread (ty, tx) owns rows ty + 16*i
// and columns tx + 16*j of the tile.
extern "C" __global__ void __launch_bounds__(RL_THREADS)
sgemm_tiled(int m, int n, int k, float alpha, const float* __restrict__ a, long long sai, long long sap,
            const float* __restrict__ b, long long sbp, long long sbj, float beta, float* __restrict__ c,
            long long ldc) {
    __shared__ float As[GEMM_BK][GEMM_BM + 4];  // As[p][i]
    __shared__ float Bs[GEMM_BK][GEMM_BN + 4];  // Bs[p][j]

    const int tid = threadIdx.x, tx = tid & 15, ty = tid >> 4;
    const int i0 = blockIdx.y * GEMM_BM, j0 = blockIdx.x * GEMM_BN;
    const bool aRowFast = sap == 1;  // consecutive p are adjacent in memory
    const bool bColFast = sbj == 1;  // consecutive j are adjacent in memory

    float acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] = 0.f;

    for (int p0 = 0; p0 < k; p0 += GEMM_BK) {
        // Each operand slab is 64 x 16 = 1024 values, 4 per thread, loaded so
        // that neighbouring threads read neighbouring addresses.
        for (int e = tid; e < GEMM_BM * GEMM_BK; e += RL_THREADS) {
            int i, p;
            if (aRowFast) {
                i = e / GEMM_BK;
                p = e % GEMM_BK;
            } else {
                i = e % GEMM_BM;
                p = e / GEMM_BM;
            }
            int gi = i0 + i, gp = p0 + p;
            As[p][i] = (gi < m && gp < k) ? a[(long long)gi * sai + (long long)gp * sap] : 0.f;
        }
        for (int e = tid; e < GEMM_BN * GEMM_BK; e += RL_THREADS) {
            int j, p;
            if (bColFast) {
                j = e % GEMM_BN;
                p = e / GEMM_BN;
            } else {
                j = e / GEMM_BK;
                p = e % GEMM_BK;
            }
            int gj = j0 + j, gp = p0 + p;
            Bs[p][j] = (gj < n && gp < k) ? b[(long long)gp * sbp + (long long)gj * sbj] : 0.f;
        }
        __syncthreads();
#pragma unroll
        for (int p = 0; p < GEMM_BK; p++) {
            float x[4], y[4];
#pragma unroll
            for (int i = 0; i < 4; i++) x[i] = As[p][ty + 16 * i];
#pragma unroll
            for (int j = 0; j < 4; j++) y[j] = Bs[p][tx + 16 * j];
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] = fmaf(x[i], y[j], acc[i][j]);
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
        int gi = i0 + ty + 16 * i;
        if (gi >= m) continue;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int gj = j0 + tx + 16 * j;
            if (gj >= n) continue;
            float* cp = c + (long long)gi * ldc + gj;
            float r = alpha * acc[i][j];
            if (beta != 0.f) r += beta * *cp;
            *cp = r;
        }
    }
}
