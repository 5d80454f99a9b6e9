#!/usr/bin/env python3
"""PyTorch CPU reference for `retlab bench train`: one AdamW training step of
a RetNet decoder LM, written from docs/retnet-spec.md (torchscale
semantics), or of the repo's Transformer baseline (retnet/transformer.go:
the same LM with multi-scale retention replaced by causal softmax attention
on rotated q and k), timed on the CPU with a fixed thread count. The models
are scripts/lm_torch.py's.

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
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchanchor  # noqa: E402
import lm_args  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
lm_args.add(ap)
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
lm_args.check(ap, args)

benchanchor.threads(args.threads)

import torch  # noqa: E402  (after the thread variables)
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(args.threads)
from lm_torch import RelPos, RetNetLM, Rotary, TransformerLM, read_safetensors  # noqa: E402


def build():
    """The model of --model and its position tables for length T."""
    if args.model == "transformer":
        return TransformerLM(args.V, args.D, args.F, args.L, args.H), lambda T: Rotary(args.D, args.H, T)
    return RetNetLM(args.V, args.D, args.DV, args.F, args.L, args.H), lambda T: RelPos(args.D, args.H, T, args.chunk)


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
