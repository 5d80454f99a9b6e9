#!/usr/bin/env python3
"""The kernel benchmark: the RetLab kernel against GoNB, measured in one run on one machine, written to
docs/records/kernel.json (`make bench-kernel`; `make bench-docs` turns it into docs/benchmarks.md).

Both kernels are driven through jupyter_client as a front end drives them (execute_request, then iopub
up to idle); the time of a cell is that whole round trip. Per kernel:

* start: start_kernel up to the kernel_info reply (wait_for_ready), and up to the first `1+1` result,
  with a warm build cache (a throw-away start and cell come first);
* small cells after warm-up, each text new (so no cell is a cached repeat): a declaration
  `var bN = N`, a print `fmt.Println(N)`, a cell showing an existing value, and `1+1`;
* a loop: 1e7 additions in a function a cell defines, timed inside the cell (best of 5), against the
  same source built as a normal program (`go build`, then run; timed inside the program).

RetLab's kernel also logs where each new cell's time went (RETLAB_KERNEL_TIMES=1): the record keeps
the medians of type-checks, compile, link and plugin.Open, and of `go build` for the same cells built
with go build instead, as the kernel built every cell before it ran the compiler and linker itself and
still does as its fallback (RETLAB_KERNEL_GOBUILD=1).

GoNB re-runs every cell as a fresh program: a statement cell needs its `%%` line, and a value is shown
by printing it; its declarations accumulate across cells, as a notebook's do. RetLab's kernel also gets
a soak: RSS over 1,000 cells (repeats of 10 texts: 10 plugins, 990 cached runs) and over new cells that
each build and load a plugin (--plugins, 100 by default).

  .venv/bin/python scripts/bench_kernel.py --gonb-dir .cache/gonb --out docs/records/kernel.json

JUPYTER_DATA_DIR must name the private data dir holding both kernelspecs (retlab and gonb).
"""
import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

from jupyter_client.manager import KernelManager

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchanchor  # noqa: E402  (stdlib only: the machine description)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOOP_N = 10_000_000
LOOP_FUNC = "func sumTo(n int) int {\n\ts := 0\n\tfor i := 0; i < n; i++ {\n\t\ts += i\n\t}\n\treturn s\n}\n"
# The timing body: the same text in a RetLab cell, a GoNB %% cell and the normal program's main.
LOOP_TIME = ("best := int64(1) << 62\nfor k := 0; k < 5; k++ {\n\tt0 := time.Now()\n\tsink += sumTo(loopN)\n"
             "\tif d := time.Since(t0).Nanoseconds(); d < best {\n\t\tbest = d\n\t}\n}\nfmt.Println(\"loop_ns\", best)\n")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def run(kc, code, timeout=120):
    """Execute code; returns (status, text) with text the cell's stdout and text/plain results."""
    msg_id = kc.execute(code)
    text = []
    while True:
        r = kc.get_shell_msg(timeout=timeout)
        if r["parent_header"].get("msg_id") == msg_id:
            break
    while True:  # drain iopub up to idle, as a front end does
        m = kc.get_iopub_msg(timeout=timeout)
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        t, c = m["msg_type"], m["content"]
        if t == "stream":
            text.append(c["text"])
        elif t in ("execute_result", "display_data"):
            text.append(c["data"].get("text/plain", "") + "\n")
        elif t == "error":
            text.append(c["ename"] + ": " + c["evalue"] + "\n")
        elif t == "status" and c["execution_state"] == "idle":
            return r["content"]["status"], "".join(text)


def ok(kc, code):
    status, text = run(kc, code)
    if status != "ok":
        sys.exit(f"cell failed: {code!r}: {text}")
    return text


class Kernel:
    """One kernel under test: its kernelspec name and how a cell of each kind is written for it."""

    def __init__(self, name, spec, stmt, show):
        self.name, self.spec, self.stmt, self.show = name, spec, stmt, show

    def start(self):
        km = KernelManager(kernel_name=self.spec)
        t0 = time.perf_counter()
        km.start_kernel()
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=120)
        ready = time.perf_counter() - t0
        ok(kc, self.stmt("fmt.Println(1+1)") if self.name == "gonb" else "1+1")
        return km, kc, ready, time.perf_counter() - t0


