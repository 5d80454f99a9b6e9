// Retention kernels: the parallel form, the chunkwise form (state pass,
// scores, output), the batched recurrent step, the rotation and the group
// norm + gate. Each mirrors a CPU function of package retnet (named in its
// comment), which is its parity oracle (backendtest.RunAll).
//
// Thread layout of the 64-row tiles: 256 threads as 16 x 16, tx = tid & 15,
// ty = tid >> 4. A thread owns rows ty*4 + i (i < 4) of the tile; score
// columns tx + 16*j (j < 4), value columns tx + 16*c (c < 8). A warp is two
// ty values, so a row's 16 owners are one half warp (rl_sum16 reduces them),
// reads of a row are broadcasts, and reads of columns tx + 16*j hit 16
// distinct banks (row pitch RL_BD+1 = 33 in the score slabs).
#include "common.cuh"

// 1/sqrt(sum_{d<=n} gamma^d), gamma = exp(lg), formed in double as
// retnet.NewDecayTable does (InvSqrtCum): sum = expm1((n+1) lg) / expm1(lg),
// n+1 when lg = 0 (no decay).
static __device__ __forceinline__ float rl_inv_sqrt_cum(float lg, int n) {
    double l = (double)lg;
    double s = (l == 0.0) ? (double)(n + 1) : expm1((double)(n + 1) * l) / expm1(l);
    return (float)(1.0 / sqrt(s));
}

// rl_score_tile accumulates s[i][j] = q_row . k_col for the 64x64 tile of
// rows r0 + ty*4 + i and columns c0 + tx + 16*j over all dk, staging RL_BD
// columns of Q and K at a time in shared memory. qb and kb point at row 0
// of one (sequence, head); rows >= rowEnd and columns >= colEnd read zero.
// All threads of the block must call it (it synchronises).
static __device__ __forceinline__ void rl_score_tile(float s[4][4], const float* __restrict__ qb,
                                                     const float* __restrict__ kb, size_t ld, int r0,
                                                     int rowEnd, int c0, int colEnd, int dk,
                                                     float (*Qs)[RL_BD + 1], float (*Ks)[RL_BD + 1]) {
    const int tid = threadIdx.x, tx = tid & 15, ty = tid >> 4;
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) s[i][j] = 0.f;
    for (int d0 = 0; d0 < dk; d0 += RL_BD) {
        for (int e = tid; e < RL_BM * RL_BD; e += RL_THREADS) {
            int r = e / RL_BD, c = e % RL_BD, d = d0 + c;
            int n = r0 + r, m = c0 + r;
            Qs[r][c] = (n < rowEnd && d < dk) ? qb[(size_t)n * ld + d] : 0.f;
            Ks[r][c] = (m < colEnd && d < dk) ? kb[(size_t)m * ld + d] : 0.f;
        }
        __syncthreads();
#pragma unroll 8
        for (int c = 0; c < RL_BD; c++) {
            float a[4], b[4];
#pragma unroll
            for (int i = 0; i < 4; i++) a[i] = Qs[ty * 4 + i][c];
#pragma unroll
            for (int j = 0; j < 4; j++) b[j] = Ks[tx + 16 * j][c];
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) s[i][j] = fmaf(a[i], b[j], s[i][j]);
        }
        __syncthreads();
    }
}

