#!/usr/bin/env python3
"""PyTorch CPU reference for `retlab bench inference`: the latency of one decode step -- one token for
each of B sequences after a context of n tokens -- of the RetNet LM (the recurrent form: a state S per
layer and head, O(1) in n) or the Transformer baseline (a KV cache and one attention row per token,
torch's scaled_dot_product_attention, O(n)), the models of scripts/lm_torch.py, stepped in a Python loop
under torch.inference_mode on a fixed thread count (eager PyTorch, no torch.compile).

The accounting is the Go benchmark's (retnet/bench/inference.go Inference):
* a pass takes one batch size at a time: one decoder per context, each brought to its context by
  fill_context (random seeded state or cache, what Go's FillContext does: a step costs the same whatever
  the state holds), one untimed warm-up step each, then --steps rounds of one timed step on every context
  in turn (contexts interleaved, so load changes hit them alike); the median per context is kept;
* --passes passes over all batch sizes, the best (lowest) median of each point reported.
Every step feeds the same random token per sequence (the logits are not sampled).

Prints a JSON array of retnet.InferenceBench records (impl "pytorch") on stdout.
With --verify CHECKPOINT it instead loads a Go checkpoint of --model, decodes --tokens (sequences
separated by ";", equal lengths) token by token from an empty state and prints the logits (B,V) of the
last step: the Go test (retnet TestTorchDecodeStepIsTheSameModel) compares them with the Go decoder's,
so the timed step is known to compute the same function.

Usage: decode_step_torch.py --model retnet --D 192 --DV 384 --F 384 --L 4 --H 6 --contexts 256,8192
       decode_step_torch.py --model transformer --D 192 --F 640 --L 4 --H 6 --batches 1,8
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
ap.add_argument("--contexts", default="256,512,1024,2048,4096,8192", help="context lengths (tokens already decoded)")
ap.add_argument("--batches", default="1,2,4,8", help="batch sizes")
ap.add_argument("--steps", type=int, default=64, help="timed decode rounds per point (median; contexts interleaved)")
ap.add_argument("--passes", type=int, default=3, help="passes over all points (best median reported)")
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--verify", default="", help="instead of timing: load this Go checkpoint, decode --tokens, print the last logits")
ap.add_argument("--tokens", default="", help="for --verify: token ids, comma separated, sequences separated by ';'")
ap.add_argument("--allow-generic", action="store_true",
                help="time even a torch whose BLAS runs generic kernels (scripts/benchanchor.py refuses otherwise)")
args = ap.parse_args()
lm_args.check(ap, args)
if args.steps < 1 or args.passes < 1:
    ap.error("--steps and --passes must be >= 1")

benchanchor.threads(args.threads)

import torch  # noqa: E402  (after the thread variables)

torch.set_num_threads(args.threads)
from lm_torch import KVCacheDecoder, RetNetDecoder, RetNetLM, TransformerLM, read_safetensors  # noqa: E402


def build():
    """The model of --model and its decoder type."""
    if args.model == "transformer":
        return TransformerLM(args.V, args.D, args.F, args.L, args.H), KVCacheDecoder
    return RetNetLM(args.V, args.D, args.DV, args.F, args.L, args.H), RetNetDecoder


def verify():
    """Last-step logits of a Go checkpoint decoding --tokens step by step from an empty state."""
    model, decoder = build()
    model.load_state_dict(read_safetensors(args.verify), strict=True)
    seqs = [[int(t) for t in s.split(",")] for s in args.tokens.split(";")]
    if len({len(s) for s in seqs}) != 1:
        sys.exit(f"decode_step_torch: --tokens has sequences of lengths {[len(s) for s in seqs]}, want equal")
    toks = torch.tensor(seqs).T  # (T,B)
    with torch.inference_mode():
        dec = decoder(model, toks.shape[1])
        for t in toks:
            logits = dec.step(t)
    json.dump({"logits": logits.tolist(), "pos": dec.pos, "state_bytes": dec.state_bytes()}, sys.stdout)
    print()


def latency(model, decoder, B, contexts, gen):
    """Median step latency (ms) per context for batch B, contexts interleaved (Go's benchLatency), and the
    state bytes held at each context."""
    decs, toks, state = [], [], []
    for n in contexts:
        d = decoder(model, B)
        d.fill_context(n, args.seed * 1000003 + n * 16 + B)
        state.append(d.state_bytes())  # what is held at context n
        t = torch.randint(0, args.V, (B,), generator=gen)
        d.step(t)  # warm-up: cache growth, allocator
        decs.append(d)
        toks.append(t)
    times = [[] for _ in contexts]
    for _ in range(args.steps):
        for i, d in enumerate(decs):
            t0 = time.perf_counter()
            d.step(toks[i])
            times[i].append((time.perf_counter() - t0) * 1e3)
    med = [sorted(t)[len(t) // 2] for t in times]  # sweep.Samples.Median: the upper median
    return med, state


def main():
    anchor = benchanchor.check_torch(torch, args.allow_generic)
    print("decode_step_torch: torch %s BLAS %s capability %s threads %d" % (
        anchor["torch"], anchor["blas_info"], anchor["cpu_capability"], anchor["torch_threads"]), file=sys.stderr)
    torch.manual_seed(args.seed + 1)
    model, decoder = build()
    contexts = [int(c) for c in args.contexts.split(",")]
    batches = [int(b) for b in args.batches.split(",")]
    best = {}
    gen = torch.Generator().manual_seed(args.seed)
    with torch.inference_mode():
        for p in range(args.passes):
            for B in batches:
                med, state = latency(model, decoder, B, contexts, gen)
                for n, ms, sb in zip(contexts, med, state):
                    if (B, n) not in best or ms < best[(B, n)][0]:
                        best[(B, n)] = (ms, sb)
                print(f"decode_step_torch: pass {p + 1}/{args.passes} {args.model} B={B}: "
                      + ", ".join(f"{n}: {ms:.3f} ms" for n, ms in zip(contexts, med)), file=sys.stderr)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    recs = [{"impl": "pytorch", "model": args.model, "size": args.size, "context": n, "batch": B,
             "latency_ms": best[(B, n)][0], "tokens_per_s": B / (best[(B, n)][0] / 1e3),
             "state_bytes": best[(B, n)][1], "peak_rss_bytes": rss} for B in batches for n in contexts]
    json.dump(recs, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    verify() if args.verify else main()
