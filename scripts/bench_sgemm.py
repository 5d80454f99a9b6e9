#!/usr/bin/env python3
"""Go's Sgemm against PyTorch's torch.mm (MKL), side by side in one run, the same threads on both
sides, written as a JSON record (docs/records/sgemm*.json) that docs/benchmarks.md is generated from.

Run with the bench venv's python (`make bench-deps`; `make bench-sgemm` does both):
  .venv-bench/bin/python scripts/bench_sgemm.py [--threads 2] [--rounds 3] [--sizes 256,512,1024,2048]
  .venv-bench/bin/python scripts/bench_sgemm.py --retention     # the retention forms' shapes
  .venv-bench/bin/python scripts/bench_sgemm.py --isas avx512,avx2,generic   # several Go paths

The anchor guard (scripts/benchanchor.py) refuses a torch whose BLAS runs generic kernels.

The machines are shared and noisy, so the run interleaves: each round times every shape with every
Go path (a fresh process of the compiled Go test binary per point: BenchmarkSgemm or
BenchmarkSgemmRetention for that case alone, GOMAXPROCS and RETLAB_THREADS = --threads,
RETLAB_CPU = the path) and then with torch; the best of --rounds is kept for each side. The FMA-chain
peak (BenchmarkPeak, the same threads) is probed before and after, and each side's MFU is its
GFLOP/s over the best probe. Accounting: 2*m*n*k flops a product, for both sides (every product
here is dense: nothing is skipped). The record says whether the machine was shared (load average
above 0.5 before the run started).
"""
import argparse
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchanchor  # noqa: E402

# BenchmarkSgemmRetention's cases: name -> (transA, transB, m, n, k).
RETENTION = {
    "qkT/T=512": (False, True, 512, 512, 128),
    "qkT/T=2048": (False, True, 2048, 2048, 128),
    "Sv/T=512": (False, False, 512, 256, 512),
    "Sv/T=2048": (False, False, 2048, 256, 2048),
    "xWT/BT=64": (False, True, 64, 512, 512),
    "xWT/BT=2048": (False, True, 2048, 512, 512),
    "xWT/BT=8192": (False, True, 8192, 512, 512),
    "dW=dyTx/BT=2048": (True, False, 512, 512, 2048),
    "kTv/chunk=512": (True, False, 128, 256, 512),
}

def torch_gflops(torch, shape, reps):
    """Best-of-reps GFLOP/s of torch.mm(a, b, out=c) (after a warm-up); transposes are views."""
    ta, tb, m, n, k = shape
    g = torch.Generator().manual_seed(1)
    a = torch.randn((k, m) if ta else (m, k), generator=g)
    b = torch.randn((n, k) if tb else (k, n), generator=g)
    a, b = (a.t() if ta else a), (b.t() if tb else b)
    c = torch.empty(m, n)
    torch.mm(a, b, out=c)
    t0 = time.perf_counter()
    torch.mm(a, b, out=c)
    once = time.perf_counter() - t0
    inner = max(1, min(1000, int(0.1 / max(once, 1e-9))))  # ~100 ms a timing, as go test -benchtime
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(inner):
            torch.mm(a, b, out=c)
        best = min(best, (time.perf_counter() - t0) / inner)
    return 2 * m * n * k / best / 1e9