// ret_parallel: retnet.ParallelRetention for every (sequence, head).
//
//	S[n][m] = (q_n . k_m) gamma^(n-m) / sqrt(sum_{d<=n} gamma^d)   (m <= n)
//	o_n = sum_m S[n][m] v_m / clamp(sum_m |S[n][m]|, 1, 5e4)
//
// Grid: x = query tile (issued last tile first: the longest rows start
// first), y = value tile of RL_DVT columns, z = b*H + h. Each block loops
// over the key tiles up to its diagonal; the decay is computed in registers
// (expf per score, no T x T mask) and the row normaliser is applied at the
// end (o and sum |S| accumulate together), so S never leaves the block.
extern "C" __global__ void __launch_bounds__(RL_THREADS)
ret_parallel(const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v,
             float* __restrict__ o, const float* __restrict__ logGamma, int T, int H, int dk, int dv) {
    __shared__ float buf[2 * RL_BM * (RL_BD + 1)];  // Q and K slabs; reused as the V slab
    __shared__ float Ss[RL_BM][RL_BN];
    float (*Qs)[RL_BD + 1] = (float (*)[RL_BD + 1])buf;
    float (*Ks)[RL_BD + 1] = (float (*)[RL_BD + 1])(buf + RL_BM * (RL_BD + 1));
    float (*Vs)[RL_DVT] = (float (*)[RL_DVT])buf;  // RL_BK x RL_DVT <= 2*RL_BM*(RL_BD+1)

    const int tid = threadIdx.x, tx = tid & 15, ty = tid >> 4;
    const int n0 = (gridDim.x - 1 - blockIdx.x) * RL_BM;
    const int c0 = blockIdx.y * RL_DVT;
    const int bh = blockIdx.z, b = bh / H, h = bh % H;
    const size_t ldqk = (size_t)H * dk, ldv = (size_t)H * dv;
    const float* qb = q + (size_t)b * T * ldqk + (size_t)h * dk;
    const float* kb = k + (size_t)b * T * ldqk + (size_t)h * dk;
    const float* vb = v + (size_t)b * T * ldv + (size_t)h * dv;
    float* ob = o + (size_t)b * T * ldv + (size_t)h * dv;
    const float lg = logGamma[h];
    const int nEnd = rl_min(T, n0 + RL_BM);

    float inv[4], rowabs[4], acc[4][8];
#pragma unroll
    for (int i = 0; i < 4; i++) {
        int n = n0 + ty * 4 + i;
        inv[i] = n < T ? rl_inv_sqrt_cum(lg, n) : 0.f;
        rowabs[i] = 0.f;
#pragma unroll
        for (int c = 0; c < 8; c++) acc[i][c] = 0.f;
    }

    for (int m0 = 0; m0 < nEnd; m0 += RL_BN) {
        float s[4][4];
        rl_score_tile(s, qb, kb, ldqk, n0, nEnd, m0, nEnd, dk, Qs, Ks);
#pragma unroll
        for (int i = 0; i < 4; i++) {
            int n = n0 + ty * 4 + i;
#pragma unroll
            for (int j = 0; j < 4; j++) {
                int m = m0 + tx + 16 * j;
                float val = 0.f;
                if (m <= n && n < T) val = s[i][j] * (expf((float)(n - m) * lg) * inv[i]);
                rowabs[i] += fabsf(val);
                Ss[ty * 4 + i][tx + 16 * j] = val;
            }
        }
        // No barrier needed here: rl_score_tile ended with one (the Q/K
        // slabs are free for V) and the one after the V load orders the Ss
        // writes before their reads.
        for (int kk0 = 0; kk0 < RL_BN && m0 + kk0 < nEnd; kk0 += RL_BK) {
            for (int e = tid; e < RL_BK * RL_DVT; e += RL_THREADS) {
                int r = e / RL_DVT, c = e % RL_DVT;
                int m = m0 + kk0 + r, col = c0 + c;
                Vs[r][c] = (m < nEnd && col < dv) ? vb[(size_t)m * ldv + col] : 0.f;
            }
            __syncthreads();
#pragma unroll 4
            for (int kk = 0; kk < RL_BK; kk++) {
                float sv[4], vv[8];
#pragma unroll
                for (int i = 0; i < 4; i++) sv[i] = Ss[ty * 4 + i][kk0 + kk];
#pragma unroll
                for (int c = 0; c < 8; c++) vv[c] = Vs[kk][tx + 16 * c];
#pragma unroll
                for (int i = 0; i < 4; i++)
#pragma unroll
                    for (int c = 0; c < 8; c++) acc[i][c] = fmaf(sv[i], vv[c], acc[i][c]);
            }
            __syncthreads();
        }
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
        float sum = rl_sum16(rowabs[i]);
        int n = n0 + ty * 4 + i;
        if (n < T) {
            float d = fminf(fmaxf(sum, 1.f), 5e4f);
#pragma unroll
            for (int c = 0; c < 8; c++) {
                int col = c0 + tx + 16 * c;
                if (col < dv) ob[(size_t)n * ldv + col] = acc[i][c] / d;
            }
        }
    }
}

