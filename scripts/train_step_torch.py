#!/usr/bin/env python3
"""PyTorch CPU reference for `retlab bench train`: one AdamW training step of
a RetNet decoder LM, written from docs/retnet-spec.md (torchscale
semantics), or of the repo's Transformer baseline (retnet/transformer.go:
the same LM with multi-scale retention replaced by causal softmax attention
on rotated q and k), timed on the CPU with a fixed thread count.

A step is: forward (RetNet: parallel retention for T <= --chunk, chunkwise
retention with chunks of --chunk beyond, as the Go benchmark does;
Transformer: torch's fused scaled_dot_product_attention, what a PyTorch
user would run), mean cross-entropy, backward, gradient clipping to norm 1,
AdamW(0.9, 0.98, wd 0.05). Prints a JSON array of retnet.TrainBench records
(impl "pytorch") on stdout.
With --verify CHECKPOINT it instead loads a Go checkpoint of --model and
prints the loss on --tokens: the Go tests compare it with the Go model's, so
the timed reference is known to compute the same function.

Usage: train_step_torch.py --D 128 --DV 256 --F 256 --L 3 --H 4 --T 256,512
       train_step_torch.py --model transformer --D 128 --F 469 --L 3 --H 4
"""
import argparse
import json
import math
import os
import resource
import sys
import time

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--model", default="retnet", choices=["retnet", "transformer"], help="architecture")
ap.add_argument("--size", default="", help="ladder rung name, copied into the records")
ap.add_argument("--V", type=int, default=256)
ap.add_argument("--D", type=int, required=True)
ap.add_argument("--DV", type=int, default=0, help="value dim (RetNet only, required there)")
ap.add_argument("--F", type=int, required=True)
ap.add_argument("--L", type=int, required=True)
ap.add_argument("--H", type=int, required=True)
ap.add_argument("--T", default="256,512,1024,2048", help="sequence lengths")
ap.add_argument("--tokens-per-step", type=int, default=4096, help="batch = max(1, tokens/T)")
ap.add_argument("--steps", type=int, default=3, help="timed steps (median) after one warm-up step")
ap.add_argument("--chunk", type=int, default=512, help="chunk size; T > chunk trains chunkwise")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--verify", default="", help="instead of timing: load this Go checkpoint and print the loss on --tokens as JSON")
ap.add_argument("--allow-generic", action="store_true",
                help="time even a torch whose BLAS runs generic kernels (scripts/benchanchor.py refuses otherwise)")
ap.add_argument("--tokens", default="", help="comma-separated token ids for --verify (inputs [:-1], targets [1:])")
args = ap.parse_args()
if args.model == "retnet" and args.DV <= 0:
    ap.error("--DV is required for --model retnet")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchanchor  # noqa: E402

benchanchor.threads(args.threads)

import torch  # noqa: E402  (after the thread variables)
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(args.threads)


def rms_norm(x, weight, eps=1e-6):
    y = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    return y if weight is None else y * weight


def rotate_every_two(x):
    x1, x2 = x[..., ::2], x[..., 1::2]
    return torch.stack((-x2, x1), dim=-1).flatten(-2)


