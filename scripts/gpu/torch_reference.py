#!/usr/bin/env python3
"""PyTorch reference of the CUDA retention kernels (retnet/backend/cuda), on the same GPU.

    python3 scripts/gpu/torch_reference.py > bench_torch.json          # the defaults: issue 8's goal shapes
    python3 scripts/gpu/torch_reference.py --quick --device cpu         # smoke test without a GPU
    python3 scripts/gpu/torch_reference.py --compare FILE               # outputs of the timed cores (float64)
                                                                         # on the inputs in FILE (a Go test's)

Same operations, shapes and record format as `retlab bench gpu --json` (Go struct cuda.KernelBench), with
impl "pytorch", so scripts/gpu/summarize.py can pair them. Retention core only (q, k, v given), float32,
TF32 off (the Go kernels are full float32), torchscale semantics (docs/retnet-spec.md):

  copy            y.copy_(x) of --copy-mib MiB: read + write, the practical bandwidth
  chunkwise       torchscale's chunk_recurrent_forward core: intra-chunk q k^T times the normalised mask,
                  |.| row sums clamped at 1, inner = A V; kv = k^T (v * value_inner_decay) per chunk; a Python
                  loop over the chunks carries the state and its scale (as torchscale does); cross =
                  (q * query_inner_decay) @ kv_recurrent; o = inner / (all/inner) + cross / (all/cross)
  parallel        q k^T times the normalised T x T mask, rows / clamp(sum |.|, 1, 5e4), times V
  recurrent_step  torchscale's recurrent step for a batch: S = S * a + (v (x) k) * b, o = sum(q * S)
  sgemm           torch.mm in float32

The relative-position tensors (masks, decays) are built once outside the timing, as RetNetDecoder builds them
once per forward and shares them across layers. Timing: CUDA events (wall clock on the CPU), one untimed
warm-up call, the fastest and the median of --repeats calls. Before timing, a self-check runs the chunkwise and
parallel cores on a small input in float64 and checks they agree after a per-row normalisation (they differ by
a positive scalar per row, see docs/retnet-spec.md). JSON on stdout, progress on stderr.
"""

import argparse
import json
import math
import sys
import time

import torch


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--ops", default="copy,chunkwise,parallel,recurrent_step,sgemm")
    ap.add_argument("--B", type=int, default=1)
    ap.add_argument("--T", default="8192", help="sequence lengths of the chunkwise form")
    ap.add_argument("--parallel-T", default="2048,8192", help="sequence lengths of the parallel form")
    ap.add_argument("--H", type=int, default=8)
    ap.add_argument("--dk", type=int, default=256)
    ap.add_argument("--dv", type=int, default=512)
    ap.add_argument("--chunks", default="64,128,256,512")
    ap.add_argument("--batches", default="1,8,64,256", help="batch sizes of the recurrent step")
    ap.add_argument("--steps", type=int, default=50, help="decode steps per timing")
    ap.add_argument("--gemm", default="4096x4096x4096,8192x2048x2048")
    ap.add_argument("--copy-mib", type=int, default=1024)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--quick", action="store_true", help="tiny shapes, 2 repeats (smoke test)")
    ap.add_argument("--compare", metavar="FILE", help="print the cores' outputs on FILE's inputs and exit")
    a = ap.parse_args()
    if a.quick:
        a.T, a.parallel_T, a.H, a.dk, a.dv = "200", "130", 2, 16, 24
        a.chunks, a.batches, a.gemm, a.copy_mib, a.repeats, a.steps = "16,64", "2", "65x33x17", 1, 2, 3
    ints = lambda s: [int(x) for x in s.split(",") if x]
    a.T, a.parallel_T, a.chunks, a.batches = ints(a.T), ints(a.parallel_T), ints(a.chunks), ints(a.batches)
    a.gemm = [tuple(int(v) for v in g.split("x")) for g in a.gemm.split(",") if g]
    a.ops = [o for o in a.ops.split(",") if o]
    return a