// The chunkwise form (retnet.ChunkwiseRetention) in three kernels.
//
// With chunk size C the CPU computes, for chunk c and local i, j < C,
//
//	A_ij = (q_i . k_j) gamma^(i-j) / sqrt(s_i) (j <= i), a_i = max(1, sum_j |A_ij|),  s_i = sum_{d<=i} gamma^d
//	R_0 = 0, R_{c+1} = gamma^C R_c + sum_j gamma^(C-1-j) k_j^T v_j / S_C,  r_c = max(1, max_col sum_row |R_c|)
//	o_i = (sum_{j<=i} A_ij v_j + gamma^(i+1) S_C / sqrt(s_i) q_i R_c) / max(a_i, r_c)
//
// The numerator is U_n / sqrt(s_i) with U_n = sum_{m<=n} gamma^(n-m) (q_n.k_m) v_m, whatever
// the chunking, so the kernels compute it on sub-chunks of at most 64 tokens (the 64-row
// tiles of each chunk, aligned to the chunk's start) and only the normalisers use C:
//
//	ret_chunk_state   Z_s = sum_{m < p_s} gamma^(p_s-1-m) k_m^T v_m at the start p_s of every
//	                  sub-chunk (sequential; one 64x64 state tile per block, in registers), and
//	                  at each chunk start the column sums of |Z|/S_C = |R_c| (for r_c)
//	ret_chunk_scores  A (all of the chunk's columns, for a_i) and its 64x64 diagonal tile
//	ret_chunk_output  o_i = (sum_{j in sub-chunk, j<=i} A_ij v_j + gamma^(i'+1)/sqrt(s_i) q_i Z_s)
//	                        / max(a_i, r_c),  i' = the index within the sub-chunk
//
// so the intra-chunk product costs 64 (not C) per token; a_i still needs every score of the
// chunk (that is torchscale's definition). For C <= 64 the sub-chunks are the chunks.
// Host tables (cuda.chunkTables, rounded as retnet's DecayTable): inv[h][i] = 1/sqrt(s_i)
// (i < C), pow[h][d] = gamma^d (d <= 64), invSC[h] = 1/S_C.
// Scratch: R (B*H, nSub, dk, dv) with nSub = nChunks*tilesPerChunk, colsum (B*H, nChunks,
// nDkTiles, dv), A (B*H, T, 64) diagonal tiles, ascale (B*H, T).