class RelPos:
    """Decays, angles and masks of RetNetRelPos (torchscale schedule)."""

    def __init__(self, D, H, T, chunk):
        dk = D // H
        angle = 1.0 / (10000 ** torch.linspace(0, 1, dk // 2))
        angle = angle.unsqueeze(-1).repeat(1, 2).flatten()
        self.decay = torch.log(1 - 2 ** (-5 - torch.arange(H, dtype=torch.float)))
        idx = torch.arange(T).to(self.decay)
        self.sin = torch.sin(idx[:, None] * angle[None, :])
        self.cos = torch.cos(idx[:, None] * angle[None, :])
        self.chunked = T > chunk
        if not self.chunked:
            mask = torch.tril(torch.ones(T, T)).bool()
            m = torch.masked_fill(idx[:, None] - idx[None, :], ~mask, float("inf"))
            m = torch.nan_to_num(torch.exp(m * self.decay[:, None, None]))
            self.mask = m / m.sum(-1, keepdim=True).sqrt()
        else:
            bi = torch.arange(chunk).to(self.decay)
            mask = torch.tril(torch.ones(chunk, chunk)).bool()
            m = torch.masked_fill(bi[:, None] - bi[None, :], ~mask, float("inf"))
            m = torch.nan_to_num(torch.exp(m * self.decay[:, None, None]))
            value_inner_decay = (m[:, -1] / m[:, -1].sum(-1, keepdim=True)).unsqueeze(-1)
            scale = m.sum(-1, keepdim=True).sqrt()
            self.inner_mask = m / scale
            self.cross_decay = torch.exp(self.decay * chunk)[:, None, None]
            qid = torch.exp(self.decay[:, None] * (bi + 1))
            self.query_inner_decay = qid[:, :, None] / (scale / m[:, -1].sum(-1)[:, None, None])
            self.value_inner_decay = value_inner_decay
            self.chunk = chunk


class MSR(nn.Module):
    def __init__(self, D, DV, H):
        super().__init__()
        self.D, self.DV, self.H = D, DV, H
        self.dk, self.dv = D // H, DV // H
        self.q_proj = nn.Linear(D, D, bias=False)
        self.k_proj = nn.Linear(D, D, bias=False)
        self.v_proj = nn.Linear(D, DV, bias=False)
        self.g_proj = nn.Linear(D, DV, bias=False)
        self.out_proj = nn.Linear(DV, D, bias=False)

    def parallel(self, q, k, v, rel):
        qk = (q @ k.transpose(-1, -2)) * rel.mask
        qk = qk / qk.detach().abs().sum(-1, keepdim=True).clamp(min=1, max=5e4)
        return qk @ v  # (B,H,T,dv)

    def chunkwise(self, q, k, v, rel):
        B, H, T, dk = q.shape
        C = rel.chunk
        n = T // C
        q = q.view(B, H, n, C, dk).transpose(1, 2)  # (B,n,H,C,dk)
        k = k.view(B, H, n, C, dk).transpose(1, 2)
        v = v.view(B, H, n, C, self.dv).transpose(1, 2)
        kt = k.transpose(-1, -2)
        qk = (q @ kt) * rel.inner_mask
        inner_scale = qk.detach().abs().sum(-1, keepdim=True).clamp(min=1)
        inner = (qk / inner_scale) @ v
        kv = kt @ (v * rel.value_inner_decay)  # (B,n,H,dk,dv)
        states, scales = [], []
        state = torch.zeros(B, H, dk, self.dv)
        sc = torch.ones(B, H, 1, 1)
        for i in range(n):
            states.append(state / sc)
            scales.append(sc)
            state = state * rel.cross_decay + kv[:, i]
            sc = state.detach().abs().sum(-2, keepdim=True).max(-1, keepdim=True)[0].clamp(min=1)
        states, scales = torch.stack(states, 1), torch.stack(scales, 1)
        all_scale = torch.maximum(inner_scale, scales)
        cross = (q * rel.query_inner_decay) @ states
        out = inner / (all_scale / inner_scale) + cross / (all_scale / scales)
        return out.transpose(1, 2).reshape(B, H, T, self.dv)

    def forward(self, x, rel):
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.H, self.dk).transpose(1, 2)
        k = (self.k_proj(x) * self.dk ** -0.5).view(B, T, self.H, self.dk).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.H, self.dv).transpose(1, 2)
        g = self.g_proj(x)
        q = q * rel.cos + rotate_every_two(q) * rel.sin
        k = k * rel.cos + rotate_every_two(k) * rel.sin
        o = self.chunkwise(q, k, v, rel) if rel.chunked else self.parallel(q, k, v, rel)
        o = rms_norm(o, None)  # group norm: per head, no affine
        o = o.transpose(1, 2).reshape(B, T, self.DV)
        return self.out_proj(F.silu(g) * o)


