#!/usr/bin/python3
"""Time numpy float32 matmul (square n x n, C = A @ B) as the reference for
the Go BenchmarkSgemm, and with --go run both side by side.

Debian's numpy links libblas.so.3 through the alternatives system: with
libopenblas0-pthread installed that is OpenBLAS, otherwise the reference
BLAS (~3 GFLOP/s, a meaningless baseline). The script reads /proc/self/maps
after a product to name the loaded BLAS and refuses (exit 2) to report a
non-OpenBLAS number unless --any-blas is given.

The machines are shared and noisy, so --go interleaves: each round times
every shape with the Go benchmark (go test -bench for that case alone,
GOMAXPROCS and RETLAB_THREADS = --threads) and then with numpy, and the best
of --rounds is kept for each side.

With --retention the shapes are those of BenchmarkSgemmRetention (the
products the retention forms make, transposes included: numpy passes a
transposed view to sgemm as a transpose flag, without copying).

Usage (from the repository root; `make bench-sgemm` runs the second form):
  scripts/bench_sgemm.py [--threads 2] [--sizes 256,512,1024,2048]
  scripts/bench_sgemm.py --go [--rounds 3] [--retention]
"""
import argparse
import ctypes
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


def numpy_round(np, shapes, reps, rng):
    """Best-of-reps GFLOP/s of np.matmul per shape (after one warm-up);
    shapes maps a name to (transA, transB, m, n, k)."""
    out = {}
    for name, (ta, tb, m, n, k) in shapes.items():
        a = rng.standard_normal((k, m) if ta else (m, k), dtype=np.float32)
        b = rng.standard_normal((n, k) if tb else (k, n), dtype=np.float32)
        a, b = (a.T if ta else a), (b.T if tb else b)
        c = np.empty((m, n), np.float32)
        np.matmul(a, b, out=c)
        t0 = time.perf_counter()
        np.matmul(a, b, out=c)
        once = time.perf_counter() - t0
        inner = max(1, min(1000, int(0.1 / max(once, 1e-9))))  # ~100 ms per timing, as Go
        best = float("inf")
        for _ in range(reps):
            t0 = time.perf_counter()
            for _ in range(inner):
                np.matmul(a, b, out=c)
            best = min(best, (time.perf_counter() - t0) / inner)
        out[name] = 2 * m * n * k / best / 1e9
    return out


GO_LINE = re.compile(r"^Benchmark\w+/(\S+)-\d+\s.*?([\d.]+) GFLOP/s")


def go_case(bench, name, threads, benchtime, count):
    """Best GFLOP/s of count timings of one Go benchmark case (go test
    matches each /-separated level of the name separately)."""
    env = dict(os.environ, RETLAB_THREADS=str(threads))
    pattern = "/".join(f"^{re.escape(part)}$" for part in [bench] + name.split("/"))
    cmd = ["go", "test", "-run", "^$", "-bench", pattern, f"-benchtime={benchtime}",
           f"-cpu={threads}", f"-count={count}", "./retnet/backend/cpu"]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{res.stdout}{res.stderr}")
    out = {}
    for line in res.stdout.splitlines():
        m = GO_LINE.match(line)
        if m:
            out[m.group(1)] = max(out.get(m.group(1), 0), float(m.group(2)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sizes", default="256,512,1024,2048")
    ap.add_argument("--reps", type=int, default=3, help="timings per shape per round (best kept)")
    ap.add_argument("--go", action="store_true", help="also run the Go BenchmarkSgemm, interleaved")
    ap.add_argument("--rounds", type=int, default=3, help="with --go: rounds of (Go, numpy)")
    ap.add_argument("--benchtime", default="0.1s",
                    help="with --go: go test -benchtime of one timing (--reps timings per round)")
    ap.add_argument("--retention", action="store_true",
                    help="the shapes of BenchmarkSgemmRetention instead of squares")
    ap.add_argument("--any-blas", action="store_true", help="report even if numpy is not on OpenBLAS")
    args = ap.parse_args()
    if args.retention:
        shapes, bench = RETENTION, "BenchmarkSgemmRetention"
    else:
        shapes = {s: (False, False, int(s), int(s), int(s)) for s in args.sizes.split(",")}
        bench = "BenchmarkSgemm"

    # The thread count must be set before numpy loads the BLAS.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np

    rng = np.random.default_rng(1)
    np.ones((8, 8), np.float32) @ np.ones((8, 8), np.float32)
    libs = loaded_blas()
    core = ""
    for path in libs:
        if "libopenblas" in path:
            try:
                lib = ctypes.CDLL(path)
                lib.openblas_get_corename.restype = ctypes.c_char_p
                core = f" (kernels: {lib.openblas_get_corename().decode()})"
            except (OSError, AttributeError):
                pass
    print(f"numpy {np.__version__}, BLAS: {', '.join(libs) or 'none found'}{core}, threads {args.threads}")
    if not any("openblas" in p for p in libs) and not args.any_blas:
        print("numpy is not using OpenBLAS: apt-get install libopenblas0-pthread (see deps/apt.txt)",
              file=sys.stderr)
        sys.exit(2)

    if not args.go:
        for name, gf in numpy_round(np, shapes, args.reps, rng).items():
            print(f"numpy-sgemm {name} {gf:.1f} GFLOP/s")
        return

    # Each round times every shape with Go and then numpy back to back, so a
    # burst of load from elsewhere hits both sides of a pair alike.
    best_np, best_go = {}, {}
    for r in range(args.rounds):
        for name, shape in shapes.items():
            for got, gf in go_case(bench, name, args.threads, args.benchtime, args.reps).items():
                best_go[got] = max(best_go.get(got, 0), gf)
            for got, gf in numpy_round(np, {name: shape}, args.reps, rng).items():
                best_np[got] = max(best_np.get(got, 0), gf)
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    print(f"best of {args.rounds} interleaved rounds, {args.threads} threads, GFLOP/s "
          f"(load average now {os.getloadavg()[0]:.1f})")
    w = max(len(n) for n in shapes)
    print(f"{'shape':>{w}} {'OpenBLAS':>9} {'Go Sgemm':>9} {'Go/OpenBLAS':>12}")
    for name in shapes:
        g, o = best_go.get(name, float("nan")), best_np[name]
        print(f"{name:>{w}} {o:>9.1f} {g:>9.1f} {g / o:>11.0%}")


if __name__ == "__main__":
    main()