// ret_chunk_state: grid x = dv tile (RL_ST), y = dk tile (RL_ST), z = b*H+h.
// Thread owns state rows r0 + ty + 16*i and columns c0 + tx + 16*j. The
// loop over sub-chunks is sequential, so the next K/V slab is fetched into
// registers while the current one is multiplied (the global-memory latency
// would otherwise stall every slab).
extern "C" __global__ void __launch_bounds__(RL_THREADS)
ret_chunk_state(const float* __restrict__ k, const float* __restrict__ v, const float* __restrict__ pow,
                const float* __restrict__ invSC, float* __restrict__ R, float* __restrict__ colsum, int T, int H,
                int dk, int dv, int C, int nChunks, int tilesPerChunk) {
    __shared__ float Ks[RL_SJ][RL_ST];
    __shared__ float Vs[RL_SJ][RL_ST];
    __shared__ float red[16][RL_ST];

    const int tid = threadIdx.x, tx = tid & 15, ty = tid >> 4;
    const int c0 = blockIdx.x * RL_ST, r0 = blockIdx.y * RL_ST, nDkT = gridDim.y;
    const int bh = blockIdx.z, b = bh / H, h = bh % H;
    const size_t ldqk = (size_t)H * dk, ldv = (size_t)H * dv;
    const float* kb = k + (size_t)b * T * ldqk + (size_t)h * dk;
    const float* vb = v + (size_t)b * T * ldv + (size_t)h * dv;
    const float* pw = pow + (size_t)h * RL_POW;
    const float isc = invSC[h];
    const int nSub = nChunks * tilesPerChunk;

    // Sub-chunk s: chunk s / tilesPerChunk, tile s % tilesPerChunk; start and length.
    auto start = [&](int s) { return (s / tilesPerChunk) * C + (s % tilesPerChunk) * RL_BM; };
    auto length = [&](int s) {
        return rl_min(RL_BM, rl_min(C - (s % tilesPerChunk) * RL_BM, T - start(s)));
    };
    // The slab of tokens j0 .. j0+15 of sub-chunk s: element e = tid + 256*m
    // is token row e / RL_ST, column e % RL_ST of the tile.
    float kpre[RL_SJ * RL_ST / RL_THREADS], vpre[RL_SJ * RL_ST / RL_THREADS];
    auto fetch = [&](int s, int j0) {
        const int p0 = start(s), len = length(s);
#pragma unroll
        for (int m = 0; m < RL_SJ * RL_ST / RL_THREADS; m++) {
            int e = tid + RL_THREADS * m, r = e / RL_ST, cc = e % RL_ST, jj = j0 + r;
            int d = r0 + cc, col = c0 + cc;
            size_t t = (size_t)p0 + jj;
            kpre[m] = (jj < len && d < dk) ? kb[t * ldqk + d] : 0.f;
            vpre[m] = (jj < len && col < dv) ? vb[t * ldv + col] * pw[len - 1 - jj] : 0.f;
        }
    };

    float acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] = 0.f;
    if (length(0) < T) fetch(0, 0);

    for (int s = 0; s < nSub; s++) {
        const int p0 = start(s);
        if (p0 >= T) break;
        const int len = length(s);
        float* Rs = R + ((size_t)bh * nSub + s) * dk * dv;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int col = c0 + tx + 16 * j;
            float p = 0.f;
#pragma unroll
            for (int i = 0; i < 4; i++) {
                int row = r0 + ty + 16 * i;
                if (row < dk && col < dv) Rs[(size_t)row * dv + col] = acc[i][j];
                p += fabsf(acc[i][j]);
            }
            red[ty][tx + 16 * j] = p;
        }
        __syncthreads();
        if (s % tilesPerChunk == 0 && tid < RL_ST && c0 + tid < dv) {
            float sum = 0.f;
            for (int y = 0; y < 16; y++) sum += red[y][tid];
            colsum[(((size_t)bh * nChunks + s / tilesPerChunk) * nDkT + blockIdx.y) * dv + c0 + tid] = sum * isc;
        }
        if (p0 + len >= T) break;  // no later sub-chunk needs a state
        // Z <- gamma^len Z + sum_j gamma^(len-1-j) k_j^T v_j over this sub-chunk.
        const float g = pw[len];
#pragma unroll
        for (int i = 0; i < 4; i++)
#pragma unroll
            for (int j = 0; j < 4; j++) acc[i][j] *= g;
        for (int j0 = 0; j0 < len; j0 += RL_SJ) {
#pragma unroll
            for (int m = 0; m < RL_SJ * RL_ST / RL_THREADS; m++) {
                int e = tid + RL_THREADS * m;
                Ks[e / RL_ST][e % RL_ST] = kpre[m];
                Vs[e / RL_ST][e % RL_ST] = vpre[m];
            }
            __syncthreads();  // also orders the red[] reads above before the next sub-chunk's writes
            if (j0 + RL_SJ < len)
                fetch(s, j0 + RL_SJ);
            else if (s + 1 < nSub && start(s + 1) + length(s + 1) < T)
                fetch(s + 1, 0);
#pragma unroll 4
            for (int r = 0; r < RL_SJ; r++) {
                float kr[4], vr[4];
#pragma unroll
                for (int i = 0; i < 4; i++) kr[i] = Ks[r][ty + 16 * i];
#pragma unroll
                for (int j = 0; j < 4; j++) vr[j] = Vs[r][tx + 16 * j];
#pragma unroll
                for (int i = 0; i < 4; i++)
#pragma unroll
                    for (int j = 0; j < 4; j++) acc[i][j] = fmaf(kr[i], vr[j], acc[i][j]);
            }
            __syncthreads();
        }
    }
}

