#!/usr/bin/python3
"""Reference vectors for RetLab's Go RetNet port, from an independent numpy implementation.

This script is the test oracle. It implements every formula of docs/retnet-spec.md
(torchscale's MultiScaleRetention / RetNetDecoder) as plainly as possible, in float64, starting
from float32 parameters and inputs (the values stored in the files), and writes the results as
safetensors files (expected outputs rounded to float32). It was written from the spec alone, without
looking at the Go code: agreement between the two is evidence that both follow the spec.

    /usr/bin/python3 retnet/testdata/make_reference.py --out DIR     # write the files
    /usr/bin/python3 retnet/testdata/make_reference.py --check       # self-checks, print max diffs

Determinism: the output bytes depend only on this file and numpy. Random numbers come from seeded
numpy Generators (one seed per file); matrix products and sums are explicit loops over the contracted
index in a fixed order (no BLAS, whose summation order depends on the CPU), so every product and sum is
a fixed sequence of IEEE operations. Only exp/log/sin/cos/erf come from the math library; a last-bit
difference there would have to land exactly on a float32 rounding boundary to change a byte.

Notation follows the spec: T positions, D model dim, DV value dim, H heads, dk = D/H, dv = DV/H.
Per-head tensors are laid out (B, H, T, d). Linear weights are (out, in) and y = x W^T.
"""

import argparse
import json
import math
import os
import struct
import sys

import numpy as np

FORMAT_VERSION = "1"
FORMS = ("parallel", "recurrent", "chunkwise")


# ---------------------------------------------------------------------------------------------
# Exact, order-fixed arithmetic helpers
# ---------------------------------------------------------------------------------------------

def f32(x):
    """Round to float32 and return as float64: the value a float32 file stores."""
    return np.asarray(x, dtype=np.float64).astype(np.float32).astype(np.float64)


def seqsum(x, axis=-1, keepdims=False):
    """Sum along one axis, adding the slices strictly left to right (fixed order, no pairwise sum)."""
    x = np.moveaxis(np.asarray(x, dtype=np.float64), axis, -1)
    total = np.zeros(x.shape[:-1])
    for i in range(x.shape[-1]):
        total = total + x[..., i]
    if keepdims:
        total = np.expand_dims(total, axis if axis >= 0 else total.ndim + 1 + axis)
    return total


def matmul(a, b):
    """a (..., n, k) @ b (..., k, m) -> (..., n, m), accumulating over k in order 0..k-1."""
    assert a.shape[-1] == b.shape[-2], (a.shape, b.shape)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    out = np.zeros(batch + (a.shape[-2], b.shape[-1]))
    for i in range(a.shape[-1]):
        out = out + a[..., :, i:i + 1] * b[..., i:i + 1, :]
    return out


def linear(x, w):
    """y = x W^T for x (..., in) and a torch Linear weight W (out, in); no bias anywhere in RetNet."""
    return matmul(x[..., None, :], np.swapaxes(w, -1, -2))[..., 0, :]


def silu(x):
    """swish: x * sigmoid(x)."""
    return x / (1.0 + np.exp(-x))


def gelu(x):
    """Exact gelu: x * Phi(x) = x/2 (1 + erf(x / sqrt 2)) (torch F.gelu default)."""
    erf = np.vectorize(math.erf, otypes=[np.float64])
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def rmsnorm(x, weight, eps):
    """RMSNorm over the last axis: x / sqrt(mean(x^2) + eps), times weight (None: no affine)."""
    ms = seqsum(x * x, keepdims=True) / x.shape[-1]
    y = x / np.sqrt(ms + eps)
    return y if weight is None else y * weight


# ---------------------------------------------------------------------------------------------
# Decays and angles (the RetNetRelPos buffers)
# ---------------------------------------------------------------------------------------------

def torchscale_log_gamma(heads):
    """The `decay` buffer: log(1 - 2^(-5-h)) as torchscale computes it, in float32.

    1 - 2^(-5-h) is exact in float64 and rounded once to float32 (round to nearest even); for
    h >= 20 that rounding gives exactly 1, so log gamma = 0 (no decay). The log is evaluated in float64
    and rounded to float32 (torch's float32 log is within an ulp of this). Returned as float64.
    """
    h = np.arange(heads, dtype=np.float64)
    gamma32 = f32(1.0 - 2.0 ** (-5.0 - h))
    return f32(np.log(gamma32))


def paper_gamma(heads):
    """The paper's experimental schedule: gamma = 1 - exp(linspace(log 1/32, log 1/512, H)), float64."""
    return 1.0 - np.exp(np.linspace(math.log(1 / 32), math.log(1 / 512), heads))