class RMSNorm(nn.Module):
    def __init__(self, D):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(D))

    def forward(self, x):
        return rms_norm(x, self.weight)


class GLU(nn.Module):
    def __init__(self, D, Fd):
        super().__init__()
        self.fc1 = nn.Linear(D, Fd, bias=False)
        self.gate = nn.Linear(D, Fd, bias=False)
        self.fc2 = nn.Linear(Fd, D, bias=False)

    def forward(self, z):
        return self.fc2(F.silu(self.fc1(z)) * self.gate(z))


class Block(nn.Module):
    def __init__(self, D, DV, Fd, H):
        super().__init__()
        self.retention = MSR(D, DV, H)
        self.retention_layer_norm = RMSNorm(D)
        self.final_layer_norm = RMSNorm(D)
        self.ffn = GLU(D, Fd)

    def forward(self, x, rel):
        h = x + self.retention(self.retention_layer_norm(x), rel)
        return h + self.ffn(self.final_layer_norm(h))


class RetNetLM(nn.Module):
    """Parameter names are the checkpoint's (torchscale state_dict)."""

    def __init__(self, V, D, DV, Fd, L, H):
        super().__init__()
        self.D = D
        self.embed_tokens = nn.Embedding(V, D)
        self.layers = nn.ModuleList([Block(D, DV, Fd, H) for _ in range(L)])
        self.layer_norm = RMSNorm(D)
        self.output_projection = nn.Linear(D, V, bias=False)

    def forward(self, tokens, rel):
        x = self.embed_tokens(tokens) * math.sqrt(self.D)
        for layer in self.layers:
            x = layer(x, rel)
        return self.output_projection(self.layer_norm(x))


class Rotary:
    """sin/cos of n*theta for positions 0..T-1 (RetNet's angles, interleaved pairs): retnet/rotation.go."""

    def __init__(self, D, H, T):
        dk = D // H
        angle = 1.0 / (10000 ** torch.linspace(0, 1, dk // 2))
        angle = angle.unsqueeze(-1).repeat(1, 2).flatten()
        idx = torch.arange(T).to(angle)
        self.sin = torch.sin(idx[:, None] * angle[None, :])
        self.cos = torch.cos(idx[:, None] * angle[None, :])


class SelfAttention(nn.Module):
    """Causal multi-head softmax attention on rotated q and k, scale dk^-1/2 (retnet/attention.go)."""

    def __init__(self, D, H):
        super().__init__()
        self.D, self.H, self.dk = D, H, D // H
        self.q_proj = nn.Linear(D, D, bias=False)
        self.k_proj = nn.Linear(D, D, bias=False)
        self.v_proj = nn.Linear(D, D, bias=False)
        self.out_proj = nn.Linear(D, D, bias=False)

    def forward(self, x, rot):
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.H, self.dk).transpose(1, 2)
        k = self.k_proj(x).view(B, T, self.H, self.dk).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.H, self.dk).transpose(1, 2)
        q = q * rot.cos + rotate_every_two(q) * rot.sin
        k = k * rot.cos + rotate_every_two(k) * rot.sin
        if hasattr(F, "scaled_dot_product_attention"):
            o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:  # torch 1.x (Debian's, which the tests may use for --verify): the same function, unfused
            s = (q @ k.transpose(-1, -2)) * self.dk ** -0.5
            s = s.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
            o = torch.softmax(s, -1) @ v
        return self.out_proj(o.transpose(1, 2).reshape(B, T, self.D))


class TransformerBlock(nn.Module):
    def __init__(self, D, Fd, H):
        super().__init__()
        self.self_attn = SelfAttention(D, H)
        self.self_attn_layer_norm = RMSNorm(D)
        self.final_layer_norm = RMSNorm(D)
        self.ffn = GLU(D, Fd)

    def forward(self, x, rot):
        h = x + self.self_attn(self.self_attn_layer_norm(x), rot)
        return h + self.ffn(self.final_layer_norm(h))