// ret_chunk_scores: grid x = chunk * tilesPerChunk + row tile, y = b*H+h.
// Accumulates a_i over every column tile of the chunk up to the diagonal
// and stores the diagonal tile of A (zeros above the diagonal).
extern "C" __global__ void __launch_bounds__(RL_THREADS)
ret_chunk_scores(const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ inv,
                 const float* __restrict__ logGamma, float* __restrict__ A, float* __restrict__ ascale, int T,
                 int H, int dk, int C, int tilesPerChunk) {
    __shared__ float Qs[RL_BM][RL_BD + 1];
    __shared__ float Ks[RL_BN][RL_BD + 1];

    const int tid = threadIdx.x, tx = tid & 15, ty = tid >> 4;
    const int c = blockIdx.x / tilesPerChunk, i0 = (blockIdx.x % tilesPerChunk) * RL_BM;
    const int t0 = c * C, nc = rl_min(C, T - t0);
    if (i0 >= nc) return;  // whole block: a ragged last chunk has fewer tiles
    const int bh = blockIdx.y, b = bh / H, h = bh % H;
    const size_t ldqk = (size_t)H * dk;
    const float* qb = q + ((size_t)b * T + t0) * ldqk + (size_t)h * dk;
    const float* kb = k + ((size_t)b * T + t0) * ldqk + (size_t)h * dk;
    float* Ab = A + ((size_t)bh * T + t0) * RL_BN;
    const float lg = logGamma[h];
    const int rowEnd = rl_min(nc, i0 + RL_BM);

    float invr[4], rowabs[4];
#pragma unroll
    for (int i = 0; i < 4; i++) {
        int ii = i0 + ty * 4 + i;
        invr[i] = ii < nc ? inv[(size_t)h * C + ii] : 0.f;
        rowabs[i] = 0.f;
    }
    for (int j0 = 0; j0 <= i0; j0 += RL_BN) {
        float s[4][4];
        rl_score_tile(s, qb, kb, ldqk, i0, rowEnd, j0, rowEnd, dk, Qs, Ks);
#pragma unroll
        for (int i = 0; i < 4; i++) {
            int ii = i0 + ty * 4 + i;
#pragma unroll
            for (int j = 0; j < 4; j++) {
                int jj = j0 + tx + 16 * j;
                float val = 0.f;
                if (jj <= ii && ii < nc) val = s[i][j] * (expf((float)(ii - jj) * lg) * invr[i]);
                rowabs[i] += fabsf(val);
                if (j0 == i0 && ii < nc) Ab[(size_t)ii * RL_BN + tx + 16 * j] = val;
            }
        }
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
        float sum = rl_sum16(rowabs[i]);
        int ii = i0 + ty * 4 + i;
        if (tx == 0 && ii < nc) ascale[(size_t)bh * T + t0 + ii] = fmaxf(sum, 1.f);
    }
}