RETLAB = Kernel("retlab", os.environ.get("RETLAB_KERNEL_NAME", "retlab"), stmt=lambda s: s, show=lambda v: v)
GONB = Kernel("gonb", "gonb", stmt=lambda s: "%%\n" + s, show=lambda v: f"%%\nfmt.Println({v})")


def stop(km, kc):
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def ms_stats(xs):
    xs = sorted(xs)
    return {"median": round(statistics.median(xs), 2), "p90": round(xs[int(0.9 * (len(xs) - 1))], 2),
            "min": round(xs[0], 2), "n": len(xs)}


def timed(kc, cells):
    out = []
    for c in cells:
        t0 = time.perf_counter()
        ok(kc, c)
        out.append((time.perf_counter() - t0) * 1000)
    return ms_stats(out)


def loop_ns(text):
    m = re.search(r"loop_ns (\d+)", text)
    if not m:
        sys.exit(f"no loop_ns in {text!r}")
    return int(m.group(1))


def bench_kernel(k, a, tag):
    """Start times, small cells and the loop of kernel k (tag keeps its names apart)."""
    res = {}
    km, kc, _, _ = k.start()  # throw-away start: the build cache is warm from here on
    stop(km, kc)
    ready, first = [], []
    for _ in range(a.starts):
        km, kc, r, f = k.start()
        ready.append(r)
        first.append(f)
        stop(km, kc)
    res["start_ready_s"] = round(statistics.median(ready), 3)
    res["start_first_result_s"] = round(statistics.median(first), 3)

    km, kc, _, _ = k.start()
    pid = km.provisioner.process.pid
    ok(kc, 'import (\n\t"fmt"\n\t"time"\n)\n\nvar sink int\n' + f"var loopN = {LOOP_N}\n\n" + LOOP_FUNC)
    for i in range(a.warmup):  # warm-up: a few of each kind
        ok(kc, f"var w{tag}{i} = {i}")
        ok(kc, k.stmt(f"fmt.Println({i})"))
    n = a.cells
    res["declaration_ms"] = timed(kc, [f"var b{tag}{i} = {i}" for i in range(n)])
    res["print_ms"] = timed(kc, [k.stmt(f"fmt.Println({1000 + i})") for i in range(n)])
    # Show an existing value: RetLab's kernel shows a name's value without compiling; GoNB prints it.
    # Each text differs (a different earlier variable), so neither side repeats a cached cell.
    res["show_value_ms"] = timed(kc, [k.show(f"b{tag}{i}") for i in range(n)])
    # `1+1` as a user types it again and again (RetLab runs the cached cell again; GoNB rebuilds).
    res["one_plus_one_ms"] = timed(kc, [k.stmt("fmt.Println(1+1)") if k.name == "gonb" else "1+1"] * n)
    loops = [loop_ns(ok(kc, k.stmt(LOOP_TIME))) for _ in range(3)]
    res["loop_1e7_ms"] = round(min(loops) / 1e6, 2)
    res["rss_kib_after"] = rss_kib(pid)
    stop(km, kc)
    return res


def interrupts(a):
    """RetLab's kernel: interrupt_request to the execute_reply (status error, Interrupted) of a cell
    stuck in a loop of a function an earlier cell defined, in time.Sleep, and in a channel receive;
    median of --interrupts each, after a first run that builds the cell (an interrupt during a build
    waits for the build). State survives: the kernel is the same throughout."""
    km, kc, _, _ = RETLAB.start()
    ok(kc, 'import "time"\nfunc spin() {\n\tfor {\n\t}\n}\nvar never = make(chan int)')
    out = {}
    for name, code in (("loop_in_function", "spin()"), ("sleep", "time.Sleep(time.Hour)"), ("channel_receive", "<-never")):
        xs = []
        for k in range(a.interrupts + 1):  # the first builds the cell; the others run it from the cache
            msg_id = kc.execute(code)
            while True:
                m = kc.get_iopub_msg(timeout=120)
                if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "execute_input":
                    break
            time.sleep(3.0 if k == 0 else 0.3)  # let it get going (the first: past its build)
            t0 = time.perf_counter()
            km.interrupt_kernel()  # as the Jupyter server does: interrupt_request on control
            while True:
                r = kc.get_shell_msg(timeout=60)
                if r["parent_header"].get("msg_id") == msg_id:
                    break
            if k > 0:
                xs.append((time.perf_counter() - t0) * 1000)
            if r["content"].get("ename") != "Interrupted":
                sys.exit(f"{code}: not interrupted: {r['content']}")
        out[name] = ms_stats(xs)
    stop(km, kc)
    return out


