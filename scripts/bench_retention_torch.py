#!/usr/bin/python3
"""PyTorch CPU reference timings of one multi-scale retention (MSR) layer, torchscale semantics.

    /usr/bin/python3 scripts/bench_retention_torch.py [--T 512,2048,8192] [--threads 2] ...
    /usr/bin/python3 scripts/bench_retention_torch.py --quick        # T=256,512, 1 repeat (smoke test)
    /usr/bin/python3 scripts/bench_retention_torch.py --self-test    # correctness checks only

The anchor is current PyTorch from PyPI (`make bench-deps`, run with .venv-bench/bin/python): timing
refuses (exit 2, scripts/benchanchor.py) a torch whose BLAS runs generic kernels, such as Debian's
torch 1.13 on OpenBLAS 0.3.21 on the project's Xeon (SSE3 "Prescott" kernels), unless --allow-generic.
--self-test runs with any torch. The note of every record says which BLAS and ISA were used.

One MSR layer forward in float32 under torch.no_grad, per form (docs/retnet-spec.md, torchscale's
MultiScaleRetention): q/k/v/g projections, key scaling dk^-1/2, interleaved rotation, the retention form,
per-head RMSNorm group norm (eps 1e-6), swish gate, output projection.
* parallel: the full T x T masked matmul as torchscale does it (q k^T, times the normalised decay mask,
  rows divided by clamp(sum |S|, 1, 5e4), times V).
* chunkwise: torchscale's chunk_recurrent_forward (intra-chunk masked matmul, inter-chunk state carried by
  a Python loop over chunks, inner/cross scales). The chunk is min(--chunk, T); T is zero-padded to a
  multiple of it.
* recurrent: decoding token by token over the whole sequence (one call per token, state carried);
  ms is the whole sequence, ms_per_token = ms / T.
The relative-position tensors (sin/cos, decay masks) are built once per T outside the timing, as
RetNetDecoder builds them once and shares them across layers (--include-relpos times them too).
Timing: one untimed warm-up call on a 128-token prefix, then the best of --repeats wall times.

Output: a JSON array on stdout of records with the keys of the Go struct retnet.RetentionBench
(retnet/results.go). Progress goes to stderr.
"""

import argparse
import json
import math
import os
import re
import struct
import sys
import time


