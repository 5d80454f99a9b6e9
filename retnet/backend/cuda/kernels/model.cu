// The elementwise and row kernels a RetNet language model needs around
// retention (package retnet/backend/cuda/lm): embedding lookup, RMSNorm
// with weight, the GLU activation, the residual update. Each mirrors the
// CPU arithmetic of retnet (model.go, rmsnorm.go, activation.go): the same
// float32 products, double where the CPU uses float64.
#include "common.cuh"

// lm_embed: x[i] = scale * E[tokens[i]] for N rows of width D (retnet
// ModelOf.forward). Grid x = ceil(N*D / RL_THREADS).
extern "C" __global__ void __launch_bounds__(RL_THREADS)
lm_embed(float* __restrict__ x, const float* __restrict__ E, const int* __restrict__ tokens, int N, int D,
         float scale) {
    const long long e = (long long)blockIdx.x * RL_THREADS + threadIdx.x;
    if (e >= (long long)N * D) return;
    const int i = (int)(e / D), j = (int)(e % D);
    x[e] = scale * E[(size_t)tokens[i] * D + j];
}

// lm_rmsnorm: out = x / sqrt(mean(x^2) + eps) (.) w per row of width C
// (retnet.RMSNormForward with a weight; the sum of squares in double).
// One warp per row; grid x = ceil(N / RL_REC_ROWS).
extern "C" __global__ void __launch_bounds__(RL_THREADS)
lm_rmsnorm(float* __restrict__ out, const float* __restrict__ x, const float* __restrict__ w, int N, int C,
           double eps) {
    const int lane = threadIdx.x & 31;
    const long long row = (long long)blockIdx.x * RL_REC_ROWS + (threadIdx.x >> 5);
    if (row >= N) return;  // whole warp
    const float* xr = x + (size_t)row * C;
    float* outr = out + (size_t)row * C;
    double ss = 0.0;
    for (int j = lane; j < C; j += 32) {
        double t = (double)xr[j];
        ss += t * t;
    }
    ss = rl_sum32d(ss);
    const float r = (float)(1.0 / sqrt(ss / (double)C + eps));
    for (int j = lane; j < C; j += 32) outr[j] = xr[j] * r * w[j];
}

// lm_glu: act = f(a) (.) g with f = silu (gelu = 0) or exact gelu (gelu = 1),
// evaluated in double as retnet's activation.go does. Grid x = ceil(n / RL_THREADS).
extern "C" __global__ void __launch_bounds__(RL_THREADS)
lm_glu(float* __restrict__ act, const float* __restrict__ a, const float* __restrict__ g, long long n, int gelu) {
    const long long i = (long long)blockIdx.x * RL_THREADS + threadIdx.x;
    if (i >= n) return;
    const double x = (double)a[i];
    const float f = gelu ? (float)(0.5 * x * (1.0 + erf(x * 0.70710678118654752440))) : (float)(x / (1.0 + exp(-x)));
    act[i] = f * g[i];
}

// lm_axpy: y += alpha x (retnet addScaled, the residual connection).
extern "C" __global__ void __launch_bounds__(RL_THREADS)
lm_axpy(float* __restrict__ y, const float* __restrict__ x, float alpha, long long n) {
    const long long i = (long long)blockIdx.x * RL_THREADS + threadIdx.x;
    if (i >= n) return;
    y[i] += alpha * x[i];
}