def angle_buffer(dk):
    """The `angle` buffer: theta_i = 10000^(-i/(dk/2-1)), each repeated twice, length dk, float32.

    torchscale computes 1 / 10000^linspace(0, 1, dk/2) in float32; each step below is rounded to
    float32 the same way (torch's linspace: step = 1/(n-1); i*step for the first half, 1 - (n-1-i)*step
    for the second). This matches torch 1.13 bit for bit for dk <= 32 and within 1 ulp beyond.
    dk = 2 gives theta = 1.
    """
    n = dk // 2
    i = np.arange(n, dtype=np.float64)
    if n == 1:
        exponent = np.zeros(1)
    else:
        step = f32(1.0 / (n - 1))
        exponent = np.where(i < n // 2, f32(i * step), f32(1.0 - f32((n - 1 - i) * step)))
    theta = f32(1.0 / f32(10000.0 ** exponent))
    return np.repeat(theta, 2)


def decay_mask(log_gamma, n):
    """Raw decay mask D[h, n, m] = gamma_h^(n-m) = exp((n-m) log gamma_h) for n >= m, else 0. (H, n, n)"""
    idx = np.arange(n, dtype=np.float64)
    dist = idx[:, None] - idx[None, :]
    mask = np.exp(dist[None, :, :] * log_gamma[:, None, None])
    return np.where(dist[None, :, :] >= 0, mask, 0.0)


def normalized_decay_mask(log_gamma, n):
    """Parallel-form mask Dn[h, n, m] = D[h, n, m] / sqrt(sum_{m'} D[h, n, m']). (H, n, n)"""
    mask = decay_mask(log_gamma, n)
    return mask / np.sqrt(seqsum(mask, keepdims=True))


# ---------------------------------------------------------------------------------------------
# Rotation (xPos without length scale, interleaved pairs)
# ---------------------------------------------------------------------------------------------

def rotate(x, angle, positions):
    """Rotate interleaved pairs of x (..., T, dk) at the given absolute positions (T,).

    (x_2i, x_2i+1) -> (x_2i cos(n theta_i) - x_2i+1 sin(n theta_i),
                       x_2i+1 cos(n theta_i) + x_2i sin(n theta_i)),
    with theta_i = angle[2i] = angle[2i+1].
    """
    phase = np.asarray(positions, dtype=np.float64)[:, None] * angle[None, :]  # (T, dk)
    cos, sin = np.cos(phase), np.sin(phase)
    even, odd = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = even * cos[:, 0::2] - odd * sin[:, 0::2]
    out[..., 1::2] = odd * cos[:, 1::2] + even * sin[:, 1::2]
    return out


# ---------------------------------------------------------------------------------------------
# The retention core: q, k (B, H, T, dk) already rotated (k already scaled), v (B, H, T, dv)
# ---------------------------------------------------------------------------------------------

def retention_parallel(q, k, v, log_gamma):
    """Parallel form. S = (q k^T) (.) Dn; S_n /= clamp(sum_m |S_nm|, 1, 5e4); O = S V. -> (B, H, T, dv)"""
    T = q.shape[2]
    scores = matmul(q, np.swapaxes(k, -1, -2)) * normalized_decay_mask(log_gamma, T)[None]
    denom = np.clip(seqsum(np.abs(scores), keepdims=True), 1.0, 5e4)
    return matmul(scores / denom, v)


def retention_recurrent_step(q_n, k_n, v_n, log_gamma, state):
    """One recurrent step for all heads. q_n, k_n (B, H, dk), v_n (B, H, dv).

    state is None before token 0, else (S (B, H, dv, dk), c (H,)). Token 0: c = 1, S = v^T k.
    Then c_n = gamma c_{n-1} + 1 and S_n = gamma sqrt(c_{n-1}/c_n) S_{n-1} + (v_n^T k_n)/sqrt(c_n).
    Output o_n = S_n q_n (o[j] = sum_i S[j, i] q[i]), no row normalisation. Returns (o_n, new state).
    """
    outer = v_n[..., :, None] * k_n[..., None, :]  # (B, H, dv, dk)
    if state is None:
        c = np.ones(log_gamma.shape)
        S = outer
    else:
        S_prev, c_prev = state
        gamma = np.exp(log_gamma)
        c = gamma * c_prev + 1.0
        decay = (gamma * np.sqrt(c_prev / c))[None, :, None, None]
        S = S_prev * decay + outer / np.sqrt(c)[None, :, None, None]
    o = matmul(S, q_n[..., :, None])[..., 0]
    return o, (S, c)


def retention_recurrent(q, k, v, log_gamma):
    """Recurrent form over a whole sequence, token by token. -> (O (B, H, T, dv), final state)"""
    state = None
    outs = []
    for n in range(q.shape[2]):
        o, state = retention_recurrent_step(q[:, :, n], k[:, :, n], v[:, :, n], log_gamma, state)
        outs.append(o)
    return np.stack(outs, axis=2), state


def retention_chunkwise(q, k, v, log_gamma, chunk, stats=None):
    """Chunkwise form with chunk size C. -> (B, H, T, dv)

    T is zero-padded to a multiple of C and the padding dropped at the end. Per chunk, with local
    positions i, j in [0, C) (all per head):
      s_i = sum_{j<=i} gamma^(i-j);  S_C = sum_{j<C} gamma^j
      inner: A_ij = (q_i . k_j) gamma^(i-j) / sqrt(s_i) (j <= i); a_i = max(1, sum_j |A_ij|); inner_i = A v
      cross: cross_i = (q_i gamma^(i+1) S_C / sqrt(s_i)) R_c, with R_0 = 0, r_0 = 1
      o_i = (inner_i + cross_i) / max(a_i, r_c)
      R_{c+1} = gamma^C R_c + sum_j k_j^T v_j gamma^(C-1-j) / S_C   (R is (dk, dv))
      r_{c+1} = max(1, max over v-columns of (sum over k-rows of |R_{c+1}|))
    stats, if a dict, receives counts of which scale won (for the self-checks).
    """
    B, H, T, dk = q.shape
    dv = v.shape[-1]
    C = chunk
    Tp = -(-T // C) * C
    pad = ((0, 0), (0, 0), (0, Tp - T), (0, 0))
    q, k, v = np.pad(q, pad), np.pad(k, pad), np.pad(v, pad)

    local = np.arange(C, dtype=np.float64)
    mask = decay_mask(log_gamma, C)                        # (H, C, C): gamma^(i-j), j <= i
    s = seqsum(mask)                                       # (H, C): s_i
    S_C = s[:, -1]                                         # (H,): sum_{j<C} gamma^j
    inner_mask = mask / np.sqrt(s)[:, :, None]             # (H, C, C)
    query_decay = (np.exp((local[None, :] + 1.0) * log_gamma[:, None])
                   * S_C[:, None] / np.sqrt(s))            # (H, C): gamma^(i+1) S_C / sqrt(s_i)
    value_decay = np.exp((C - 1.0 - local)[None, :] * log_gamma[:, None]) / S_C[:, None]  # (H, C)
    chunk_decay = np.exp(C * log_gamma)                    # (H,): gamma^C

    out = np.zeros((B, H, Tp, dv))
    R = np.zeros((B, H, dk, dv))
    r = np.ones((B, H))
    for c0 in range(0, Tp, C):
        qc, kc, vc = q[:, :, c0:c0 + C], k[:, :, c0:c0 + C], v[:, :, c0:c0 + C]
        A = matmul(qc, np.swapaxes(kc, -1, -2)) * inner_mask[None]       # (B, H, C, C)
        a = np.maximum(1.0, seqsum(np.abs(A)))                            # (B, H, C)
        inner = matmul(A, vc)                                             # (B, H, C, dv)
        cross = matmul(qc * query_decay[None, :, :, None], R)             # (B, H, C, dv)
        out[:, :, c0:c0 + C] = (inner + cross) / np.maximum(a, r[:, :, None])[..., None]
        if stats is not None:
            real = min(C, T - c0)
            stats["a_i > 1"] = stats.get("a_i > 1", 0) + int(np.sum(a[:, :, :real] > 1))
            stats["r_c > a_i"] = stats.get("r_c > a_i", 0) + int(np.sum(r[:, :, None] > a[:, :, :real]))
            stats["rows"] = stats.get("rows", 0) + a[:, :, :real].size
        kv = matmul(np.swapaxes(kc * value_decay[None, :, :, None], -1, -2), vc)  # (B, H, dk, dv)
        R = R * chunk_decay[None, :, None, None] + kv
        r = np.maximum(1.0, np.max(seqsum(np.abs(R), axis=-2), axis=-1))
    return out[:, :, :T]


# ---------------------------------------------------------------------------------------------
# Multi-scale retention layer and the decoder LM
# ---------------------------------------------------------------------------------------------

def split_heads(x, heads):
    """(B, T, H*d) -> (B, H, T, d)."""
    B, T, HD = x.shape
    return x.reshape(B, T, heads, HD // heads).transpose(0, 2, 1, 3)


def merge_heads(x):
    """(B, H, T, d) -> (B, T, H*d)."""
    B, H, T, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(B, T, H * d)


def msr_project(x, w, heads, angle, positions):
    """Projections shared by all forms: q = x Wq^T, k = (x Wk^T) dk^-1/2, v, g; rotate q and k."""
    q = split_heads(linear(x, w["q_proj.weight"]), heads)
    k = split_heads(linear(x, w["k_proj.weight"]), heads)
    dk = q.shape[-1]
    k = k * dk ** -0.5
    v = split_heads(linear(x, w["v_proj.weight"]), heads)
    g = linear(x, w["g_proj.weight"])
    return rotate(q, angle, positions), rotate(k, angle, positions), v, g


def msr_output(o, g, w, eps):
    """Group norm (per-head RMSNorm, no affine), swish gate, output projection. o (B, H, T, dv)."""
    y = merge_heads(rmsnorm(o, None, eps))
    return linear(silu(g) * y, w["out_proj.weight"])


def msr(x, w, heads, log_gamma, angle, form, chunk, eps):
    """Multi-scale retention of a whole sequence x (B, T, D) in one form. -> (B, T, D)

    The recurrent form runs token by token (token n rotated by angle n*theta), starting from no state.
    """
    T = x.shape[1]
    q, k, v, g = msr_project(x, w, heads, angle, np.arange(T))
    if form == "parallel":
        o = retention_parallel(q, k, v, log_gamma)
    elif form == "recurrent":
        o, _ = retention_recurrent(q, k, v, log_gamma)
    elif form == "chunkwise":
        o = retention_chunkwise(q, k, v, log_gamma, chunk)
    else:
        raise ValueError(form)
    return msr_output(o, g, w, eps)


def layer_weights(params, l):
    """The retention weights of layer l, named as in a standalone MultiScaleRetention."""
    p = "layers.%d.retention." % l
    return {n: params[p + n] for n in
            ("q_proj.weight", "k_proj.weight", "v_proj.weight", "g_proj.weight", "out_proj.weight")}


def ffn(z, params, l, activation):
    """Gated FFN (GLU): (act(z W_fc1^T) (.) (z W_gate^T)) W_fc2^T."""
    p = "layers.%d.ffn." % l
    act = silu if activation == "swish" else gelu
    return linear(act(linear(z, params[p + "fc1.weight"])) * linear(z, params[p + "gate.weight"]),
                  params[p + "fc2.weight"])


def embed(tokens, params, cfg):
    """x_0 = sqrt(D) E[tokens] (E[tokens] when no_scale_embedding). (B, T, D)"""
    scale = 1.0 if cfg["no_scale_embedding"] else math.sqrt(cfg["embed_dim"])
    return scale * params["embed_tokens.weight"][tokens]


def lm_forward(tokens, params, cfg, form, chunk=None):
    """Decoder LM over whole sequences (B, T) in one form. -> dict with logits (B, T, V), hidden,
    msr outputs, and for the recurrent form the per-layer final state.

    Block (pre-norm): h = x + MSR(RMSNorm_a(x)); x' = h + FFN(RMSNorm_b(h)); final RMSNorm; logits =
    x W_out^T. Chunkwise: x_0 is zero-padded to a multiple of the chunk, every layer runs on the padded
    sequence, and the padding is dropped before the final norm (as RetNetDecoder does).
    The recurrent form feeds one token at a time through all layers, each layer keeping its state.
    """
    H, eps, geps = cfg["retention_heads"], cfg["layernorm_eps"], cfg["group_norm_eps"]
    log_gamma, angle = params["retnet_rel_pos.decay"], params["retnet_rel_pos.angle"]
    L = cfg["layers"]
    x = embed(tokens, params, cfg)
    B, T, _ = x.shape

    def block_rest(l, x, m):
        h = x + m
        return h + ffn(rmsnorm(h, params["layers.%d.final_layer_norm.weight" % l], eps), params, l,
                       cfg["activation_fn"])

    hidden, msr_out, states = [x], [], []
    if form in ("parallel", "chunkwise"):
        if form == "chunkwise":
            x = np.pad(x, ((0, 0), (0, -(-T // chunk) * chunk - T), (0, 0)))
        for l in range(L):
            z = rmsnorm(x, params["layers.%d.retention_layer_norm.weight" % l], eps)
            m = msr(z, layer_weights(params, l), H, log_gamma, angle, form, chunk, geps)
            msr_out.append(m[:, :T])
            x = block_rest(l, x, m)
            hidden.append(x[:, :T])
        x = x[:, :T]
    elif form == "recurrent":
        layer_states = [None] * L
        per_token = []
        per_token_msr = [[] for _ in range(L)]
        per_token_hidden = [[] for _ in range(L)]
        for n in range(T):
            xn = x[:, n:n + 1]                                    # (B, 1, D)
            for l in range(L):
                w = layer_weights(params, l)
                z = rmsnorm(xn, params["layers.%d.retention_layer_norm.weight" % l], eps)
                q, k, v, g = msr_project(z, w, H, angle, np.array([n]))
                o, layer_states[l] = retention_recurrent_step(q[:, :, 0], k[:, :, 0], v[:, :, 0],
                                                              log_gamma, layer_states[l])
                m = msr_output(o[:, :, None], g, w, geps)
                per_token_msr[l].append(m)
                xn = block_rest(l, xn, m)
                per_token_hidden[l].append(xn)
            per_token.append(xn)
        x = np.concatenate(per_token, axis=1)
        msr_out = [np.concatenate(ms, axis=1) for ms in per_token_msr]
        hidden += [np.concatenate(hs, axis=1) for hs in per_token_hidden]
        states = layer_states
    else:
        raise ValueError(form)
    x = rmsnorm(x, params["layer_norm.weight"], eps)
    logits = linear(x, params["output_projection.weight"])
    return {"logits": logits, "hidden": hidden, "msr": msr_out, "states": states}


def next_token_nll(logits, tokens):
    """NLL (natural log) of tokens[:, 1:] under logits[:, :-1]. -> (B, T-1)"""
    lg = logits[:, :-1]
    top = np.max(lg, axis=-1, keepdims=True)
    logz = top[..., 0] + np.log(seqsum(np.exp(lg - top)))
    picked = np.take_along_axis(lg, tokens[:, 1:, None], axis=-1)[..., 0]
    return logz - picked


# ---------------------------------------------------------------------------------------------
# Parameters (torchscale-like init)
# ---------------------------------------------------------------------------------------------

def xavier_uniform(rng, out_dim, in_dim, gain):
    """torch.nn.init.xavier_uniform_: U(-b, b), b = gain sqrt(6 / (fan_in + fan_out))."""
    bound = gain * math.sqrt(6.0 / (in_dim + out_dim))
    return rng.uniform(-bound, bound, size=(out_dim, in_dim))


def torch_linear_default(rng, out_dim, in_dim):
    """torch's default nn.Linear init (kaiming_uniform, a=sqrt 5): U(-1/sqrt(in), 1/sqrt(in))."""
    bound = 1.0 / math.sqrt(in_dim)
    return rng.uniform(-bound, bound, size=(out_dim, in_dim))


def msr_init(rng, D, DV, qkvg_scale=1.0):
    """q/k/v/g xavier_uniform gain 2^-2.5 (times qkvg_scale), out_proj gain 2^-1; float32 values."""
    w = {}
    for name, out_dim in (("q_proj", D), ("k_proj", D), ("v_proj", DV), ("g_proj", DV)):
        w[name + ".weight"] = f32(qkvg_scale * xavier_uniform(rng, out_dim, D, 2 ** -2.5))
    w["out_proj.weight"] = f32(xavier_uniform(rng, D, DV, 2 ** -1))
    return w


def norm_weight(rng, D):
    """RMSNorm weight random around 1 (1 + 0.1 N(0,1)) so the affine part is exercised."""
    return f32(1.0 + 0.1 * rng.standard_normal(D))


def lm_init(rng, cfg):
    """All parameters of the decoder LM, torchscale names, float32 values (as float64 arrays)."""
    V, D, DV, F = cfg["vocab_size"], cfg["embed_dim"], cfg["value_embed_dim"], cfg["ffn_embed_dim"]
    H, L = cfg["retention_heads"], cfg["layers"]
    p = {
        "embed_tokens.weight": f32(D ** -0.5 * rng.standard_normal((V, D))),
        "output_projection.weight": f32(D ** -0.5 * rng.standard_normal((V, D))),
        "layer_norm.weight": norm_weight(rng, D),
        "retnet_rel_pos.angle": angle_buffer(D // H),
        "retnet_rel_pos.decay": torchscale_log_gamma(H),
    }
    for l in range(L):
        pre = "layers.%d." % l
        for name, w in msr_init(rng, D, DV).items():
            p[pre + "retention." + name] = w
        p[pre + "retention_layer_norm.weight"] = norm_weight(rng, D)
        p[pre + "ffn.fc1.weight"] = f32(torch_linear_default(rng, F, D))
        p[pre + "ffn.gate.weight"] = f32(torch_linear_default(rng, F, D))
        p[pre + "ffn.fc2.weight"] = f32(torch_linear_default(rng, D, F))
        p[pre + "final_layer_norm.weight"] = norm_weight(rng, D)
    return p


# ---------------------------------------------------------------------------------------------
# safetensors writer / reader and half-precision rounding
# ---------------------------------------------------------------------------------------------

def bf16_bits(x):
    """float32 values -> bfloat16 bit patterns (uint16), round to nearest, ties to even. No NaNs here."""
    u = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


def bf16_value(bits):
    """bfloat16 bit patterns -> float64 values."""
    return (bits.astype(np.uint32) << 16).view(np.float32).astype(np.float64)


def f16_bits(x):
    """float32 values -> float16 bit patterns (numpy's conversion rounds to nearest even)."""
    return np.asarray(x, dtype=np.float32).astype(np.float16).view(np.uint16)


def f16_value(bits):
    return bits.view(np.float16).astype(np.float64)


class Tensor:
    """A tensor to write: safetensors dtype name plus the little-endian array."""

    def __init__(self, dtype, array):
        self.dtype = dtype
        self.array = array


def F32(x):
    return Tensor("F32", np.asarray(x, dtype="<f4"))


def I64(x):
    return Tensor("I64", np.asarray(x, dtype="<i8"))


def write_safetensors(path, tensors, metadata):
    """Write {name: Tensor} as safetensors: u64le header length N, N bytes of JSON header (names
    sorted, `__metadata__` first, padded with spaces to a multiple of 8), then the raw data in the
    same order."""
    header = {"__metadata__": dict(sorted(metadata.items()))}
    blobs, offset = [], 0
    for name in sorted(tensors):
        t = tensors[name]
        data = np.ascontiguousarray(t.array).tobytes()
        header[name] = {"dtype": t.dtype, "shape": list(t.array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """Read a safetensors file back: ({name: float64/int64 array}, metadata)."""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    out = {}
    for name, h in header.items():
        b, e = h["data_offsets"]
        dt = {"F32": "<f4", "I64": "<i8", "F16": "<u2", "BF16": "<u2"}[h["dtype"]]
        a = np.frombuffer(data[b:e], dtype=dt).reshape(h["shape"])
        if h["dtype"] == "BF16":
            a = bf16_value(a)
        elif h["dtype"] == "F16":
            a = f16_value(a)
        out[name] = a.astype(np.int64 if h["dtype"] == "I64" else np.float64)
    return out, meta


# ---------------------------------------------------------------------------------------------
# The files
# ---------------------------------------------------------------------------------------------

TINY = {
    "vocab_size": 37, "embed_dim": 16, "value_embed_dim": 24, "ffn_embed_dim": 20, "layers": 2,
    "retention_heads": 2, "activation_fn": "swish", "no_scale_embedding": False,
    "decay_schedule": "torchscale", "deepnorm": False, "layernorm_eps": 1e-6, "group_norm_eps": 1e-6,
}
TINY_B, TINY_T, TINY_CHUNK = 2, 13, 5


def base_meta(**extra):
    m = {"retlab_testdata": FORMAT_VERSION, "generator": "retnet/testdata/make_reference.py"}
    m.update({k: str(v) for k, v in extra.items()})
    return m


def tiny_model():
    rng = np.random.default_rng(1001)
    params = lm_init(rng, TINY)
    tokens = rng.integers(0, TINY["vocab_size"], size=(TINY_B, TINY_T))
    return params, tokens


def lm_files():
    """lm_tiny.safetensors, lm_tiny_expected.safetensors and the BF16/F16 variants."""
    params, tokens = tiny_model()
    cfg_json = json.dumps(TINY, sort_keys=True)
    files = {}
    files["lm_tiny.safetensors"] = ({n: F32(p) for n, p in params.items()},
                                    base_meta(retlab_config=cfg_json))

    exp = {"tokens": I64(tokens)}
    runs = {form: lm_forward(tokens, params, TINY, form, TINY_CHUNK) for form in FORMS}
    for form, run in runs.items():
        exp["logits." + form] = F32(run["logits"])
        exp["nll." + form] = F32(next_token_nll(run["logits"], tokens))
    for l, (S, c) in enumerate(runs["recurrent"]["states"]):
        exp["state.%d.S" % l] = F32(S)
        exp["state.%d.scale" % l] = F32(c)
    par = runs["parallel"]
    H, geps = TINY["retention_heads"], TINY["group_norm_eps"]
    for l, h in enumerate(par["hidden"]):
        exp["hidden.%d" % l] = F32(h)
    for l in range(TINY["layers"]):
        z = rmsnorm(par["hidden"][l], params["layers.%d.retention_layer_norm.weight" % l],
                    TINY["layernorm_eps"])
        for form in FORMS:
            m = msr(z, layer_weights(params, l), H, params["retnet_rel_pos.decay"],
                    params["retnet_rel_pos.angle"], form, TINY_CHUNK, geps)
            exp["msr.%d.%s" % (l, form)] = F32(m)
    gelu_cfg = dict(TINY, activation_fn="gelu", no_scale_embedding=True)
    exp["logits.gelu_noscale.parallel"] = F32(lm_forward(tokens, params, gelu_cfg, "parallel")["logits"])
    files["lm_tiny_expected.safetensors"] = (exp, base_meta(chunk=TINY_CHUNK,
                                                            checkpoint="lm_tiny.safetensors"))

    halfs = {"tokens": I64(tokens)}
    for tag, to_bits, to_value in (("bf16", bf16_bits, bf16_value), ("f16", f16_bits, f16_value)):
        bits = {n: to_bits(p) for n, p in params.items()}
        files["lm_tiny_%s.safetensors" % tag] = (
            {n: Tensor(tag.upper(), b.astype("<u2")) for n, b in bits.items()},
            base_meta(retlab_config=cfg_json))
        rounded = {n: to_value(b) for n, b in bits.items()}
        halfs["logits.%s.parallel" % tag] = F32(lm_forward(tokens, rounded, TINY, "parallel")["logits"])
        # Variant: weights rounded but the angle/decay buffers kept at float32 (for a loader that
        # recomputes the buffers from the config instead of reading them).
        relpos32 = dict(rounded)
        relpos32["retnet_rel_pos.angle"] = params["retnet_rel_pos.angle"]
        relpos32["retnet_rel_pos.decay"] = params["retnet_rel_pos.decay"]
        halfs["logits.%s.f32relpos.parallel" % tag] = F32(
            lm_forward(tokens, relpos32, TINY, "parallel")["logits"])
    files["lm_tiny_halfs_expected.safetensors"] = (halfs, base_meta(checkpoints="lm_tiny_bf16.safetensors,lm_tiny_f16.safetensors"))
    return files


CORE_T, CORE_DK, CORE_DV, CORE_H, CORE_CHUNK = 11, 4, 6, 3, 4


def core_inputs():
    rng = np.random.default_rng(1002)
    shape = (1, CORE_H, CORE_T)
    q = f32(rng.standard_normal(shape + (CORE_DK,)))
    k = f32(CORE_DK ** -0.5 * rng.standard_normal(shape + (CORE_DK,)))
    # A few small query rows so the parallel |S| clamp (min 1) is active on some rows and not others.
    q[:, :, 3::4] *= 0.05
    v = f32(rng.standard_normal(shape + (CORE_DV,)))
    return q, k, v, torchscale_log_gamma(CORE_H)


def core_file():
    """retention_core.safetensors: the bare retention core in each form, masks, schedules."""
    q, k, v, lg = core_inputs()
    t = {"q": F32(q), "k": F32(k), "v": F32(v), "log_gamma": F32(lg),
         "o.parallel": F32(retention_parallel(q, k, v, lg)),
         "o.recurrent": F32(retention_recurrent(q, k, v, lg)[0]),
         "o.chunkwise": F32(retention_chunkwise(q, k, v, lg, CORE_CHUNK)),
         "mask.raw": F32(decay_mask(lg, CORE_T)),
         "mask.normalized": F32(normalized_decay_mask(lg, CORE_T)),
         "angle.dk8": F32(angle_buffer(8)),
         "gamma.paper.h5": F32(paper_gamma(5)),  # = torchscale's h=0..4 (log-spaced by exactly 1/2)
         "gamma.paper.h8": F32(paper_gamma(8)),  # differs from torchscale's schedule
         "gamma.torchscale.h32": F32(np.exp(torchscale_log_gamma(32)))}
    return {"retention_core.safetensors": (t, base_meta(chunk=CORE_CHUNK))}


MSR_D, MSR_DV, MSR_H, MSR_T, MSR_CHUNK = 16, 24, 2, 13, 5


def msr_scaled_inputs():
    rng = np.random.default_rng(1003)
    w = msr_init(rng, MSR_D, MSR_DV, qkvg_scale=4.0)
    x = f32(rng.standard_normal((1, MSR_T, MSR_D)))
    return w, x, torchscale_log_gamma(MSR_H), angle_buffer(MSR_D // MSR_H)


def msr_file():
    """msr_scaled.safetensors: one MSR layer with q/k/v/g weights x4, each form, eps 1e-6 and 0."""
    w, x, lg, angle = msr_scaled_inputs()
    t = {n: F32(a) for n, a in w.items()}
    t.update({"x": F32(x), "decay": F32(lg), "angle": F32(angle)})
    for form in FORMS:
        t["out." + form] = F32(msr(x, w, MSR_H, lg, angle, form, MSR_CHUNK, 1e-6))
        t["out.eps0." + form] = F32(msr(x, w, MSR_H, lg, angle, form, MSR_CHUNK, 0.0))
    return {"msr_scaled.safetensors": (t, base_meta(chunk=MSR_CHUNK, heads=MSR_H, group_norm_eps="1e-6"))}


def all_files():
    files = {}
    files.update(lm_files())
    files.update(core_file())
    files.update(msr_file())
    return files


# ---------------------------------------------------------------------------------------------
# Self-checks
# ---------------------------------------------------------------------------------------------

def maxdiff(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))


def check(name, diff, tol):
    status = "ok" if diff <= tol else "FAIL"
    print("%-66s max|diff| %.3e  (tol %.0e) %s" % (name, diff, tol, status))
    return diff <= tol


def unit_rows(o):
    """Scale each (token, head) output row to unit length: removes the per-row positive scalar by
    which the three forms differ."""
    return o / np.sqrt(seqsum(o * o, keepdims=True))


def self_check():
    ok = True
    # 1. The retention core: the forms differ only by a positive scalar per (token, head).
    q, k, v, lg = core_inputs()
    par = retention_parallel(q, k, v, lg)
    rec, (S, c) = retention_recurrent(q, k, v, lg)
    for C in (1, 2, 3, CORE_CHUNK, 5, CORE_T - 1):
        chk = retention_chunkwise(q, k, v, lg, C)
        ok &= check("core: unit rows, chunkwise(C=%d) vs parallel" % C, maxdiff(unit_rows(chk), unit_rows(par)), 1e-12)
    ok &= check("core: unit rows, recurrent vs parallel", maxdiff(unit_rows(rec), unit_rows(par)), 1e-12)
    for C in (CORE_T, CORE_T + 5):
        ok &= check("core: chunkwise(C=%d >= T) == parallel (one chunk, same |S| scale)" % C,
                    maxdiff(retention_chunkwise(q, k, v, lg, C), par), 1e-14)
    # Recurrent state after T tokens: S = sum_m gamma^(T-1-m) v_m^T k_m / sqrt(c_T), c_T = sum gamma^j.
    T = CORE_T
    gamma = np.exp(lg)
    for h in range(CORE_H):
        w = gamma[h] ** (T - 1 - np.arange(T))
        cT = seqsum(w)
        direct = seqsum(w[None, :, None, None] * v[0, h, :, :, None] * k[0, h, :, None, :], axis=1) / math.sqrt(cT)
        ok &= check("core: recurrent state head %d == sum_m gamma^(T-1-m) v_m^T k_m / sqrt(c)" % h,
                    maxdiff(S[0, h], direct[0]) + abs(c[h] - cT), 1e-13)
    # Parallel form by its definition, written out as loops (no matmul helper, no masks helper).
    ref = np.zeros_like(par)
    for h in range(CORE_H):
        for n in range(T):
            s = np.array([gamma[h] ** (n - m) for m in range(n + 1)])
            row = np.array([float(np.dot(q[0, h, n], k[0, h, m])) for m in range(n + 1)]) * s / math.sqrt(s.sum())
            ref[0, h, n] = row @ v[0, h, :n + 1] / min(max(np.abs(row).sum(), 1.0), 5e4)
    ok &= check("core: parallel == loop-by-loop definition", maxdiff(par, ref), 1e-13)
    clamp_rows = np.abs(matmul(q, np.swapaxes(k, -1, -2)) * normalized_decay_mask(lg, T)[None]).sum(-1)
    print("    core parallel rows with sum|S| < 1 (clamp to 1 active): %d of %d" % ((clamp_rows < 1).sum(), clamp_rows.size))
    stats = {}
    retention_chunkwise(q, k, v, lg, CORE_CHUNK, stats)
    print("    core chunkwise (C=%d) rows: %s" % (CORE_CHUNK, stats))

    # 2. The MSR layer with scaled weights: forms agree exactly with eps 0, to ~1e-5 with eps 1e-6.
    w, x, lg2, angle = msr_scaled_inputs()
    outs = {(form, eps): msr(x, w, MSR_H, lg2, angle, form, MSR_CHUNK, eps) for form in FORMS for eps in (0.0, 1e-6)}
    for eps, tol in ((0.0, 1e-9), (1e-6, 1e-4)):
        for form in ("recurrent", "chunkwise"):
            ok &= check("msr x4, eps %g: %s vs parallel" % (eps, form),
                        maxdiff(outs[(form, eps)], outs[("parallel", eps)]), tol)

    # 3. The LM: with group-norm eps 0 all three forms give the same logits; recurrent hidden states
    #    match the parallel ones; chunk sizes that do and don't divide T.
    params, tokens = tiny_model()
    # eps 1e-300 is eps 0 for every real row (mean(o^2) ~ 1e-4) but keeps the all-zero rows of the
    # chunk padding at 0 instead of 0/0 = NaN (which would leak through 0 * NaN in the masked products).
    cfg0 = dict(TINY, group_norm_eps=1e-300)
    par0 = lm_forward(tokens, params, cfg0, "parallel")
    for form, C in (("recurrent", None), ("chunkwise", 5), ("chunkwise", 4), ("chunkwise", 13), ("chunkwise", 1)):
        run = lm_forward(tokens, params, cfg0, form, C)
        label = form + ("(C=%d)" % C if C else "")
        ok &= check("lm, group-norm eps 0: logits %s vs parallel" % label, maxdiff(run["logits"], par0["logits"]), 1e-9)
        ok &= check("lm, group-norm eps 0: hidden.%d %s vs parallel" % (TINY["layers"], label),
                    maxdiff(run["hidden"][-1], par0["hidden"][-1]), 1e-9)
    runs = {form: lm_forward(tokens, params, TINY, form, TINY_CHUNK) for form in FORMS}
    for form in ("recurrent", "chunkwise"):
        print("    lm, group-norm eps 1e-6 (the files' setting): logits %s vs parallel max|diff| %.3e"
              % (form, maxdiff(runs[form]["logits"], runs["parallel"]["logits"])))
    nll = next_token_nll(runs["parallel"]["logits"], tokens)
    lg_ = runs["parallel"]["logits"][:, :-1]
    p = np.exp(lg_ - lg_.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    direct = -np.log(np.take_along_axis(p, tokens[:, 1:, None], -1)[..., 0])
    ok &= check("lm: nll == -log softmax", maxdiff(nll, direct), 1e-12)
    print("    lm: mean nll %.4f (log V = %.4f)" % (nll.mean(), math.log(TINY["vocab_size"])))

    # 4. Buffers and roundings.
    g32 = np.exp(torchscale_log_gamma(32))
    ok &= check("gamma.torchscale: heads >= 20 are exactly 1", float(np.max(np.abs(g32[20:] - 1.0))), 0.0)
    ok &= check("gamma.torchscale: heads < 20 are < 1", float(np.max(g32[:20]) >= 1.0), 0.0)
    ok &= check("angle dk=2 is [1, 1]", maxdiff(angle_buffer(2), [1.0, 1.0]), 0.0)
    ok &= check("angle dk=8 is 10000^(-i/3) pairs", maxdiff(angle_buffer(8), np.repeat(10000.0 ** (-np.arange(4) / 3), 2)), 1e-7)
    cases = np.array([1.0, 1.0 + 2 ** -8, 1.0 + 3 * 2 ** -8, 1.0 + 2 ** -8 + 2 ** -20, -2.5], dtype=np.float32)
    ok &= check("bf16 rounding: ties to even, above-half up", maxdiff(bf16_value(bf16_bits(cases)),
                                                                    [1.0, 1.0, 1.0 + 2 ** -6, 1.0 + 2 ** -7, -2.5]), 0.0)

    # 5. The writer round-trips.
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        files = msr_file()
        for name, (tensors, meta) in files.items():
            write_safetensors(os.path.join(d, name), tensors, meta)
            back, meta_back = read_safetensors(os.path.join(d, name))
            ok &= check("safetensors round trip " + name,
                        max(maxdiff(back[n], tensors[n].array) for n in tensors) + (meta_back != meta), 0.0)
    print("all checks passed" if ok else "SOME CHECKS FAILED")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="directory to write the safetensors files into")
    ap.add_argument("--check", action="store_true", help="run the self-checks and print max differences")
    args = ap.parse_args()
    if not args.out and not args.check:
        ap.error("give --out DIR and/or --check")
    if args.check and not self_check():
        sys.exit(1)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        total = 0
        for name, (tensors, meta) in sorted(all_files().items()):
            path = os.path.join(args.out, name)
            write_safetensors(path, tensors, meta)
            size = os.path.getsize(path)
            total += size
            print("wrote %s (%d tensors, %d bytes)" % (path, len(tensors), size))
        print("total %d bytes" % total)


if __name__ == "__main__":
    main()