def log_gammas(H, dtype=torch.float32):
    """torchscale's decays log(1 - 2^(-5-h)), computed in float32 as its buffer is."""
    return torch.log(1 - 2 ** (-5 - torch.arange(H, dtype=torch.float))).to(dtype)


def decay_mask(lg, n):
    """gamma^(i-j) for j <= i else 0, per head: (H, n, n)."""
    index = torch.arange(n, device=lg.device).to(lg)
    dist = index[:, None] - index[None, :]
    mask = torch.exp(dist.masked_fill(dist < 0, float("inf"))[None] * lg[:, None, None])
    return torch.nan_to_num(mask)


def parallel_relpos(lg, T):
    mask = decay_mask(lg, T)
    return mask / mask.sum(dim=-1, keepdim=True).sqrt()


def parallel_core(q, k, v, mask):
    """q, k (B,H,T,dk), v (B,H,T,dv) -> o (B,H,T,dv)."""
    qk = q @ k.transpose(-1, -2)
    qk.mul_(mask)
    qk.div_(qk.abs().sum(dim=-1, keepdim=True).clamp(min=1, max=5e4))
    return qk @ v


def chunk_relpos(lg, C):
    mask = decay_mask(lg, C)
    value_inner_decay = (mask[:, -1] / mask[:, -1].sum(dim=-1, keepdim=True)).unsqueeze(-1)
    scale = mask.sum(dim=-1, keepdim=True).sqrt()
    inner_mask = mask / scale
    cross_decay = torch.exp(lg * C)[:, None, None]
    block = torch.arange(C, device=lg.device).to(lg)
    query_inner_decay = torch.exp(lg[:, None] * (block + 1))
    query_inner_decay = query_inner_decay[:, :, None] / (scale / mask[:, -1].sum(dim=-1)[:, None, None])
    return inner_mask, cross_decay, query_inner_decay, value_inner_decay