def bench_program():
    """The loop as a normal Go program: go build, then run it (timed inside, best of 5, of 3 runs)."""
    body = "\n".join("\t" + line if line else line for line in LOOP_TIME.splitlines())
    src = (f'package main\n\nimport (\n\t"fmt"\n\t"time"\n)\n\nvar sink int\nvar loopN = {LOOP_N}\n\n{LOOP_FUNC}\n'
           f"func main() {{\n{body}\n\tif sink == 1 {{\n\t\tfmt.Println()\n\t}}\n}}\n")
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "main.go"), "w") as f:
            f.write(src)
        with open(os.path.join(d, "go.mod"), "w") as f:
            f.write("module loopbench\n\ngo 1.21\n")
        t0 = time.perf_counter()
        subprocess.run(["go", "build", "-o", "loop", "."], cwd=d, check=True)
        build_s = time.perf_counter() - t0
        runs = [loop_ns(subprocess.run([os.path.join(d, "loop")], capture_output=True, text=True, check=True).stdout)
                for _ in range(3)]
    return {"loop_1e7_ms": round(min(runs) / 1e6, 2), "build_s": round(build_s, 3)}


TIMES_RE = re.compile(r"cell\[\d+\] \(retlabcells/c\d+\): (.*)$")
PART_RE = re.compile(r"^(type-checks|go list|compile|link|go build|plugin\.Open) ([\d.]+)(µs|ms|s)$")