// ret_chunk_output: grid x = chunk * tilesPerChunk + row tile (the
// sub-chunk), y = value tile of RL_ODVT columns, z = b*H+h. One GEMM with
// two k phases, [A_diag | f (.) Q] (64 x (len + dk)) times [V ; Z_s], with
// f_i = gamma^(i'+1) / sqrt(s_i). 256 threads as 8 (ty, one warp each) x 32
// (tx): a thread owns rows ty*8 + i and columns tx*4 + j and 128 + tx*4 + j
// (i, j < 8 / 4): 64 results, operands read as float4 from shared memory
// (X stored k-major, so a warp's reads of X are broadcasts).
extern "C" __global__ void __launch_bounds__(RL_THREADS, 2)
ret_chunk_output(const float* __restrict__ q, const float* __restrict__ v, const float* __restrict__ A,
                 const float* __restrict__ ascale, const float* __restrict__ R,
                 const float* __restrict__ colsum, const float* __restrict__ inv, const float* __restrict__ pow,
                 float* __restrict__ o, int T, int H, int dk, int dv, int C, int nChunks, int tilesPerChunk,
                 int nDkT) {
    __shared__ __align__(16) float Xs[RL_BK][RL_BM + 4];  // X^T slab: A_diag, then f (.) Q
    __shared__ __align__(16) float Ys[RL_BK][RL_ODVT];    // V slab, then the Z_s slab
    __shared__ float red[RL_THREADS];

    const int tid = threadIdx.x, tx = tid & 31, ty = tid >> 5;
    const int c = blockIdx.x / tilesPerChunk, i0 = (blockIdx.x % tilesPerChunk) * RL_BM;
    const int t0 = c * C, nc = rl_min(C, T - t0);
    if (i0 >= nc) return;  // whole block
    const int s = blockIdx.x, nSub = nChunks * tilesPerChunk;
    const int rowEnd = rl_min(nc, i0 + RL_BM), len = rowEnd - i0;
    const int c0 = blockIdx.y * RL_ODVT;
    const int bh = blockIdx.z, b = bh / H, h = bh % H;
    const size_t ldqk = (size_t)H * dk, ldv = (size_t)H * dv;
    const size_t p0 = (size_t)t0 + i0;  // first token of the sub-chunk
    const float* qb = q + ((size_t)b * T + p0) * ldqk + (size_t)h * dk;
    const float* vb = v + ((size_t)b * T + p0) * ldv + (size_t)h * dv;
    const float* Ab = A + ((size_t)bh * T + p0) * RL_BN;
    float* ob = o + ((size_t)b * T + p0) * ldv + (size_t)h * dv;

    // r_c = max(1, max over columns of the dk tiles' sums of |R_c|).
    float rc = 1.f;
    if (c > 0) {
        const float* cs = colsum + ((size_t)bh * nChunks + c) * nDkT * dv;
        float m = 0.f;
        for (int x = tid; x < dv; x += RL_THREADS) {
            float sum = 0.f;
            for (int t = 0; t < nDkT; t++) sum += cs[(size_t)t * dv + x];
            m = fmaxf(m, sum);
        }
        red[tid] = m;
        __syncthreads();
        for (int off = RL_THREADS / 2; off > 0; off >>= 1) {
            if (tid < off) red[tid] = fmaxf(red[tid], red[tid + off]);
            __syncthreads();
        }
        rc = fmaxf(red[0], 1.f);
    }

    float acc[8][8];
#pragma unroll
    for (int i = 0; i < 8; i++)
#pragma unroll
        for (int j = 0; j < 8; j++) acc[i][j] = 0.f;

    // One k slab: Xs and Ys loaded, then 32 rank-1 updates of the 8x8 tile.
    auto multiply = [&]() {
#pragma unroll 4
        for (int kk = 0; kk < RL_BK; kk++) {
            const float4 x0 = *(const float4*)&Xs[kk][ty * 8];
            const float4 x1 = *(const float4*)&Xs[kk][ty * 8 + 4];
            const float4 y0 = *(const float4*)&Ys[kk][tx * 4];
            const float4 y1 = *(const float4*)&Ys[kk][128 + tx * 4];
            const float x[8] = {x0.x, x0.y, x0.z, x0.w, x1.x, x1.y, x1.z, x1.w};
            const float y[8] = {y0.x, y0.y, y0.z, y0.w, y1.x, y1.y, y1.z, y1.w};
#pragma unroll
            for (int i = 0; i < 8; i++)
#pragma unroll
                for (int j = 0; j < 8; j++) acc[i][j] = fmaf(x[i], y[j], acc[i][j]);
        }
    };

    // Phase 1: the sub-chunk's own keys, sum_j A_ij v_j.
    for (int k0 = 0; k0 < len; k0 += RL_BK) {
        for (int e = tid; e < RL_BM * RL_BK; e += RL_THREADS) {
            int r = e / RL_BK, kk = e % RL_BK;
            Xs[kk][r] = (r < len && k0 + kk < len) ? Ab[(size_t)r * RL_BN + k0 + kk] : 0.f;
        }
        for (int e = tid; e < RL_BK * RL_ODVT; e += RL_THREADS) {
            int r = e / RL_ODVT, cc = e % RL_ODVT, col = c0 + cc;
            Ys[r][cc] = (k0 + r < len && col < dv) ? vb[(size_t)(k0 + r) * ldv + col] : 0.f;
        }
        __syncthreads();
        multiply();
        __syncthreads();
    }
    // Phase 2: the state before the sub-chunk (Z_0 = 0 is skipped).
    if (p0 > 0) {
        const float* Zs = R + ((size_t)bh * nSub + s) * dk * dv;
        const float* invh = inv + (size_t)h * C;
        const float* pw = pow + (size_t)h * RL_POW;
        for (int d0 = 0; d0 < dk; d0 += RL_BK) {
            for (int e = tid; e < RL_BM * RL_BK; e += RL_THREADS) {
                int r = e / RL_BK, kk = e % RL_BK, d = d0 + kk;
                Xs[kk][r] = (r < len && d < dk) ? qb[(size_t)r * ldqk + d] * (pw[r + 1] * invh[i0 + r]) : 0.f;
            }
            for (int e = tid; e < RL_BK * RL_ODVT; e += RL_THREADS) {
                int r = e / RL_ODVT, cc = e % RL_ODVT, d = d0 + r, col = c0 + cc;
                Ys[r][cc] = (d < dk && col < dv) ? Zs[(size_t)d * dv + col] : 0.f;
            }
            __syncthreads();
            multiply();
            __syncthreads();
        }
    }
    // Phase 1 left the inner part unnormalised by sqrt(s_i): A already
    // carries it (inv[i] in the scores), and f carries it for the state.
#pragma unroll
    for (int i = 0; i < 8; i++) {
        int r = ty * 8 + i;
        if (r < len) {
            float den = fmaxf(ascale[(size_t)bh * T + p0 + r], rc);
#pragma unroll
            for (int j = 0; j < 8; j++) {
                int col = c0 + (j < 4 ? tx * 4 + j : 128 + tx * 4 + j - 4);
                if (col < dv) ob[(size_t)r * ldv + col] = acc[i][j] / den;
            }
        }
    }
}