def case_pattern(bench, name):
    # go test matches each /-separated level of the name separately.
    return "/".join(f"^{re.escape(part)}$" for part in [bench] + name.split("/"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sizes", default="256,512,1024,2048")
    ap.add_argument("--retention", action="store_true", help="the shapes of BenchmarkSgemmRetention")
    ap.add_argument("--isas", default="", help="Go paths to time, e.g. avx512,avx2 (default: every assembly "
                    "path this CPU runs; unsupported ones are skipped)")
    ap.add_argument("--reps", type=int, default=3, help="timings per shape per round (best kept)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds of (Go, torch)")
    ap.add_argument("--benchtime", default="0.1s", help="go test -benchtime of one Go timing")
    ap.add_argument("--record", default="", help="JSON record path (default docs/records/sgemm[-retention].json)")
    ap.add_argument("--allow-generic", action="store_true", help="time the anchor even on generic kernels")
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if args.retention:
        shapes, bench, kind = RETENTION, "BenchmarkSgemmRetention", "sgemm-retention"
    else:
        shapes = {s: (False, False, int(s), int(s), int(s)) for s in args.sizes.split(",")}
        bench, kind = "BenchmarkSgemm", "sgemm"
    record = args.record or os.path.join(root, "docs", "records", kind + ".json")

    load_before, other = os.getloadavg(), benchanchor.OtherWork()
    benchanchor.threads(args.threads)
    import torch
    torch.set_num_threads(args.threads)
    anchor = benchanchor.check_torch(torch, args.allow_generic)
    print(f"anchor: torch {anchor['torch']} BLAS {anchor['blas_info']} capability {anchor['cpu_capability']} "
          f"threads {anchor['torch_threads']}; {anchor.get('mkl', '')}", file=sys.stderr)

    binary = benchanchor.go_cpu_test_binary(root)
    supported = benchanchor.go_supported_isas(binary)
    asm = [i for i in reversed(supported) if i != "generic"] or ["generic"]
    isas = [i for i in args.isas.split(",") if i in supported] if args.isas else asm
    skipped = [i for i in args.isas.split(",") if i and i not in supported]
    if skipped:
        print(f"not on this CPU, skipped: {', '.join(skipped)} (supported: {' '.join(supported)})", file=sys.stderr)
    if not isas:
        sys.exit("no Go path to time")

    def probe():
        return benchanchor.go_peak(binary, args.threads)

    peaks = probe()
    best_go = {isa: {} for isa in isas}
    best_torch = {}
    for r in range(args.rounds):
        for name, shape in shapes.items():
            for isa in isas:
                for got, gf in benchanchor.go_bench(binary, case_pattern(bench, name), args.threads, isa,
                                        args.benchtime, args.reps).items():
                    best_go[isa][got] = max(best_go[isa].get(got, 0), gf)
            best_torch[name] = max(best_torch.get(name, 0), torch_gflops(torch, shape, args.reps))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    for k, v in probe().items():
        peaks[k] = max(peaks.get(k, 0), v)
    load_after = os.getloadavg()

    peak = max(peaks.values()) if peaks else 0
    rows = []
    for name, (ta, tb, m, n, k) in shapes.items():
        row = {"shape": name, "transA": ta, "transB": tb, "m": m, "n": n, "k": k,
               "torch_gflops": round(best_torch[name], 2),
               "torch_mfu": round(best_torch[name] / peak, 3) if peak else None}
        for isa in isas:
            g = best_go[isa].get(name, float("nan"))
            row[f"go_{isa}_gflops"] = round(g, 2)
            row[f"go_{isa}_vs_torch"] = round(g / best_torch[name], 3)
            row[f"go_{isa}_mfu"] = round(g / peak, 3) if peak else None
        rows.append(row)
    rec = benchanchor.write_record(record, kind, {
        "threads": args.threads, "rounds": args.rounds, "reps": args.reps, "go_isas": isas,
        "anchor": anchor, "peak_gflops": {k: round(v, 1) for k, v in peaks.items()},
        **other.fields(),
        "load_before": list(load_before), "load_after": list(load_after),
        "accounting": "2*m*n*k flops per product on both sides (dense products, nothing skipped); "
                      "best of rounds x reps timings; MFU = GFLOP/s over the best FMA-chain probe "
                      "(BenchmarkPeak, same threads) of the run",
        "results": rows})
    w = max(len(n) for n in shapes)
    print(f"best of {args.rounds} interleaved rounds, {args.threads} threads, GFLOP/s; peak probe "
          f"{rec['peak_gflops']}; load {load_before[0]:.1f} -> {load_after[0]:.1f}")
    head = f"{'shape':>{w}} {'torch':>8}" + "".join(f" {'go ' + i:>11} {'ratio':>6}" for i in isas)
    print(head)
    for row in rows:
        line = f"{row['shape']:>{w}} {row['torch_gflops']:>8.1f}"
        for isa in isas:
            line += f" {row[f'go_{isa}_gflops']:>11.1f} {row[f'go_{isa}_vs_torch']:>6.0%}"
        print(line)
    print(f"record: {os.path.relpath(record, root)}")


if __name__ == "__main__":
    main()