class TransformerLM(nn.Module):
    """retnet.Transformer: parameter names are its checkpoint's."""

    def __init__(self, V, D, Fd, L, H):
        super().__init__()
        self.D = D
        self.embed_tokens = nn.Embedding(V, D)
        self.layers = nn.ModuleList([TransformerBlock(D, Fd, H) for _ in range(L)])
        self.layer_norm = RMSNorm(D)
        self.output_projection = nn.Linear(D, V, bias=False)

    def forward(self, tokens, rot):
        x = self.embed_tokens(tokens) * math.sqrt(self.D)
        for layer in self.layers:
            x = layer(x, rot)
        return self.output_projection(self.layer_norm(x))


def build():
    """The model of --model and its position tables for length T."""
    if args.model == "transformer":
        return TransformerLM(args.V, args.D, args.F, args.L, args.H), lambda T: Rotary(args.D, args.H, T)
    return RetNetLM(args.V, args.D, args.DV, args.F, args.L, args.H), lambda T: RelPos(args.D, args.H, T, args.chunk)


def read_safetensors(path):
    """Float32 tensors of a safetensors file (retnet_rel_pos.* and optim.* skipped)."""
    import struct
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, t in header.items():
        if name == "__metadata__" or name.startswith(("retnet_rel_pos.", "optim.")):
            continue
        if t["dtype"] != "F32":
            raise SystemExit(f"train_step_torch: {path}: tensor {name} is {t['dtype']}, want F32")
        lo, hi = t["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[base + lo:base + hi]), dtype=torch.float32).reshape(t["shape"])
    return out


def verify():
    """Loss of a Go checkpoint on one sequence: the same function as the Go model?"""
    model, positions = build()
    model.load_state_dict(read_safetensors(args.verify), strict=True)
    toks = torch.tensor([[int(t) for t in args.tokens.split(",")]])
    T = toks.shape[1] - 1
    rel = positions(T)
    with torch.no_grad():
        logits = model(toks[:, :-1], rel)
        loss = F.cross_entropy(logits.view(-1, args.V), toks[:, 1:].reshape(-1))
    form = "attention" if args.model == "transformer" else "chunkwise" if rel.chunked else "parallel"
    json.dump({"loss": loss.item(), "form": form}, sys.stdout)
    print()


def main():
    # Timing needs a real anchor (current PyTorch on MKL/AVX); --verify only needs the same function.
    anchor = benchanchor.check_torch(torch, args.allow_generic)
    note = "torch %s BLAS %s capability %s threads %d" % (anchor["torch"], anchor["blas_info"],
                                                          anchor["cpu_capability"], anchor["torch_threads"])
    print("train_step_torch: " + note, file=sys.stderr)
    torch.manual_seed(1)
    model, positions = build()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.98), eps=1e-8, weight_decay=0.05)
    recs = []
    for T in [int(t) for t in args.T.split(",")]:
        if args.model == "retnet" and T > args.chunk and T % args.chunk:
            print(f"train_step_torch: T={T} is not a multiple of the chunk {args.chunk}; skipped", file=sys.stderr)
            continue
        B = max(1, args.tokens_per_step // T)
        rel = positions(T)
        g = torch.Generator().manual_seed(T)
        x = torch.randint(0, args.V, (B, T), generator=g)
        y = torch.randint(0, args.V, (B, T), generator=g)

        def step():
            opt.zero_grad(set_to_none=False)
            logits = model(x, rel)
            loss = F.cross_entropy(logits.view(-1, args.V), y.view(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()

        step()  # warm-up
        times = []
        for _ in range(args.steps):
            t0 = time.perf_counter()
            step()
            times.append((time.perf_counter() - t0) * 1e3)
        times.sort()
        ms = times[len(times) // 2]
        recs.append({"impl": "pytorch", "model": args.model, "size": args.size, "seq_len": T, "batch": B,
                     "step_ms": ms, "tokens_per_s": B * T / (ms / 1e3),
                     "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024})
    json.dump(recs, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    verify() if args.verify else main()