// ret_recurrent_step: one token of retnet.RecurrentRetention for B
// sequences and H heads at once, state S (B,H,dv,dk) in device memory:
//
//	c = gamma c' + 1, S = gamma sqrt(c'/c) S + v^T k / sqrt(c), o = S q
//
// with c' = scaleIn[h]; scaleOut[h] = c (the caller swaps the two). q, k of
// sequence b start at b*ldqk, v and o at b*ldv (head h at h*dk, h*dv), so a
// (B,T,...) tensor can be stepped one token at a time. One warp per state
// row (b, h, j): it streams dk floats in and out once; the dot product with
// q is reduced across the warp. Memory bound: 2*B*H*dv*dk*4 bytes per step.
// Grid x = ceil(B*H*dv / RL_REC_ROWS).
extern "C" __global__ void __launch_bounds__(RL_THREADS)
ret_recurrent_step(const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v,
                   float* __restrict__ o, float* __restrict__ S, const float* __restrict__ scaleIn,
                   float* __restrict__ scaleOut, const float* __restrict__ gamma, int B, int H, int dk, int dv,
                   long long ldqk, long long ldv) {
    const int lane = threadIdx.x & 31;
    const long long row = (long long)blockIdx.x * RL_REC_ROWS + (threadIdx.x >> 5);
    if (row >= (long long)B * H * dv) return;  // whole warp
    const int j = (int)(row % dv);
    const int bh = (int)(row / dv), b = bh / H, h = bh % H;
    const float prev = scaleIn[h], g = gamma[h];
    const float cn = prev * g + 1.f;
    const float a = sqrtf(prev) * g / sqrtf(cn);
    const float bc = 1.f / sqrtf(cn);
    const float* qp = q + b * ldqk + (size_t)h * dk;
    const float* kp = k + b * ldqk + (size_t)h * dk;
    const float vj = bc * v[b * ldv + (size_t)h * dv + j];
    float* Sr = S + (size_t)row * dk;
    float acc = 0.f;
    if ((dk & 127) == 0) {  // float4 path: 16-byte aligned since dk, ldqk are multiples of 4
#pragma unroll 2
        for (int x = lane * 4; x < dk; x += 128) {
            float4 s = *(float4*)(Sr + x);
            const float4 kk = *(const float4*)(kp + x);
            const float4 qq = *(const float4*)(qp + x);
            s.x = fmaf(vj, kk.x, s.x * a);
            s.y = fmaf(vj, kk.y, s.y * a);
            s.z = fmaf(vj, kk.z, s.z * a);
            s.w = fmaf(vj, kk.w, s.w * a);
            *(float4*)(Sr + x) = s;
            acc = fmaf(s.x, qq.x, acc);
            acc = fmaf(s.y, qq.y, acc);
            acc = fmaf(s.z, qq.z, acc);
            acc = fmaf(s.w, qq.w, acc);
        }
    } else {
#pragma unroll 4
        for (int x = lane; x < dk; x += 32) {
            float s = fmaf(vj, kp[x], Sr[x] * a);
            Sr[x] = s;
            acc = fmaf(s, qp[x], acc);
        }
    }
    acc = rl_sum32(acc);
    if (lane == 0) {
        o[b * ldv + (size_t)h * dv + j] = acc;
        if (b == 0 && j == 0) scaleOut[h] = cn;
    }
}

