#!/usr/bin/env python3
"""Merges the outputs of scripts/gpu-check.sh into one record and a Markdown page.

    python3 scripts/gpu/summarize.py OUT_DIR                              # OUT_DIR/summary.json, summary.md
    python3 scripts/gpu/summarize.py OUT_DIR --doc docs/gpu-results.md    # also the committed page + its record
    python3 scripts/gpu/summarize.py --record docs/gpu-results.json --doc docs/gpu-results.md   # re-render

Reads from OUT_DIR (any file may be missing): env.json, info.json (retlab info), steps.jsonl (one line per
step: rc, seconds, timeouts), parity.json (the conformance test's comparisons), parity.log and lm.log (the
test binaries' -test.v output: every test's verdict), sanitizer-TOOL.log (compute-sanitizer), bench_cuda.json,
bench_extra_cuda.json, bench_lm.json (retlab bench gpu / gpu-lm) and bench_torch.json, bench_extra_torch.json
(scripts/gpu/torch_reference.py). Pairs the CUDA and PyTorch timings of the same (op, shape) and judges the two
goals of issues 8 and 18 on the GPU:
  * chunkwise retention forward at B=1, T=8192, H=8, dk=256, dv=512 at least 3x faster than PyTorch eager
    (per chunk size, same chunk on both sides; the best of each side is reported too);
  * the batched recurrent decode step at batch 64 at >= 50% of the memory bandwidth (the device copy measured
    in the same run; the nominal peak from the device attributes is shown too).
--doc writes the page (every number in it comes from the record) and the record next to it (.json).
"""

import argparse
import datetime
import json
import os
import re
import sys

KEYS = ("op", "B", "T", "H", "dk", "dv", "chunk", "m", "n", "k")
GOAL_SHAPE = dict(B=1, T=8192, H=8, dk=256, dv=512)
SANITIZERS = ("memcheck", "racecheck", "synccheck", "initcheck")


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


def read(d, name):
    p = os.path.join(d, name)
    if not os.path.exists(p):
        return None
    with open(p, errors="replace") as f:
        return f.read()


def key(r):
    return tuple(r.get(k, 0) or 0 for k in KEYS)


TEST_LINE = re.compile(r"^\s*--- (PASS|FAIL|SKIP): (\S+) \(([\d.]+)s\)")


def parse_tests(text):
    """The verdict of every test and subtest in a test binary's -test.v output."""
    tests = []
    for line in (text or "").splitlines():
        m = TEST_LINE.match(line)
        if m:
            tests.append(dict(name=m.group(2), result=m.group(1), seconds=float(m.group(3))))
    return tests


SANITIZER_ERROR = re.compile(r"^========= (Error|Invalid|WARN|Race|Uninitialized|Barrier|Program hit)")


def parse_sanitizer(text):
    """compute-sanitizer's error count (None when its summary line is missing: it did not finish)."""
    if text is None:
        return None
    m = re.search(r"ERROR SUMMARY: (\d+) error", text)
    errors = int(m.group(1)) if m else None
    first = [line.strip("= ").strip() for line in text.splitlines() if SANITIZER_ERROR.match(line)]
    return dict(errors=errors, finished=m is not None, first_errors=first[:5])


def steps_of(d):
    text = read(d, "steps.jsonl") or ""
    steps = {}
    for line in text.splitlines():
        if line.strip():
            try:
                s = json.loads(line)
            except ValueError:
                continue
            steps[s["step"]] = s  # a rerun's line replaces the first run's
    return list(steps.values())


def pair(cuda, torch):
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
    return pairs


