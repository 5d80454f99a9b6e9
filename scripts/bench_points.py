#!/usr/bin/env python3
"""Go against PyTorch 2.x point by point: every point of a sweep in fresh processes, the two sides
interleaved, repeated, the best kept, written as a JSON record (docs/records/KIND.json) that
docs/benchmarks.md is generated from (`make bench-docs`).

  .venv-bench/bin/python scripts/bench_points.py retention [--T 512,2048,8192] [--rounds 2]
  .venv-bench/bin/python scripts/bench_points.py train [--models retnet,transformer] [--size s] [--T 256,512,1024,2048]
  .venv-bench/bin/python scripts/bench_points.py decode [--models retnet,transformer] [--size m] [--batches 1,2,4,8]

retention: one MSR layer forward (D 512, H 4, DV 1024, B 1) per form and T: `retlab bench retention`
  (--reference=false) against scripts/bench_retention_torch.py. The recurrent form decodes and times
  the whole sequence on both sides. GFLOP/s are of the work each side executes (the Go parallel form
  skips the masked triangle: retnet.RetentionFLOPsExecuted; PyTorch computes the full T x T); the
  ratio is PyTorch time over Go time, which needs no flop count.
train: one AdamW training step of each LM (RetNet, and the Transformer baseline of
  retnet/transformer.go) of a ladder rung per T: `retlab bench train --models MODEL` against
  scripts/train_step_torch.py --model MODEL (tokens/s, ratio Go over PyTorch; the PyTorch
  Transformer uses torch's fused scaled_dot_product_attention). MFU from the nominal
  6 x params x tokens of that model on both sides.
decode: the latency of one decode step (one token for each of B sequences after a context of n tokens) of
  each LM at a ladder rung (default m): `retlab bench inference --models MODEL --batches B` against
  scripts/decode_step_torch.py (RetNet: the recurrent step, a state per layer and head; Transformer: the
  KV-cache step with scaled_dot_product_attention), one point per (model, B) holding every context (both
  sides interleave the contexts in a process and keep the best of --passes medians of --steps steps). The
  record adds max/min latency over the contexts per (model, B) and side (the RetNet's should be ~1: O(1)
  per token), and checks that both sides hold the same state bytes at every context.

Both sides get the same threads (GOMAXPROCS, RETLAB_THREADS; torch.set_num_threads and the BLAS
pools), and the peak RSS of each is that of its own fresh process (wait4's ru_maxrss: runtime,
libraries and all). The FMA-chain peak (cpu.MeasurePeak of the best ISA) is probed before and after;
MFU = achieved GFLOP/s over it. The record says whether the machine was shared (load average above
0.5 before the run) and which BLAS/ISA the anchor used (scripts/benchanchor.py refuses generic ones).
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchanchor  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def go_env(threads):
    env = dict(os.environ, GOMAXPROCS=str(threads), RETLAB_THREADS=str(threads))
    env.pop("OPENBLAS_CORETYPE", None)
    return env


def retention_points(args):
    return [(form, T) for T in args.T for form in args.forms]


def retention_go(args, point):
    form, T = point
    out, rss = benchanchor.run_with_rss(
        [args.retlab, "bench", "retention", "--json", "--reference=false", "--forms", form, "--T", str(T),
         "--D", str(args.D), "--DV", str(args.DV), "--H", str(args.H), "--B", str(args.B),
         "--repeats", str(args.repeats)], env=go_env(args.threads), cwd=ROOT)
    rec = json.loads(out)[0]
    return {"ms": rec["ms"], "gflop_executed": rec.get("gflop_executed", rec["gflop"]), "gflop": rec["gflop"],
            "rss": rss, "note": rec.get("note", "")}


def retention_torch(args, point, first):
    form, T = point
    cmd = [sys.executable, os.path.join(ROOT, "scripts", "bench_retention_torch.py"), "--forms", form,
           "--T", str(T), "--D", str(args.D), "--DV", str(args.DV), "--H", str(args.H), "--B", str(args.B),
           "--repeats", str(args.repeats), "--threads", str(args.threads)]
    if not first:
        cmd.append("--no-self-test")
    out, rss = benchanchor.run_with_rss(cmd, env=go_env(args.threads), cwd=ROOT)
    rec = json.loads(out)[0]
    return {"ms": rec["ms"], "gflop_executed": rec["gflop"], "gflop": rec["gflop"], "rss": rss,
            "note": rec.get("note", "")}


def ladder_config(args, model, size):
    out, _ = benchanchor.run_with_rss([args.retlab, "sizes", "--json"], cwd=ROOT)
    for s in json.loads(out):
        if s.get("model") == model and s.get("size") == size:
            s["vocab"] = (s["params"] - s["non_embedding_params"]) // (2 * s["dim"])
            return s
    sys.exit(f"no ladder rung {model}/{size} in `retlab sizes --json`")


def train_points(args):
    return [(model, T) for model in args.models for T in args.T]


def train_go(args, point):
    model, T = point
    out, rss = benchanchor.run_with_rss(
        [args.retlab, "bench", "train", "--json", "--reference=false", "--models", model, "--size", args.size,
         "--T", str(T), "--tokens-per-step", str(args.tokens), "--steps", str(args.steps)],
        env=go_env(args.threads), cwd=ROOT)
    rec = json.loads(out)[0]
    return {"ms": rec["step_ms"], "tokens_per_s": rec["tokens_per_s"], "batch": rec["batch"], "rss": rss}


def train_torch(args, point, first):
    model, T = point
    c = args.ladders[model]
    cmd = [sys.executable, os.path.join(ROOT, "scripts", "train_step_torch.py"), "--model", model, "--size", args.size,
           "--V", str(c["vocab"]), "--D", str(c["dim"]), "--F", str(c["ffn_dim"]),
           "--L", str(c["layers"]), "--H", str(c["heads"]), "--T", str(T), "--tokens-per-step", str(args.tokens),
           "--steps", str(args.steps), "--threads", str(args.threads)]
    if model == "retnet":
        cmd += ["--DV", str(c["value_dim"])]
    out, rss = benchanchor.run_with_rss(cmd, env=go_env(args.threads), cwd=ROOT)
    rec = json.loads(out)[0]
    return {"ms": rec["step_ms"], "tokens_per_s": rec["tokens_per_s"], "batch": rec["batch"], "rss": rss}


def decode_points(args):
    return [(model, B) for model in args.models for B in args.batches]


def decode_cmd_flags(args):
    return ["--contexts", ",".join(map(str, args.contexts)), "--steps", str(args.steps), "--passes", str(args.passes)]


def decode_results(recs, rss):
    """{(model, B, context): result} of one process's records (retnet.InferenceBench keys)."""
    return {(r["model"], r["batch"], r["context"]): {"ms": r["latency_ms"], "state_bytes": r["state_bytes"], "rss": rss}
            for r in recs}