def msr_flops(form, T, B, D, DV, H, chunk=0):
    """Floating-point operations of one MSR layer forward (multiply and add counted as 2).

    With dk = D/H, dv = DV/H:
      projections   2*B*T*D*(2*D + 2*DV)        q, k (D -> D) and v, g (D -> DV)
      out proj      2*B*T*DV*D
      retention core, as executed:
        parallel    2*B*H*T*T*(dk + dv)          the full T x T products q k^T and S V (masked half included)
        chunkwise   B*H*nc*(2*C*C*(dk + dv) + 2*C*dk*dv*2)
                    nc = ceil(T/C) chunks: per chunk and head the C x C products q k^T and A V, plus the
                    state update k^T V (2*C*dk*dv) and the cross term q R (2*C*dk*dv)
        recurrent   B*H*T*4*dk*dv                per token and head: state update k^T v and output q S
    Elementwise work (masks, norms, gate, rotation) is not counted. The Go benchmarks use this formula.
    """
    dk, dv = D // H, DV // H
    total = 2 * B * T * D * (2 * D + 2 * DV) + 2 * B * T * DV * D
    if form == "parallel":
        total += 2 * B * H * T * T * (dk + dv)
    elif form == "chunkwise":
        nc = -(-T // chunk)
        total += B * H * nc * (2 * chunk * chunk * (dk + dv) + 2 * chunk * dk * dv * 2)
    elif form == "recurrent":
        total += B * H * T * 4 * dk * dv
    else:
        raise ValueError(form)
    return total


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--T", default="512,2048,8192", help="sequence lengths, comma separated")
    ap.add_argument("--D", type=int, default=512, help="model dim")
    ap.add_argument("--DV", type=int, default=1024, help="value dim")
    ap.add_argument("--H", type=int, default=4, help="heads")
    ap.add_argument("--B", type=int, default=1, help="batch")
    ap.add_argument("--chunk", type=int, default=512, help="chunk size of the chunkwise form")
    ap.add_argument("--repeats", type=int, default=3, help="best of this many timed calls")
    ap.add_argument("--threads", type=int, default=2, help="torch (and OpenBLAS) threads")
    ap.add_argument("--forms", default="parallel,chunkwise,recurrent", help="forms to time")
    ap.add_argument("--include-relpos", action="store_true",
                    help="time building sin/cos and the decay masks too")
    ap.add_argument("--quick", action="store_true", help="T=256,512 and 1 repeat (smoke test)")
    ap.add_argument("--self-test", action="store_true", help="run the correctness checks only")
    ap.add_argument("--no-self-test", action="store_true",
                    help="skip the correctness checks (a driver that already ran them once per run)")
    ap.add_argument("--allow-generic", action="store_true",
                    help="time even a torch whose BLAS runs generic kernels (scripts/benchanchor.py refuses)")
    args = ap.parse_args()
    if args.quick:
        args.T, args.repeats = "256,512", 1
    args.T = [int(t) for t in args.T.split(",") if t]
    args.forms = [f for f in args.forms.split(",") if f]
    for f in args.forms:
        if f not in ("parallel", "chunkwise", "recurrent"):
            ap.error("unknown form %r" % f)
    if args.D % args.H or args.DV % args.H or (args.D // args.H) % 2:
        ap.error("D and DV must be divisible by H, and D/H even")
    return args


ARGS = parse_args()
# OpenBLAS keeps its own thread pool, which torch.set_num_threads does not size: set it before loading.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchanchor  # noqa: E402

benchanchor.threads(ARGS.threads)

import torch  # noqa: E402  (after the thread environment is set)
import torch.nn.functional as F  # noqa: E402


# ---------------------------------------------------------------------------------------------
# The MSR layer (torchscale semantics, written from the spec)
# ---------------------------------------------------------------------------------------------

def rotate_every_two(x):
    """(x0, x1, x2, x3, ...) -> (-x1, x0, -x3, x2, ...) on the last axis."""
    x1, x2 = x[..., ::2], x[..., 1::2]
    return torch.stack((-x2, x1), dim=-1).flatten(-2)


def theta_shift(x, sin, cos):
    """Interleaved-pair rotation: x cos + rotate_every_two(x) sin."""
    return x * cos + rotate_every_two(x) * sin


class MSR:
    """One multi-scale retention layer with torchscale's parameters and buffers.

    Weights are (out, in); decay is log(1 - 2^(-5-h)) computed in float32; angle is
    1/10000^linspace(0, 1, dk/2), each repeated twice.
    """

    def __init__(self, D, DV, H, dtype=torch.float32, seed=0, eps=1e-6):
        self.D, self.DV, self.H = D, DV, H
        self.dk, self.dv = D // H, DV // H
        self.eps = eps
        self.dtype = dtype
        gen = torch.Generator().manual_seed(seed)

        def xavier(out_dim, in_dim, gain):
            bound = gain * math.sqrt(6.0 / (in_dim + out_dim))
            return ((torch.rand(out_dim, in_dim, generator=gen) * 2 - 1) * bound).to(dtype)

        g = 2 ** -2.5
        self.w = {"q_proj.weight": xavier(D, D, g), "k_proj.weight": xavier(D, D, g),
                  "v_proj.weight": xavier(DV, D, g), "g_proj.weight": xavier(DV, D, g),
                  "out_proj.weight": xavier(D, DV, 2 ** -1)}
        self.decay = torch.log(1 - 2 ** (-5 - torch.arange(H, dtype=torch.float))).to(dtype)
        angle = 1.0 / (10000 ** torch.linspace(0, 1, self.dk // 2))
        self.angle = angle.unsqueeze(-1).repeat(1, 2).flatten().to(dtype)

    # -- relative position tensors, built once per T (RetNetRelPos) --

    def sincos(self, T):
        index = torch.arange(T).to(self.angle)
        phase = index[:, None] * self.angle[None, :]
        return torch.sin(phase), torch.cos(phase)

    def decay_mask(self, n):
        """gamma^(i-j) for j <= i else 0, per head: (H, n, n)."""
        index = torch.arange(n).to(self.decay)
        dist = index[:, None] - index[None, :]
        mask = torch.exp(dist.masked_fill(dist < 0, float("inf"))[None] * self.decay[:, None, None])
        return torch.nan_to_num(mask)  # exp(inf * 0) for a head with gamma = 1 -> 0

    def relpos(self, form, T, chunk=None):
        if form == "parallel":
            mask = self.decay_mask(T)
            return self.sincos(T), mask / mask.sum(dim=-1, keepdim=True).sqrt()
        if form == "chunkwise":
            C = chunk
            mask = self.decay_mask(C)
            block = torch.arange(C).to(self.decay)
            value_inner_decay = (mask[:, -1] / mask[:, -1].sum(dim=-1, keepdim=True)).unsqueeze(-1)
            scale = mask.sum(dim=-1, keepdim=True).sqrt()
            inner_mask = mask / scale
            cross_decay = torch.exp(self.decay * C)[:, None, None]
            query_inner_decay = torch.exp(self.decay[:, None] * (block + 1))
            query_inner_decay = query_inner_decay[:, :, None] / (scale / mask[:, -1].sum(dim=-1)[:, None, None])
            Tp = -(-T // C) * C
            return self.sincos(Tp), (inner_mask, cross_decay, query_inner_decay, value_inner_decay)
        raise ValueError(form)

    # -- shared parts --

    def project(self, x, sin, cos):
        B, T, _ = x.shape
        q = F.linear(x, self.w["q_proj.weight"])
        k = F.linear(x, self.w["k_proj.weight"]) * self.dk ** -0.5
        v = F.linear(x, self.w["v_proj.weight"])
        g = F.linear(x, self.w["g_proj.weight"])
        q = q.view(B, T, self.H, self.dk).transpose(1, 2)
        k = k.view(B, T, self.H, self.dk).transpose(1, 2)
        return theta_shift(q, sin, cos), theta_shift(k, sin, cos), v, g

    def finish(self, o, g):
        """o (B, T, H, dv): group norm per head, swish gate, output projection."""
        B, T = o.shape[:2]
        o = o * torch.rsqrt(o.pow(2).mean(-1, keepdim=True) + self.eps)
        return F.linear(F.silu(g) * o.reshape(B, T, self.DV), self.w["out_proj.weight"])

    # -- the forms --

    def parallel(self, x, rel):
        (sin, cos), mask = rel
        B, T, _ = x.shape
        qr, kr, v, g = self.project(x, sin, cos)
        vr = v.view(B, T, self.H, self.dv).transpose(1, 2)
        qk = qr @ kr.transpose(-1, -2)            # (B, H, T, T)
        qk.mul_(mask)                             # in place: same values, one T x T buffer less
        qk.div_(qk.abs().sum(dim=-1, keepdim=True).clamp(min=1, max=5e4))
        o = (qk @ vr).transpose(1, 2)             # (B, T, H, dv)
        return self.finish(o, g)

    def chunkwise(self, x, rel, chunk):
        (sin, cos), (mask, cross_decay, query_inner_decay, value_inner_decay) = rel
        B, T, _ = x.shape
        C = chunk
        Tp = -(-T // C) * C
        xp = F.pad(x, (0, 0, 0, Tp - T))
        qr, kr, v, g = self.project(xp, sin, cos)
        n = Tp // C
        qr = qr.view(B, self.H, n, C, self.dk).transpose(1, 2)        # (B, n, H, C, dk)
        kr = kr.view(B, self.H, n, C, self.dk).transpose(1, 2)
        v = v.view(B, n, C, self.H, self.dv).transpose(2, 3)          # (B, n, H, C, dv)
        kr_t = kr.transpose(-1, -2)
        qk = (qr @ kr_t) * mask
        inner_scale = qk.abs().sum(dim=-1, keepdim=True).clamp(min=1)
        qk = qk / inner_scale
        inner = qk @ v
        kv = kr_t @ (v * value_inner_decay)                           # (B, n, H, dk, dv)
        kv_recurrent, cross_scale = [], []
        kv_state = torch.zeros(B, self.H, self.dk, self.dv, dtype=v.dtype)
        kv_scale = torch.ones(B, self.H, 1, 1, dtype=v.dtype)
        for i in range(n):
            kv_recurrent.append(kv_state / kv_scale)
            cross_scale.append(kv_scale)
            kv_state = kv_state * cross_decay + kv[:, i]
            kv_scale = kv_state.abs().sum(dim=-2, keepdim=True).max(dim=-1, keepdim=True).values.clamp(min=1)
        kv_recurrent = torch.stack(kv_recurrent, dim=1)
        cross_scale = torch.stack(cross_scale, dim=1)
        all_scale = torch.maximum(inner_scale, cross_scale)
        cross = (qr * query_inner_decay) @ kv_recurrent
        o = inner / (all_scale / inner_scale) + cross / (all_scale / cross_scale)
        o = o.transpose(2, 3).reshape(B, Tp, self.H, self.dv)[:, :T]
        return self.finish(o, g[:, :T])

    def recurrent_step(self, x, n, state):
        """Decode one token x (B, 1, D) at position n; state is a dict (empty before token 0)."""
        B = x.shape[0]
        sin, cos = torch.sin(self.angle * n), torch.cos(self.angle * n)
        qr, kr, v, g = self.project(x, sin, cos)                      # qr, kr (B, H, 1, dk)
        v = v.view(B, self.H, self.dv, 1)
        kv = kr * v                                                   # (B, H, dv, dk)
        if "prev_key_value" in state:
            prev_kv, prev_scale = state["prev_key_value"], state["scale"]
            decay = self.decay.exp()
            scale = prev_scale * decay + 1
            kv = (prev_kv * (prev_scale.sqrt() * decay / scale.sqrt()).view(self.H, 1, 1)
                  + kv / scale.sqrt().view(self.H, 1, 1))
        else:
            scale = torch.ones_like(self.decay)
        state["prev_key_value"], state["scale"] = kv, scale
        o = torch.sum(qr * kv, dim=3)                                 # (B, H, dv)
        return self.finish(o.view(B, 1, self.H, self.dv), g)

    def recurrent(self, x):
        state = {}
        return torch.cat([self.recurrent_step(x[:, n:n + 1], n, state) for n in range(x.shape[1])], dim=1)

    def forward(self, form, x, rel=None, chunk=None):
        if form == "recurrent":
            return self.recurrent(x)
        if rel is None:
            rel = self.relpos(form, x.shape[1], chunk)
        if form == "parallel":
            return self.parallel(x, rel)
        return self.chunkwise(x, rel, chunk)


# ---------------------------------------------------------------------------------------------
# Self-tests
# ---------------------------------------------------------------------------------------------

def read_safetensors(path):
    """Minimal F32 safetensors reader -> {name: float64 tensor}."""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, h in header.items():
        if h["dtype"] != "F32":
            continue
        b, e = h["data_offsets"]
        t = torch.frombuffer(bytearray(raw[8 + n + b:8 + n + e]), dtype=torch.float32)
        out[name] = t.reshape(h["shape"]).to(torch.float64)
    return out


def self_test():
    """The three forms agree (group-norm eps 0, float32) at T=64; and, in float64, this module
    reproduces the numpy reference vectors of retnet/testdata/msr_scaled.safetensors."""
    ok = True
    torch.manual_seed(0)
    m = MSR(64, 128, 4, eps=0.0, seed=1)
    for name in ("q_proj.weight", "k_proj.weight", "v_proj.weight", "g_proj.weight"):
        m.w[name] *= 4  # activations well above float32 noise, like the spec's x4 check
    x = torch.randn(2, 64, 64)
    with torch.no_grad():
        ref = m.forward("parallel", x)
        outs = {"recurrent": m.forward("recurrent", x)}
        for C in (16, 24, 64, 100):
            outs["chunkwise(C=%d)" % C] = m.forward("chunkwise", x, chunk=C)
    for name, o in outs.items():
        d = (o - ref).abs().max().item()
        ok &= d <= 1e-4
        print("self-test: T=64 float32 eps 0, %s vs parallel: max|diff| %.2e (tol 1e-4)" % (name, d),
              file=sys.stderr)

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "retnet", "testdata",
                        "msr_scaled.safetensors")
    if os.path.exists(path):
        t = read_safetensors(path)
        for eps, prefix in ((1e-6, "out."), (0.0, "out.eps0.")):
            m = MSR(16, 24, 2, dtype=torch.float64, eps=eps)
            m.w = {k: v for k, v in t.items() if k.endswith("_proj.weight")}
            m.decay, m.angle = t["decay"], t["angle"]
            with torch.no_grad():
                for form in ("parallel", "chunkwise", "recurrent"):
                    o = m.forward(form, t["x"], chunk=5)
                    d = (o - t[prefix + form]).abs().max().item()
                    ok &= d <= 1e-7
                    print("self-test: float64 vs numpy reference %s%s: max|diff| %.2e (tol 1e-7)"
                          % (prefix, form, d), file=sys.stderr)
    else:
        print("self-test: %s missing, reference comparison skipped" % path, file=sys.stderr)
    return ok


# ---------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------

def blas_note():
    """torch version, its BLAS and the ISA evidence of the anchor guard; exits 2 on generic kernels."""
    a = benchanchor.check_torch(torch, ARGS.allow_generic)
    return "torch %s, BLAS_INFO=%s, CPU capability %s, %s" % (
        a["torch"], a["blas_info"], a["cpu_capability"], a.get("mkl") or a.get("blas_pools"))


def best_time(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    torch.set_num_threads(ARGS.threads)
    if not ARGS.no_self_test and not self_test():
        print("self-test FAILED", file=sys.stderr)
        sys.exit(1)
    if ARGS.self_test:
        return
    note = blas_note() + ("; relpos timed" if ARGS.include_relpos else "; relpos built outside the timing")
    print(note, file=sys.stderr)
    m = MSR(ARGS.D, ARGS.DV, ARGS.H, seed=0)
    records = []
    with torch.no_grad():
        for T in ARGS.T:
            x = torch.randn(ARGS.B, T, ARGS.D, generator=torch.Generator().manual_seed(T))
            for form in ARGS.forms:
                chunk = min(ARGS.chunk, T) if form == "chunkwise" else None
                # Warm-up (thread pool, allocator, BLAS buffers) on a short prefix, untimed.
                w = min(T, 128)
                m.forward(form, x[:, :w], None, min(chunk, w) if chunk else None)
                rel = None
                if form != "recurrent" and not ARGS.include_relpos:
                    rel = m.relpos(form, T, chunk)
                secs = best_time(lambda: m.forward(form, x, rel, chunk), ARGS.repeats)
                del rel
                gflop = msr_flops(form, T, ARGS.B, ARGS.D, ARGS.DV, ARGS.H, chunk or 0) / 1e9
                rec = {"impl": "pytorch", "gflop_executed": gflop, "form": form, "T": T, "batch": ARGS.B, "D": ARGS.D,
                       "DV": ARGS.DV, "H": ARGS.H, "chunk": chunk or 0, "ms": secs * 1e3,
                       "ms_per_token": secs * 1e3 / T, "gflop": gflop, "gflop_per_s": gflop / secs,
                       "threads": ARGS.threads, "note": note}
                records.append(rec)
                print("%-9s T=%-5d %10.2f ms  %8.4f ms/token  %7.2f GFLOP/s" % (
                    form, T, rec["ms"], rec["ms_per_token"], rec["gflop_per_s"]), file=sys.stderr)
    json.dump(records, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