def go_ms(value, unit):
    return float(value) * {"µs": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def build_breakdown(a):
    """Where a new small cell's time goes in RetLab's kernel: its own log of each cell
    (RETLAB_KERNEL_TIMES=1: type-checks, compile, link, plugin.Open), for cells built by the kernel's
    compile-and-link (the default) and, in the same run, by `go build` (RETLAB_KERNEL_GOBUILD=1, the
    kernel's fallback). Medians of --cells prints and --cells declarations
    after the warm-up, with the round trip of the same cells."""
    out = {}
    for mode, extra in (("toolchain", {}), ("go_build", {"RETLAB_KERNEL_GOBUILD": "1"})):
        # Append mode: the kernel writes its stderr at the end whatever this side reads.
        with tempfile.NamedTemporaryFile("a+", suffix=".log") as log:
            def logged():
                log.seek(0)
                return [m.group(1) for m in map(TIMES_RE.search, log) if m]
            km = KernelManager(kernel_name=RETLAB.spec)
            km.start_kernel(env={**os.environ, "RETLAB_KERNEL_TIMES": "1", **extra}, stderr=log)
            kc = km.client()
            kc.start_channels()
            kc.wait_for_ready(timeout=120)
            ok(kc, 'import "fmt"')
            for i in range(a.warmup):
                ok(kc, f"var bw{mode[0]}{i} = {i}")
                ok(kc, f"fmt.Println({i})")
            skip = len(logged())
            cells = [f"var bb{mode[0]}{i} = {i}" for i in range(a.cells)] + \
                    [f"fmt.Println({2000 + i})" for i in range(a.cells)]
            trip = timed(kc, cells)
            stop(km, kc)
            parts = {}
            for line in logged()[skip:]:
                for piece in line.split(", "):
                    m = PART_RE.match(piece.strip())
                    if m:
                        parts.setdefault(m.group(1).replace("-", "_").replace(" ", "_").replace(".", "_").lower(),
                                         []).append(go_ms(m.group(2), m.group(3)))
        if len(parts.get("plugin_open", [])) != len(cells):
            sys.exit(f"build breakdown ({mode}): {len(parts.get('plugin_open', []))} cells in the kernel's log, "
                     f"want {len(cells)}")
        out[mode] = {k: ms_stats(v) for k, v in parts.items()}
        out[mode]["cell_round_trip"] = trip
    return out


def soak(a):
    """RSS of RetLab's kernel over 1,000 cells (10 texts repeated) and over --plugins new cells."""
    km, kc, _, _ = RETLAB.start()
    pid = km.provisioner.process.pid
    base = rss_kib(pid)
    marks = {}
    t0 = time.perf_counter()
    for i in range(1, a.soak + 1):
        ok(kc, f"var s{i % 10} = {i % 10}")
        if i % 100 == 0 or i == a.soak:
            marks[str(i)] = rss_kib(pid)
    repeat = {"cells": a.soak, "distinct": 10, "seconds": round(time.perf_counter() - t0, 1),
              "rss_kib_start": base, "rss_kib": marks, "growth_kib": marks[str(a.soak)] - base}
    base2 = rss_kib(pid)
    marks = {}
    t0 = time.perf_counter()
    for i in range(1, a.plugins + 1):
        ok(kc, f"var p{i} = {i}")
        if i % 10 == 0 or i == a.plugins:
            marks[str(i)] = rss_kib(pid)
    fresh = {"cells": a.plugins, "seconds": round(time.perf_counter() - t0, 1), "rss_kib_start": base2,
             "rss_kib": marks, "growth_kib": marks[str(a.plugins)] - base2,
             "kib_per_cell": round((marks[str(a.plugins)] - base2) / a.plugins, 1)}
    stop(km, kc)
    return {"repeated": repeat, "new_plugins": fresh}


def version(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout.strip()
    except OSError:
        return "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gonb-dir", required=True, help="where scripts/install-gonb.sh put GoNB")
    ap.add_argument("--gonb-version", default="?")
    ap.add_argument("--starts", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--cells", type=int, default=15, help="cells of each small kind, per kernel")
    ap.add_argument("--soak", type=int, default=1000)
    ap.add_argument("--plugins", type=int, default=100)
    ap.add_argument("--interrupts", type=int, default=5)
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    gonb_bin = os.path.join(os.path.abspath(a.gonb_dir), "bin")
    os.environ["PATH"] = gonb_bin + os.pathsep + os.environ["PATH"]  # GoNB runs goimports from PATH
    load_before = list(os.getloadavg())
    rec = {"kind": "kernel", "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "machine": benchanchor.machine(), "go": version(["go", "env", "GOVERSION"]),
           "commit": version(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]), "gonb": a.gonb_version,
           "load_before": load_before,
           "method": "jupyter_client round trips (execute_request to idle on iopub); small cells: median of "
                     f"{a.cells} new texts after {a.warmup} warm-up cells of each kind; loop: 1e7 additions in a "
                     "cell-defined function, best of 5 inside the cell, best of 3 cells; start: median of "
                     f"{a.starts} after a throw-away start (warm build cache)"}
    rec["retlab"] = bench_kernel(RETLAB, a, "r")
    print("retlab:", json.dumps(rec["retlab"]), file=sys.stderr)
    rec["gonb_kernel"] = bench_kernel(GONB, a, "g")
    print("gonb:", json.dumps(rec["gonb_kernel"]), file=sys.stderr)
    rec["retlab"]["interrupt_ms"] = interrupts(a)
    rec["retlab"]["build_ms"] = build_breakdown(a)
    print("build:", json.dumps(rec["retlab"]["build_ms"]), file=sys.stderr)
    rec["program"] = bench_program()
    rec["soak"] = soak(a)
    rec["load_after"] = list(os.getloadavg())
    rec["shared_machine"] = max(load_before[0], rec["load_after"][0]) > 0.5
    text = json.dumps(rec, indent=1)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
