#!/usr/bin/env python3
"""Merges the outputs of scripts/gpu-check.sh into summary.json and summary.md (in the same directory).

    python3 scripts/gpu/summarize.py OUT_DIR

Reads info.json (retlab info), parity.json (the conformance test), bench_cuda.json (retlab bench gpu),
bench_lm.json (retlab bench gpu-lm) and
bench_torch.json (scripts/gpu/torch_reference.py); any may be missing. Pairs the CUDA and PyTorch timings of
the same (op, shape), and judges issue 8's goals on an H200:
  * chunkwise retention forward at B=1, T=8192, H=8, dk=256, dv=512 at least 3x faster than PyTorch
    (per chunk size, same chunk on both sides; the best of each side is reported too);
  * the batched recurrent decode step at batch 64 at >= 50% of the memory bandwidth (the device copy measured
    in the same run; the theoretical peak from the device attributes is shown too).
summary.md is the block to paste into docs/gpu-results.md.
"""

import datetime
import json
import os
import sys

KEYS = ("op", "B", "T", "H", "dk", "dv", "chunk", "m", "n", "k")


def load(d, name):
    p = os.path.join(d, name)
    if not os.path.exists(p):
        return None
    try:
        with open(p) as f:
            return json.load(f)
    except ValueError as e:
        print("summarize: %s: %s" % (p, e), file=sys.stderr)
        return None


def key(r):
    return tuple(r.get(k, 0) or 0 for k in KEYS)


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("OUT", ".")
    info = load(d, "info.json") or {}
    parity = load(d, "parity.json")
    cuda = [r for r in (load(d, "bench_cuda.json") or []) + (load(d, "bench_lm.json") or [])
            if r.get("impl") in ("cuda", "cuda-emu")]
    torch = [r for r in load(d, "bench_torch.json") or [] if r.get("impl") == "pytorch"]
    tref = {key(r): r for r in torch}
    pairs = []
    for r in cuda:
        t = tref.get(key(r))
        p = {k: r[k] for k in KEYS if r.get(k)}
        p.update(cuda_ms=r["ms"], cuda_gflop_per_s=r.get("gflop_per_s"), cuda_gb_per_s=r.get("gb_per_s"),
                 cuda_bw_frac=r.get("bw_frac"), note=r.get("note", ""))
        if t:
            p.update(torch_ms=t["ms"], torch_gb_per_s=t.get("gb_per_s"), speedup=t["ms"] / r["ms"])
        pairs.append(p)

    goals = {}
    goal = dict(B=1, T=8192, H=8, dk=256, dv=512)
    chunk = [p for p in pairs if p["op"] == "chunkwise" and all(p.get(k) == v for k, v in goal.items())]
    if chunk:
        best_c = min(chunk, key=lambda p: p["cuda_ms"])
        tor = [r for r in torch if r["op"] == "chunkwise" and all(r.get(k) == v for k, v in goal.items())]
        best_t = min(tor, key=lambda r: r["ms"]) if tor else None
        met = [p["chunk"] for p in chunk if p.get("speedup", 0) >= 3]
        goals["chunkwise_3x"] = dict(
            shape=goal,
            per_chunk=[dict(chunk=p["chunk"], cuda_ms=p["cuda_ms"], torch_ms=p.get("torch_ms"), speedup=p.get("speedup"))
                       for p in chunk],
            best_cuda=dict(chunk=best_c["chunk"], ms=best_c["cuda_ms"]),
            best_torch=dict(chunk=best_t["chunk"], ms=best_t["ms"]) if best_t else None,
            best_vs_best=(best_t["ms"] / best_c["cuda_ms"]) if best_t else None,
            met_at_chunks=met,
            verdict=("met" if met else "not met") if best_t else "no PyTorch reference",
        )
    dec = [p for p in pairs if p["op"] == "recurrent_step" and p.get("B") == 64]
    if dec:
        p = dec[0]
        peak = float(info.get("details", {}).get("peak_bandwidth_GBs", 0) or 0)
        goals["decode_bw50"] = dict(
            B=64, H=p.get("H"), dk=p.get("dk"), dv=p.get("dv"), ms=p["cuda_ms"], gb_per_s=p["cuda_gb_per_s"],
            bw_frac_of_copy=p.get("cuda_bw_frac"), peak_gb_per_s=peak or None,
            frac_of_peak=(p["cuda_gb_per_s"] / peak) if peak else None, torch_ms=p.get("torch_ms"),
            verdict="met" if (p.get("cuda_bw_frac") or 0) >= 0.5 else "not met")

    par = None
    if parity:
        res = parity.get("results", [])
        fails = [r for r in res if not r.get("pass")]
        par = dict(backend=parity.get("backend"), large=parity.get("large"), comparisons=len(res),
                   failed=len(fails) or bool(parity.get("failed")),
                   max_rel_err=max((r["rel_err"] for r in res), default=None), failures=fails[:20])

    summary = dict(date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                   device=info.get("device"), info=info, parity=par, goals=goals, pairs=pairs)
    with open(os.path.join(d, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)

    md = ["### %s, %s" % (summary["date"], summary["device"] or "unknown device"), ""]
    if par:
        md.append("Parity (conformance suite vs the CPU code, float32, tol 1e-4): %d comparisons, %s, max relative "
                  "error %s." % (par["comparisons"], "FAILED" if par["failed"] else "all passed",
                                 "%.2e" % par["max_rel_err"] if par["max_rel_err"] is not None else "?"))
        md.append("")
    for name, g in goals.items():
        if name == "chunkwise_3x":
            md.append("Goal: chunkwise B=1 T=8192 H=8 dk=256 dv=512 >= 3x PyTorch: **%s** (best vs best %s)" % (
                g["verdict"], "%.2fx" % g["best_vs_best"] if g["best_vs_best"] else "?"))
        else:
            md.append("Goal: recurrent step at batch 64 >= 50%% of bandwidth: **%s** (%.0f GB/s = %.0f%% of the "
                      "measured copy%s)" % (g["verdict"], g["gb_per_s"], 100 * (g["bw_frac_of_copy"] or 0),
                                           ", %.0f%% of the nominal peak" % (100 * g["frac_of_peak"])
                                           if g["frac_of_peak"] else ""))
    md += ["", "| op | shape | CUDA ms | PyTorch ms | speedup | CUDA GFLOP/s | CUDA GB/s | note |",
           "|---|---|---|---|---|---|---|---|"]
    for p in pairs:
        shape = " ".join("%s=%s" % (k, p[k]) for k in KEYS[1:] if p.get(k))
        fmt = lambda v, f: (f % v) if v else ""
        md.append("| %s | %s | %.4f | %s | %s | %s | %s | %s |" % (
            p["op"], shape, p["cuda_ms"], fmt(p.get("torch_ms"), "%.4f"), fmt(p.get("speedup"), "%.2fx"),
            fmt(p.get("cuda_gflop_per_s"), "%.0f"), fmt(p.get("cuda_gb_per_s"), "%.0f"), p.get("note", "")[:90]))
    with open(os.path.join(d, "summary.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