def chunkwise_core(q, k, v, rel, C):
    """torchscale chunk_recurrent_forward on q, k (B,H,T,dk), v (B,H,T,dv); T padded to a multiple of C."""
    mask, cross_decay, query_inner_decay, value_inner_decay = rel
    B, H, T, dk = q.shape
    dv = v.shape[-1]
    Tp = -(-T // C) * C
    if Tp != T:
        pad = lambda x: torch.nn.functional.pad(x, (0, 0, 0, Tp - T))
        q, k, v = pad(q), pad(k), pad(v)
    n = Tp // C
    qr = q.view(B, H, n, C, dk).transpose(1, 2)
    kr = k.view(B, H, n, C, dk).transpose(1, 2)
    v = v.view(B, H, n, C, dv).transpose(1, 2)
    kr_t = kr.transpose(-1, -2)
    qk = (qr @ kr_t) * mask
    inner_scale = qk.abs().sum(dim=-1, keepdim=True).clamp(min=1)
    qk = qk / inner_scale
    inner = qk @ v
    kv = kr_t @ (v * value_inner_decay)
    kv_recurrent, cross_scale = [], []
    kv_state = torch.zeros(B, H, dk, dv, dtype=v.dtype, device=v.device)
    kv_scale = torch.ones(B, H, 1, 1, dtype=v.dtype, device=v.device)
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
    return o.transpose(1, 2).reshape(B, H, Tp, dv)[:, :, :T]


def recurrent_step(q, k, v, state, scale, gamma):
    """One decode step of torchscale's recurrent_forward for a batch: q, k (B,H,dk), v (B,H,dv),
    state (B,H,dv,dk), scale (H) -> o (B,H,dv), new state, new scale."""
    kv = v.unsqueeze(-1) * k.unsqueeze(-2)
    new_scale = scale * gamma + 1
    a = (scale.sqrt() * gamma / new_scale.sqrt()).view(-1, 1, 1)
    b = (1 / new_scale.sqrt()).view(-1, 1, 1)
    state = state * a + kv * b
    return (state * q.unsqueeze(-2)).sum(-1), state, new_scale


def self_check(device):
    """Chunkwise and parallel agree up to a positive scalar per row (float64, small input)."""
    g = torch.Generator().manual_seed(0)
    B, H, T, dk, dv = 2, 3, 70, 8, 6
    q = torch.randn(B, H, T, dk, generator=g, dtype=torch.float64).to(device)
    k = torch.randn(B, H, T, dk, generator=g, dtype=torch.float64).to(device) / math.sqrt(dk)
    v = torch.randn(B, H, T, dv, generator=g, dtype=torch.float64).to(device)
    lg = log_gammas(H, torch.float64).to(device)
    ref = parallel_core(q, k, v, parallel_relpos(lg, T))
    rms = lambda x: x / x.pow(2).mean(-1, keepdim=True).sqrt()
    worst = 0.0
    for C in (1, 16, 64, 100):
        o = chunkwise_core(q, k, v, chunk_relpos(lg, C), C)
        worst = max(worst, (rms(o) - rms(ref)).abs().max().item())
    print("self-check: chunkwise vs parallel after row normalisation, max|diff| %.2e (tol 1e-9)" % worst,
          file=sys.stderr)
    return worst < 1e-9


def compare(path):
    """The outputs of the timed cores on the inputs of a JSON file {B, T, H, dk, dv, log_gamma, chunks, q, k, v}
    (q, k (B,T,H*dk), v (B,T,H*dv), flat), in float64, as {parallel, chunkwise: {C: o}, recurrent} in the same
    layout: what TestGPUScripts compares with the Go CPU code, so the timed PyTorch work is the Go work."""
    with open(path) as f:
        c = json.load(f)
    B, T, H, dk, dv = c["B"], c["T"], c["H"], c["dk"], c["dv"]
    heads = lambda name, d: torch.tensor(c[name], dtype=torch.float64).view(B, T, H, d).transpose(1, 2)
    q, k, v = heads("q", dk), heads("k", dk), heads("v", dv)
    lg = torch.tensor(c["log_gamma"], dtype=torch.float64)
    flat = lambda o: o.transpose(1, 2).reshape(-1).tolist()
    out = dict(parallel=flat(parallel_core(q, k, v, parallel_relpos(lg, T))), chunkwise={})
    for C in c["chunks"]:
        C1 = min(C, T)
        out["chunkwise"][str(C)] = flat(chunkwise_core(q, k, v, chunk_relpos(lg, C1), C1))
    state, scale, outs = torch.zeros(B, H, dv, dk, dtype=torch.float64), torch.zeros(H, dtype=torch.float64), []
    for i in range(T):
        o, state, scale = recurrent_step(q[:, :, i], k[:, :, i], v[:, :, i], state, scale, lg.exp())
        outs.append(o)
    out["recurrent"] = flat(torch.stack(outs, dim=2))
    json.dump(out, sys.stdout)
    print()


class Timer:
    def __init__(self, device):
        self.cuda = device.startswith("cuda")

    def __call__(self, fn, repeats):
        fn()
        times = []
        for _ in range(repeats):
            if self.cuda:
                a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                a.record()
                fn()
                b.record()
                b.synchronize()
                times.append(a.elapsed_time(b))
            else:
                t0 = time.perf_counter()
                fn()
                times.append((time.perf_counter() - t0) * 1e3)
        times.sort()
        return times[0], times[len(times) // 2]


def main():
    a = parse_args()
    if a.compare:
        compare(a.compare)
        return
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = a.device
    if dev.startswith("cuda") and not torch.cuda.is_available():
        print("torch_reference: no CUDA device visible to torch %s" % torch.__version__, file=sys.stderr)
        sys.exit(1)
    if not self_check(dev):
        print("torch_reference: self-check FAILED", file=sys.stderr)
        sys.exit(1)
    name = torch.cuda.get_device_name() if dev.startswith("cuda") else "cpu"
    note = "torch %s, float32, TF32 off" % torch.__version__
    timer = Timer(dev)
    gen = torch.Generator(device=dev).manual_seed(1) if dev.startswith("cuda") else torch.Generator().manual_seed(1)
    randn = lambda *shape, scale=1.0: torch.randn(*shape, generator=gen, device=dev) * scale
    recs = []

    def add(rec):
        rec.update(impl="pytorch", device=name)
        rec.setdefault("note", note)
        if rec.get("gflop"):
            rec["gflop_per_s"] = rec["gflop"] / (rec["ms"] / 1e3)
        if rec.get("gb"):
            rec["gb_per_s"] = rec["gb"] / (rec["ms"] / 1e3)
        recs.append(rec)
        print("%-15s %s  %9.4f ms" % (rec["op"], {k: rec[k] for k in ("B", "T", "H", "dk", "dv", "chunk", "m", "n", "k")
                                                  if k in rec}, rec["ms"]), file=sys.stderr)

    copy_gbs = 0
    if "copy" in a.ops:
        n = a.copy_mib * (1 << 20) // 4
        x, y = randn(n), torch.empty(n, device=dev)
        best, med = timer(lambda: y.copy_(x), a.repeats)
        add(dict(op="copy", ms=best, ms_median=med, gb=2 * 4 * n / 1e9, note=note + "; y.copy_(x), read + write"))
        copy_gbs = recs[-1]["gb_per_s"]
        del x, y

    H, dk, dv = a.H, a.dk, a.dv
    lg = log_gammas(H).to(dev)
    with torch.no_grad():
        if "chunkwise" in a.ops:
            for T in a.T:
                q, k, v = randn(a.B, H, T, dk), randn(a.B, H, T, dk, scale=dk ** -0.5), randn(a.B, H, T, dv)
                for C in a.chunks:
                    C = min(C, T)
                    rel = chunk_relpos(lg, C)
                    best, med = timer(lambda: chunkwise_core(q, k, v, rel, C), a.repeats)
                    nc = -(-T // C)
                    flops = a.B * H * nc * (2 * C * C * (dk + dv) + 4 * C * dk * dv)
                    add(dict(op="chunkwise", B=a.B, T=T, H=H, dk=dk, dv=dv, chunk=C, ms=best, ms_median=med,
                             gflop=flops / 1e9))
                    del rel
                del q, k, v
        if "parallel" in a.ops:
            for T in a.parallel_T:
                q, k, v = randn(a.B, H, T, dk), randn(a.B, H, T, dk, scale=dk ** -0.5), randn(a.B, H, T, dv)
                mask = parallel_relpos(lg, T)
                best, med = timer(lambda: parallel_core(q, k, v, mask), a.repeats)
                add(dict(op="parallel", B=a.B, T=T, H=H, dk=dk, dv=dv, ms=best, ms_median=med,
                         gflop=2 * a.B * H * T * T * (dk + dv) / 1e9))
                del q, k, v, mask
        if "recurrent_step" in a.ops:
            gamma = lg.exp()
            for B in a.batches:
                q, k, v = randn(B, H, dk), randn(B, H, dk, scale=dk ** -0.5), randn(B, H, dv)
                state = [randn(B, H, dv, dk, scale=0.1), torch.full((H,), 10.0, device=dev)]

                def steps():
                    for _ in range(a.steps):
                        _, state[0], state[1] = recurrent_step(q, k, v, state[0], state[1], gamma)

                best, med = timer(steps, a.repeats)
                gb = 4 * B * H * (2 * dk * dv + 2 * dk + 2 * dv) / 1e9
                rec = dict(op="recurrent_step", B=B, T=1, H=H, dk=dk, dv=dv, ms=best / a.steps,
                           ms_median=med / a.steps, gb=gb, note=note + "; %d steps per timing" % a.steps)
                add(rec)
                if copy_gbs:
                    rec["bw_frac"] = rec["gb_per_s"] / copy_gbs
                del q, k, v, state
        if "sgemm" in a.ops:
            for m, n, k in a.gemm:
                x, y = randn(m, k), randn(k, n)
                best, med = timer(lambda: torch.mm(x, y), a.repeats)
                add(dict(op="sgemm", m=m, n=n, k=k, ms=best, ms_median=med, gflop=2 * m * n * k / 1e9))
                del x, y
    json.dump(recs, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