def decode_go(args, point):
    model, B = point
    out, rss = benchanchor.run_with_rss(
        [args.retlab, "bench", "inference", "--json", "--models", model, "--size", args.size, "--batches", str(B)]
        + decode_cmd_flags(args), env=go_env(args.threads), cwd=ROOT)
    return decode_results(json.loads(out), rss)


def decode_torch(args, point, first):
    model, B = point
    c = args.ladders[model]
    cmd = [sys.executable, os.path.join(ROOT, "scripts", "decode_step_torch.py"), "--model", model, "--size", args.size,
           "--V", str(c["vocab"]), "--D", str(c["dim"]), "--F", str(c["ffn_dim"]), "--L", str(c["layers"]),
           "--H", str(c["heads"]), "--batches", str(B), "--threads", str(args.threads)] + decode_cmd_flags(args)
    if model == "retnet":
        cmd += ["--DV", str(c["value_dim"])]
    out, rss = benchanchor.run_with_rss(cmd, env=go_env(args.threads), cwd=ROOT)
    return decode_results(json.loads(out), rss)


def flatness(rows, model, B, side):
    """max/min of a side's latency over the contexts of one (model, B)."""
    ms = [r[f"{side}_ms"] for r in rows if r["model"] == model and r["batch"] == B]
    return round(max(ms) / min(ms), 3)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("kind", choices=["retention", "train", "decode"])
    ap.add_argument("--T", default="", help="sequence lengths (retention 512,2048,8192; train 256,512,1024,2048)")
    ap.add_argument("--forms", default="parallel,chunkwise,recurrent")
    ap.add_argument("--D", type=int, default=512)
    ap.add_argument("--DV", type=int, default=1024)
    ap.add_argument("--H", type=int, default=4)
    ap.add_argument("--B", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3, help="retention: best of this many calls per process")
    ap.add_argument("--models", default="retnet,transformer", help="train, decode: architectures")
    ap.add_argument("--size", default="", help="train, decode: ladder rung (train s, decode m)")
    ap.add_argument("--tokens", type=int, default=4096, help="train: tokens per step")
    ap.add_argument("--steps", type=int, default=0, help="train: timed steps per process (median, default 3); "
                    "decode: timed rounds over the contexts per pass (median, default 64)")
    ap.add_argument("--contexts", default="256,512,1024,2048,4096,8192", help="decode: context lengths")
    ap.add_argument("--batches", default="1,2,4,8", help="decode: batch sizes")
    ap.add_argument("--passes", type=int, default=3, help="decode: passes per process (best median)")
    ap.add_argument("--rounds", type=int, default=2, help="interleaved rounds of (Go, PyTorch) per point")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--retlab", default=os.path.join(ROOT, "bin", "retlab"))
    ap.add_argument("--record", default="")
    ap.add_argument("--allow-generic", action="store_true")
    args = ap.parse_args()
    args.T = [int(t) for t in (args.T or ("512,2048,8192" if args.kind == "retention" else "256,512,1024,2048")).split(",")]
    args.forms = args.forms.split(",")
    args.models = args.models.split(",")
    args.size = args.size or ("m" if args.kind == "decode" else "s")
    args.steps = args.steps or (64 if args.kind == "decode" else 3)
    args.contexts = [int(n) for n in args.contexts.split(",")]
    args.batches = [int(b) for b in args.batches.split(",")]
    record = args.record or os.path.join(ROOT, "docs", "records", args.kind + ".json")

    load_before, other = os.getloadavg(), benchanchor.OtherWork()
    benchanchor.threads(args.threads)
    import torch
    torch.set_num_threads(args.threads)
    anchor = benchanchor.check_torch(torch, args.allow_generic)
    if args.retlab == os.path.join(ROOT, "bin", "retlab"):
        # The record names the commit: time the binary of this tree, not a stale one.
        benchanchor.run_with_rss(["go", "build", "-o", args.retlab, "./cmd/retlab"], cwd=ROOT)
    binary = benchanchor.go_cpu_test_binary(ROOT)
    peaks = benchanchor.go_peak(binary, args.threads)

    if args.kind == "retention":
        points, go, ref = retention_points(args), retention_go, retention_torch
    else:
        args.ladders = {m: ladder_config(args, m, args.size) for m in args.models}
        points, go, ref = ((train_points(args), train_go, train_torch) if args.kind == "train" else
                           (decode_points(args), decode_go, decode_torch))
    if args.kind != "decode":  # one result per process: keyed by its point
        go1, ref1 = go, ref
        go, ref = (lambda a, p: {p: go1(a, p)}), (lambda a, p, f: {p: ref1(a, p, f)})
    best = {}  # result key -> side -> best result
    first = True
    for r in range(args.rounds):
        for p in points:
            for side, fn in (("go", lambda: go(args, p)), ("pytorch", lambda: ref(args, p, first))):
                for key, res in fn().items():
                    old = best.setdefault(key, {}).get(side)
                    if old is None or res["ms"] < old["ms"]:
                        res["rss"] = max(res["rss"], old["rss"]) if old else res["rss"]
                        best[key][side] = res
                    else:
                        old["rss"] = max(old["rss"], res["rss"])
                if side == "pytorch":
                    first = False
            keys = [k for k in best if k == p or k[:len(p)] == p]
            print(f"round {r + 1}/{args.rounds} {p}: go " + ", ".join(f"{best[k]['go']['ms']:.3f}" for k in keys) +
                  " ms, pytorch " + ", ".join(f"{best[k]['pytorch']['ms']:.3f}" for k in keys) + " ms",
                  file=sys.stderr)
    points = list(best)  # decode: every (model, B, context)
    for k, v in benchanchor.go_peak(binary, args.threads).items():
        peaks[k] = max(peaks.get(k, 0), v)
    peak = max(peaks.values()) if peaks else 0
    load_after = os.getloadavg()

    rows = []
    for p in points:
        g, t = best[p]["go"], best[p]["pytorch"]
        nd = 4 if args.kind == "decode" else 3  # decode steps take a fraction of a millisecond
        row = {"go_ms": round(g["ms"], nd), "pytorch_ms": round(t["ms"], nd),
               "go_peak_rss_bytes": g["rss"], "pytorch_peak_rss_bytes": t["rss"]}
        if args.kind == "retention":
            row.update({"form": p[0], "T": p[1], "speedup": round(t["ms"] / g["ms"], 3),
                        "gflop_nominal": round(g["gflop"], 3), "go_gflop_executed": round(g["gflop_executed"], 3),
                        "pytorch_gflop_executed": round(t["gflop_executed"], 3)})
            for side, s in (("go", g), ("pytorch", t)):
                gfs = s["gflop_executed"] / (s["ms"] / 1e3)
                row[f"{side}_gflops"] = round(gfs, 2)
                row[f"{side}_mfu"] = round(gfs / peak, 3) if peak else None
        elif args.kind == "decode":
            if g["state_bytes"] != t["state_bytes"]:
                sys.exit(f"decode {p}: Go holds {g['state_bytes']} state bytes, PyTorch {t['state_bytes']}: not the same work")
            row.update({"model": p[0], "batch": p[1], "context": p[2], "speedup": round(t["ms"] / g["ms"], 3),
                        "go_tokens_per_s": round(p[1] / (g["ms"] / 1e3), 1),
                        "pytorch_tokens_per_s": round(p[1] / (t["ms"] / 1e3), 1), "state_bytes": g["state_bytes"]})
        else:
            c = args.ladders[p[0]]
            flops = 6 * c["params"] * g["batch"] * p[1]
            row.update({"model": p[0], "T": p[1], "batch": g["batch"], "go_tokens_per_s": round(g["tokens_per_s"], 1),
                        "pytorch_tokens_per_s": round(t["tokens_per_s"], 1),
                        "speedup": round(g["tokens_per_s"] / t["tokens_per_s"], 3),
                        "go_mfu": round(flops / (g["ms"] / 1e3) / 1e9 / peak, 4) if peak else None,
                        "pytorch_mfu": round(flops / (t["ms"] / 1e3) / 1e9 / peak, 4) if peak else None})
        rows.append(row)
    accounting = {
        "retention": "ms: best call (recurrent: the whole sequence decoded token by token, on both sides); "
                     "GFLOP/s of the work each side executes: the Go parallel form computes only the causal tiles "
                     "(retnet.RetentionFLOPsExecuted), PyTorch the full T x T; speedup = PyTorch ms / Go ms",
        "train": "step_ms: median of --steps timed steps after a warm-up, per fresh process; speedup = Go tokens/s "
                 "over PyTorch tokens/s; MFU from the nominal 6 x params x tokens per step on both sides",
        "decode": f"ms: one decode step (one token for each of the batch's sequences at that context), per fresh "
                  f"process per (model, batch): every context brought there by FillContext / fill_context (random "
                  f"seeded state or KV cache: a step costs the same whatever it holds), one warm-up step each, then "
                  f"{args.steps} rounds of one timed step on each context in turn (interleaved), the median per "
                  f"context, the best of {args.passes} passes per process and of the {args.rounds} rounds; "
                  f"speedup = PyTorch ms / Go ms; eager PyTorch (torch.inference_mode, no torch.compile)"}[args.kind]
    if args.kind == "retention":
        config = {"D": args.D, "DV": args.DV, "H": args.H, "B": args.B, "repeats": args.repeats}
    elif args.kind == "train":
        config = {"size": args.size, "models": args.models, "ladders": args.ladders, "tokens_per_step": args.tokens,
                  "steps": args.steps}
    else:
        config = {"size": args.size, "models": args.models, "ladders": args.ladders, "contexts": args.contexts,
                  "batches": args.batches, "steps": args.steps, "passes": args.passes}
    extra = {}
    if args.kind == "decode":
        extra["flatness"] = [{"model": m, "batch": B, "go": flatness(rows, m, B, "go"),
                              "pytorch": flatness(rows, m, B, "pytorch")} for m, B in decode_points(args)]
    benchanchor.write_record(record, args.kind, {
        "threads": args.threads, "rounds": args.rounds, "config": config, "anchor": anchor,
        "peak_gflops": {k: round(v, 1) for k, v in peaks.items()}, **other.fields(),
        "load_before": list(load_before), "load_after": list(load_after), "accounting": accounting,
        "peak_rss": ("each side's own fresh process per point, wait4 ru_maxrss (runtime and libraries included), started by a "
                     "small launcher so that the driver's own memory is not counted (benchanchor.run_with_rss)"),
        "go_note": best[points[0]]["go"].get("note", ""), "results": rows, **extra})
    json.dump(rows, sys.stdout, indent=1)
    print(f"\nrecord: {os.path.relpath(record, ROOT)}")


if __name__ == "__main__":
    main()
