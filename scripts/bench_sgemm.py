#!/usr/bin/python3
"""Time numpy float32 matmul (square n x n, C = A @ B) as the reference for
the Go BenchmarkSgemm, and with --go run both side by side.

Debian's numpy links libblas.so.3 through the alternatives system: with
libopenblas0-pthread installed that is OpenBLAS, otherwise the reference
BLAS (~3 GFLOP/s, a meaningless baseline). The script reads /proc/self/maps
after a product to name the loaded BLAS and refuses (exit 2) to report a
non-OpenBLAS number unless --any-blas is given.

The machines are shared and noisy, so --go interleaves: each round runs the
Go benchmark once (go test -bench, GOMAXPROCS and RETLAB_THREADS = --threads)
and then numpy once, and the best of --rounds is kept for each side.

Usage (from the repository root; `make bench-sgemm` runs the second form):
  scripts/bench_sgemm.py [--threads 2] [--sizes 256,512,1024,2048]
  scripts/bench_sgemm.py --go [--rounds 3]
"""
import argparse
import os
import re
import subprocess
import sys
import time


def loaded_blas():
    """Real paths of the BLAS-like shared libraries mapped into this process."""
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and "blas" in parts[5].lower():
                libs.add(os.path.realpath(parts[5]))
    return sorted(libs)


def numpy_round(np, sizes, reps, rng):
    """Best-of-reps GFLOP/s of np.matmul per size (after one warm-up)."""
    out = {}
    for n in sizes:
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        c = np.empty((n, n), np.float32)
        np.matmul(a, b, out=c)
        t0 = time.perf_counter()
        np.matmul(a, b, out=c)
        once = time.perf_counter() - t0
        inner = max(1, min(1000, int(0.05 / max(once, 1e-9))))  # >= ~50 ms per timing
        best = float("inf")
        for _ in range(reps):
            t0 = time.perf_counter()
            for _ in range(inner):
                np.matmul(a, b, out=c)
            best = min(best, (time.perf_counter() - t0) / inner)
        out[n] = 2 * n**3 / best / 1e9
    return out


GO_LINE = re.compile(r"^BenchmarkSgemm/(\d+)-\d+\s.*?([\d.]+) GFLOP/s")


def go_round(threads, benchtime):
    """GFLOP/s per size from one run of the Go BenchmarkSgemm."""
    env = dict(os.environ, RETLAB_THREADS=str(threads))
    cmd = ["go", "test", "-run", "^$", "-bench", "^BenchmarkSgemm$", f"-benchtime={benchtime}",
           f"-cpu={threads}", "-count=1", "./retnet/backend/cpu"]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{res.stdout}{res.stderr}")
    out = {}
    for line in res.stdout.splitlines():
        m = GO_LINE.match(line)
        if m:
            out[int(m.group(1))] = float(m.group(2))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sizes", default="256,512,1024,2048")
    ap.add_argument("--reps", type=int, default=3, help="numpy timings per size per round (best kept)")
    ap.add_argument("--go", action="store_true", help="also run the Go BenchmarkSgemm, interleaved")
    ap.add_argument("--rounds", type=int, default=3, help="with --go: rounds of (Go, numpy)")
    ap.add_argument("--benchtime", default="1s", help="with --go: go test -benchtime")
    ap.add_argument("--any-blas", action="store_true", help="report even if numpy is not on OpenBLAS")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    # The thread count must be set before numpy loads the BLAS.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np

    rng = np.random.default_rng(1)
    np.ones((8, 8), np.float32) @ np.ones((8, 8), np.float32)
    libs = loaded_blas()
    print(f"numpy {np.__version__}, BLAS: {', '.join(libs) or 'none found'}, threads {args.threads}")
    if not any("openblas" in p for p in libs) and not args.any_blas:
        print("numpy is not using OpenBLAS: apt-get install libopenblas0-pthread (see deps/apt.txt)",
              file=sys.stderr)
        sys.exit(2)

    if not args.go:
        for n, gf in numpy_round(np, sizes, args.reps, rng).items():
            print(f"numpy-sgemm n={n} {gf:.1f} GFLOP/s")
        return

    best_np, best_go = {}, {}
    for r in range(args.rounds):
        for n, gf in go_round(args.threads, args.benchtime).items():
            best_go[n] = max(best_go.get(n, 0), gf)
        for n, gf in numpy_round(np, sizes, args.reps, rng).items():
            best_np[n] = max(best_np.get(n, 0), gf)
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    print(f"best of {args.rounds} interleaved rounds, {args.threads} threads, GFLOP/s")
    print(f"{'n':>6} {'OpenBLAS':>9} {'Go Sgemm':>9} {'Go/OpenBLAS':>12}")
    for n in sizes:
        g, o = best_go.get(n, float("nan")), best_np[n]
        print(f"{n:>6} {o:>9.1f} {g:>9.1f} {g / o:>11.0%}")


if __name__ == "__main__":
    main()