def goals_of(pairs, torch, info):
    goals = {}
    chunk = [p for p in pairs if p["op"] == "chunkwise" and all(p.get(k) == v for k, v in GOAL_SHAPE.items())]
    if chunk:
        best_c = min(chunk, key=lambda p: p["cuda_ms"])
        tor = [r for r in torch if r["op"] == "chunkwise" and all(r.get(k) == v for k, v in GOAL_SHAPE.items())]
        best_t = min(tor, key=lambda r: r["ms"]) if tor else None
        met = [p["chunk"] for p in chunk if (p.get("speedup") or 0) >= 3]
        goals["chunkwise_3x"] = dict(
            shape=GOAL_SHAPE,
            per_chunk=[dict(chunk=p["chunk"], cuda_ms=p["cuda_ms"], torch_ms=p.get("torch_ms"),
                            speedup=p.get("speedup")) for p in chunk],
            best_cuda=dict(chunk=best_c["chunk"], ms=best_c["cuda_ms"]),
            best_torch=dict(chunk=best_t["chunk"], ms=best_t["ms"]) if best_t else None,
            best_vs_best=(best_t["ms"] / best_c["cuda_ms"]) if best_t else None,
            met_at_chunks=met,
            verdict=("met" if met else "not met") if best_t else "no PyTorch reference",
        )
    dec = [p for p in pairs if p["op"] == "recurrent_step" and p.get("B") == 64]
    if dec:
        p = dec[0]
        peak = float((info.get("details") or {}).get("peak_bandwidth_GBs", 0) or 0)
        frac = p.get("cuda_bw_frac")
        goals["decode_bw50"] = dict(
            B=64, H=p.get("H"), dk=p.get("dk"), dv=p.get("dv"), ms=p["cuda_ms"], gb_per_s=p["cuda_gb_per_s"],
            bw_frac_of_copy=frac, peak_gb_per_s=peak or None,
            frac_of_peak=(p["cuda_gb_per_s"] / peak) if peak and p["cuda_gb_per_s"] else None,
            torch_ms=p.get("torch_ms"),
            verdict=("met" if frac >= 0.5 else "not met") if frac else "no copy bandwidth measured")
    return goals


def build(d):
    """The summary record of one gpu-check.sh output directory."""
    info = load(d, "info.json") or {}
    env = load(d, "env.json") or {}
    parity = load(d, "parity.json")
    cuda = [r for name in ("bench_cuda.json", "bench_extra_cuda.json", "bench_lm.json")
            for r in (load(d, name) or []) if r.get("impl") in ("cuda", "cuda-emu")]
    torch = [r for name in ("bench_torch.json", "bench_extra_torch.json")
             for r in (load(d, name) or []) if r.get("impl") == "pytorch"]
    pairs = pair(cuda, torch)
    par = None
    if parity:
        res = parity.get("results", [])
        fails = [r for r in res if not r.get("pass")]
        par = dict(backend=parity.get("backend"), device=parity.get("device"), large=parity.get("large"),
                   finished=parity.get("finished", True), comparisons=len(res), failed=len(fails) > 0 or bool(parity.get("failed")),
                   max_rel_err=max((r["rel_err"] for r in res), default=None), failures=fails[:20])
    tests = {}
    for name, log in (("kernels", "parity.log"), ("lm", "lm.log")):
        t = parse_tests(read(d, log))
        if t:
            tests[name] = dict(passed=sum(x["result"] == "PASS" for x in t), failed=[x["name"] for x in t
                                                                                   if x["result"] == "FAIL"],
                               skipped=[x["name"] for x in t if x["result"] == "SKIP"], tests=t)
    san = {tool: parse_sanitizer(read(d, "sanitizer-%s.log" % tool)) for tool in SANITIZERS}
    san = {k: v for k, v in san.items() if v is not None}
    return dict(date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                run_date=env.get("date"), device=info.get("device") or env.get("torch_device"), env=env, info=info,
                steps=steps_of(d), parity=par, tests=tests, sanitizer=san, goals=goals_of(pairs, torch, info),
                pairs=pairs)


def fmt(v, f):
    return (f % v) if v else ""


