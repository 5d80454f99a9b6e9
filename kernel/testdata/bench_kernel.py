"""Kernel benchmarks: start time (warm build cache), round trip of a
trivial cell, and memory over a soak of executions. Prints one JSON object.

    python bench_kernel.py [--soak N] [--starts N] [--trips N]
"""
import argparse
import json
import os
import statistics
import time

from jupyter_client.manager import KernelManager

KERNEL = os.environ.get("RETLAB_KERNEL_NAME", "retlab")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def run(kc, code):
    msg_id = kc.execute(code)
    while True:
        r = kc.get_shell_msg(timeout=30)
        if r["parent_header"]["msg_id"] == msg_id:
            break
    while True:  # drain iopub up to idle, as a front end does
        m = kc.get_iopub_msg(timeout=30)
        if (m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "status"
                and m["content"]["execution_state"] == "idle"):
            return r["content"]["status"]


def start():
    km = KernelManager(kernel_name=KERNEL)
    t0 = time.perf_counter()
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    return km, kc, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--starts", type=int, default=3)
    ap.add_argument("--trips", type=int, default=300)
    ap.add_argument("--soak", type=int, default=10000)
    a = ap.parse_args()
    out = {}
    starts = []
    for _ in range(a.starts):
        km, kc, s = start()
        starts.append(s)
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    out["start_s"] = sorted(starts)
    out["start_median_s"] = statistics.median(starts)

    km, kc, _ = start()
    pid = km.provisioner.process.pid
    for _ in range(20):
        run(kc, "1+1")
    trips = []
    for _ in range(a.trips):
        t0 = time.perf_counter()
        assert run(kc, "1+1") == "ok"
        trips.append((time.perf_counter() - t0) * 1000)
    trips.sort()
    out["one_plus_one_ms"] = {"median": statistics.median(trips), "p90": trips[int(0.9 * len(trips))], "min": trips[0]}

    marks = {}
    t0 = time.perf_counter()
    for i in range(1, a.soak + 1):
        assert run(kc, "1+1") == "ok"
        if i in (a.soak // 10, a.soak // 5, a.soak // 2, a.soak) or i % 2000 == 0:
            marks[i] = rss_kib(pid)
    out["soak"] = {"executions": a.soak, "seconds": time.perf_counter() - t0,
                   "rss_kib": {str(k): v for k, v in sorted(marks.items())}}
    kc.stop_channels()
    km.shutdown_kernel(now=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