// ret_rotate: retnet.RotateForward (sign = 1) / RotateBackward (sign = -1)
// in place on x (rows, H*dk); row r is at position pos0 + r % period. The
// angle n*theta is formed in float32 as torchscale does, then sinf/cosf.
// One thread per pair; grid x = ceil(rows*H*dk/2 / RL_THREADS).
extern "C" __global__ void __launch_bounds__(RL_THREADS)
ret_rotate(float* __restrict__ x, const float* __restrict__ angle, long long pairs, int H, int dk, int period,
           int pos0, float sign) {
    const long long p = (long long)blockIdx.x * RL_THREADS + threadIdx.x;
    if (p >= pairs) return;
    const int half = dk / 2;
    const long long perRow = (long long)H * half;
    const long long r = p / perRow;
    const int i = (int)(p % half);
    const float n = (float)(pos0 + (int)(r % period));
    const float th = n * angle[2 * i];
    const float s = sign * sinf(th), c = cosf(th);
    float* xp = x + 2 * p;  // pairs are contiguous: (row, head, i) -> 2*p
    const float x0 = xp[0], x1 = xp[1];
    xp[0] = x0 * c - x1 * s;
    xp[1] = x1 * c + x0 * s;
}

// ret_groupnorm_gate: retnet.GroupNormGateForward. Per row n and head h of
// o (N, H*dv): rstd = 1/sqrt(mean(o^2) + eps) (sum in double, as the CPU),
// y = o rstd, gated = silu(g) y (silu in double). One warp per (row, head);
// grid x = ceil(N*H / RL_REC_ROWS).
extern "C" __global__ void __launch_bounds__(RL_THREADS)
ret_groupnorm_gate(float* __restrict__ gated, float* __restrict__ y, float* __restrict__ rstd,
                   const float* __restrict__ o, const float* __restrict__ g, int N, int H, int dv, double eps) {
    const int lane = threadIdx.x & 31;
    const long long w = (long long)blockIdx.x * RL_REC_ROWS + (threadIdx.x >> 5);
    if (w >= (long long)N * H) return;  // whole warp
    const size_t base = (size_t)w * dv;
    double ss = 0.0;
    for (int x = lane; x < dv; x += 32) {
        double t = (double)o[base + x];
        ss += t * t;
    }
    ss = rl_sum32d(ss);
    const float r = (float)(1.0 / sqrt(ss / (double)dv + eps));
    if (lane == 0) rstd[w] = r;
    for (int x = lane; x < dv; x += 32) {
        float yy = o[base + x] * r;
        double gv = (double)g[base + x];
        y[base + x] = yy;
        gated[base + x] = (float)(gv / (1.0 + exp(-gv))) * yy;
    }
}