def render(s):
    """The Markdown page of a summary record."""
    env = s.get("env") or {}
    md = ["# GPU results", "",
          "Generated by `scripts/gpu/summarize.py` from the JSON that `scripts/gpu-check.sh` wrote (the record: "
          "`gpu-results.json` next to this page); do not edit by hand.", "",
          "* run: %s on %s" % (s.get("run_date") or s.get("date"), s.get("device") or "unknown device"),
          "* GPU: %s" % (env.get("gpu") or "?"),
          "* host: %s, CPU %s" % (env.get("host") or "?", (env.get("cpu") or "?").strip()),
          "* PyTorch: %s (CUDA %s)" % (env.get("torch") or "?", env.get("torch_cuda") or "?"),
          "* bundle: %s" % (env.get("bundle") or "?").replace("\n", "; "), ""]
    steps = s.get("steps") or []
    if steps:
        md += ["| step | exit | seconds | limit | note |", "|---|---|---|---|---|"]
        for st in steps:
            note = "skipped (out of budget)" if st.get("skipped") else ("TIMED OUT" if st.get("timed_out") else "")
            md.append("| %s | %s | %s | %s | %s |" % (st["step"], st["rc"], st["seconds"], st["limit_s"], note))
        md.append("")
    md.append("## Goals")
    md.append("")
    goals = s.get("goals") or {}
    g = goals.get("chunkwise_3x")
    if g:
        md.append("* chunkwise forward B=1 T=8192 H=8 dk=256 dv=512 >= 3x PyTorch eager: **%s** (best vs best %s)" % (
            g["verdict"], fmt(g["best_vs_best"], "%.2fx") or "?"))
        for c in g["per_chunk"]:
            md.append("  * chunk %d: CUDA %.3f ms, PyTorch %s ms, %s" % (
                c["chunk"], c["cuda_ms"], fmt(c.get("torch_ms"), "%.3f") or "?", fmt(c.get("speedup"), "%.2fx") or "?"))
    else:
        md.append("* chunkwise forward at the goal shape: not measured")
    g = goals.get("decode_bw50")
    if g:
        md.append("* recurrent decode step at batch 64 >= 50%% of the copy bandwidth: **%s** (%.0f GB/s = %s of the "
                  "copy measured in the same run%s)" % (
                      g["verdict"], g["gb_per_s"] or 0, fmt(100 * (g["bw_frac_of_copy"] or 0), "%.0f%%") or "?",
                      ", %.0f%% of the nominal peak" % (100 * g["frac_of_peak"]) if g["frac_of_peak"] else ""))
    else:
        md.append("* recurrent decode at batch 64: not measured")
    md.append("")
    md.append("## Correctness")
    md.append("")
    par = s.get("parity")
    if par:
        md.append("* kernels vs the CPU code (conformance suite, float32, tol 1e-4, %s shapes): %d comparisons%s, %s, "
                  "max relative error %s" % ("production" if par["large"] else "small", par["comparisons"],
                                             "" if par.get("finished", True) else " (**cut short**: the run did not finish)",
                                             "**FAILED**" if par["failed"] else "all passed",
                                             "%.2e" % par["max_rel_err"] if par["max_rel_err"] is not None else "?"))
        for f in par.get("failures") or []:
            md.append("  * FAIL %s %s: rel err %.2e > %.0e" % (f["op"], f["case"], f["rel_err"], f["tol"]))
    else:
        md.append("* kernels vs the CPU code: no parity.json")
    for name, t in (s.get("tests") or {}).items():
        md.append("* test binary %s: %d passed, %d failed%s%s" % (
            name, t["passed"], len(t["failed"]), (": " + ", ".join(t["failed"][:10])) if t["failed"] else "",
            "; skipped: " + ", ".join(t["skipped"][:10]) if t["skipped"] else ""))
    san = s.get("sanitizer") or {}
    for tool in SANITIZERS:
        v = san.get(tool)
        if v is None:
            md.append("* compute-sanitizer %s: not run" % tool)
        elif not v["finished"]:
            md.append("* compute-sanitizer %s: **did not finish** (time limit or crash)" % tool)
        else:
            md.append("* compute-sanitizer %s: %s" % (tool, "no errors" if v["errors"] == 0 else
                                                      "**%d errors**: %s" % (v["errors"], "; ".join(v["first_errors"]))))
    md += ["", "## All timings", "",
           "| op | shape | CUDA ms | PyTorch ms | speedup | CUDA GFLOP/s | CUDA GB/s | note |",
           "|---|---|---|---|---|---|---|---|"]
    for p in s.get("pairs") or []:
        shape = " ".join("%s=%s" % (k, p[k]) for k in KEYS[1:] if p.get(k))
        md.append("| %s | %s | %.4f | %s | %s | %s | %s | %s |" % (
            p["op"], shape, p["cuda_ms"], fmt(p.get("torch_ms"), "%.4f"), fmt(p.get("speedup"), "%.2fx"),
            fmt(p.get("cuda_gflop_per_s"), "%.0f"), fmt(p.get("cuda_gb_per_s"), "%.0f"), (p.get("note") or "")[:90]))
    return "\n".join(md) + "\n"


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?", help="the OUT directory of scripts/gpu-check.sh")
    ap.add_argument("--doc", help="also write this Markdown page and its record (same name, .json)")
    ap.add_argument("--record", help="render an existing summary record instead of an OUT directory")
    a = ap.parse_args(argv)
    if a.record:
        with open(a.record) as f:
            s = json.load(f)
    elif a.out or os.environ.get("OUT"):
        d = a.out or os.environ["OUT"]
        if not os.path.isdir(d):
            ap.error("%s is not a directory" % d)
        s = build(d)
        write(os.path.join(d, "summary.json"), json.dumps(s, indent=1) + "\n")
        write(os.path.join(d, "summary.md"), render(s))
    else:
        ap.error("give the OUT directory or --record")
    if a.doc:
        write(a.doc, render(s))
        rec = os.path.splitext(a.doc)[0] + ".json"
        if not a.record or os.path.abspath(a.record) != os.path.abspath(rec):
            write(rec, json.dumps(s, indent=1) + "\n")
    print(render(s))


if __name__ == "__main__":
    main()
