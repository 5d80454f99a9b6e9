#!/usr/bin/python3
"""Time numpy float32 matmul (C = A @ B, square n x n) as the reference for
BenchmarkSgemm, and say which BLAS numpy actually used.

Debian's numpy links libblas.so.3 through the alternatives system: with
libopenblas0-pthread installed that is OpenBLAS, otherwise the reference
BLAS (~3 GFLOP/s, a meaningless baseline). The script reads /proc/self/maps
after a product to find the loaded BLAS and refuses (exit 2) to report a
non-OpenBLAS number unless --any-blas is given.

Output: one line per size, `numpy-sgemm n=<n> <ms> ms <gflops> GFLOP/s`
(best of --reps after one warm-up), which mk/sgemm.mk parses.

Usage: scripts/bench_sgemm.py [--threads 2] [--sizes 256,512,1024,2048]
"""
import argparse
import os
import sys
import time


def loaded_blas():
    """Real paths of the BLAS-like shared libraries mapped into this process."""
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and ("blas" in parts[5].lower()):
                libs.add(os.path.realpath(parts[5]))
    return sorted(libs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sizes", default="256,512,1024,2048")
    ap.add_argument("--reps", type=int, default=5, help="timed repetitions (best is kept)")
    ap.add_argument("--any-blas", action="store_true", help="report even if numpy is not on OpenBLAS")
    args = ap.parse_args()

    # Thread count must be set before numpy loads the BLAS.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np

    rng = np.random.default_rng(1)
    np.ones((8, 8), np.float32) @ np.ones((8, 8), np.float32)
    libs = loaded_blas()
    openblas = any("openblas" in p for p in libs)
    print(f"numpy {np.__version__}, BLAS: {', '.join(libs) or 'none found'}, threads {args.threads}")
    if not openblas and not args.any_blas:
        print("numpy is not using OpenBLAS: apt-get install libopenblas0-pthread (see deps/apt.txt)", file=sys.stderr)
        sys.exit(2)

    for n in (int(s) for s in args.sizes.split(",")):
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        c = np.empty((n, n), np.float32)
        np.matmul(a, b, out=c)  # warm-up
        # Enough inner iterations that one timing lasts >= ~50 ms.
        inner = max(1, int(5e7 // (2 * n**3 / 100)) // 100)
        inner = max(1, min(inner, 1000))
        best = float("inf")
        for _ in range(args.reps):
            t0 = time.perf_counter()
            for _ in range(inner):
                np.matmul(a, b, out=c)
            best = min(best, (time.perf_counter() - t0) / inner)
        gflops = 2 * n**3 / best / 1e9
        print(f"numpy-sgemm n={n} {best*1e3:.3f} ms {gflops:.1f} GFLOP/s")


if __name__ == "__main__":
    main()
