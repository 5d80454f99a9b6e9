#!/usr/bin/env python3
"""Tests of summarize.py on a made-up gpu-check.sh output directory (no GPU needed).

    python3 scripts/gpu/summarize_test.py      (run by retnet/backend/cuda's TestGPUScripts too)

The expected numbers are worked out by hand from the made-up inputs below.
"""

import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import summarize  # noqa: E402

GOAL = dict(B=1, T=8192, H=8, dk=256, dv=512)


def chunk(impl, c, ms):
    return dict(impl=impl, op="chunkwise", chunk=c, ms=ms, ms_median=ms, **GOAL)


FILES = {
    "info.json": dict(backend="cuda", device="NVIDIA H200", details={"peak_bandwidth_GBs": "4800"}),
    "env.json": dict(date="2026-12-02 08:00 UTC", gpu="NVIDIA H200, 580.65, 143771 MiB", torch="2.11.0",
                     torch_cuda="13.0", bundle="built from abc1234, tags cuda"),
    "parity.json": dict(backend="cuda", device="NVIDIA H200", large=True, failed=False, results=[
        dict(op="Sgemm", case="64x64x64", rel_err=1e-7, tol=1e-4, pass_=True),
        dict(op="ChunkwiseRetention", case="T=8192", rel_err=3e-6, tol=1e-4, pass_=True),
        dict(op="RecurrentStep", case="B=64", rel_err=2e-4, tol=1e-4, pass_=False),
    ]),
    "bench_cuda.json": [
        dict(impl="cuda", op="copy", ms=0.5, ms_median=0.5, gb=2.0, gb_per_s=4000),
        chunk("cuda", 64, 1.0), chunk("cuda", 128, 2.0),
        dict(impl="cuda", op="recurrent_step", B=64, T=1, H=8, dk=256, dv=512, ms=0.11, ms_median=0.12,
             gb=0.268, gb_per_s=2400, bw_frac=0.6),
    ],
    "bench_torch.json": [
        dict(impl="pytorch", op="copy", ms=0.6, ms_median=0.6, gb=2.0, gb_per_s=3333),
        chunk("pytorch", 64, 4.0), chunk("pytorch", 128, 3.0),
        dict(impl="pytorch", op="recurrent_step", B=64, T=1, H=8, dk=256, dv=512, ms=0.44, ms_median=0.5),
    ],
}
PARITY_LOG = """=== RUN   TestConformance
=== RUN   TestConformance/Sgemm
--- FAIL: TestConformance (12.50s)
    --- PASS: TestConformance/Sgemm (0.40s)
    --- FAIL: TestConformance/RecurrentStep (0.20s)
--- PASS: TestBenchSmoke (1.00s)
FAIL
"""
LM_LOG = "--- PASS: TestLMMatchesCPU (3.00s)\n--- SKIP: TestLMLarge (0.00s)\nPASS\n"
SAN = {
    "memcheck": "========= COMPUTE-SANITIZER\nPASS\n========= LEAK SUMMARY: 0 bytes leaked in 0 allocations\n"
                "========= ERROR SUMMARY: 0 errors\n",
    "racecheck": "========= COMPUTE-SANITIZER\n========= Error: Race reported between Write access at 0x1a0 in "
                 "ret_chunk_state\n========= ERROR SUMMARY: 2 errors\n",
    "synccheck": "========= COMPUTE-SANITIZER\n=== RUN   TestConformance\n",  # cut off by the time limit
}
STEPS = [
    dict(step="parity", rc=1, seconds=40, limit_s=120, timed_out=False, skipped=False, log="parity.log"),
    dict(step="sanitize-synccheck", rc=124, seconds=45, limit_s=45, timed_out=True, skipped=False, log="s.log"),
    dict(step="extra-lm", rc=0, seconds=0, limit_s=0, timed_out=False, skipped=True, log="bench_lm.log"),
    dict(step="parity", rc=0, seconds=41, limit_s=120, timed_out=False, skipped=False, log="parity.log"),  # rerun
]


def make_out(d):
    for name, v in FILES.items():
        text = json.dumps(v).replace('"pass_"', '"pass"')
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    for name, text in [("parity.log", PARITY_LOG), ("lm.log", LM_LOG)] + [
            ("sanitizer-%s.log" % k, v) for k, v in SAN.items()]:
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    with open(os.path.join(d, "steps.jsonl"), "w") as f:
        f.write("".join(json.dumps(s) + "\n" for s in STEPS))


class SummarizeTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.d = self.tmp.name
        make_out(self.d)

    def tearDown(self):
        self.tmp.cleanup()

    def test_goals(self):
        s = summarize.build(self.d)
        g = s["goals"]["chunkwise_3x"]
        self.assertEqual([c["speedup"] for c in g["per_chunk"]], [4.0, 1.5])  # 4.0/1.0, 3.0/2.0
        self.assertEqual(g["met_at_chunks"], [64])
        self.assertEqual(g["best_vs_best"], 3.0)  # PyTorch's best (chunk 128, 3 ms) / CUDA's best (1 ms)
        self.assertEqual(g["verdict"], "met")
        dec = s["goals"]["decode_bw50"]
        self.assertEqual(dec["verdict"], "met")  # 0.6 of the copy
        self.assertEqual(dec["frac_of_peak"], 0.5)  # 2400 / 4800
        self.assertAlmostEqual(dec["torch_ms"], 0.44)

    def test_correctness(self):
        s = summarize.build(self.d)
        self.assertEqual(s["parity"]["comparisons"], 3)
        self.assertTrue(s["parity"]["failed"])
        self.assertEqual(s["parity"]["max_rel_err"], 2e-4)
        k = s["tests"]["kernels"]
        self.assertEqual((k["passed"], k["failed"]), (2, ["TestConformance", "TestConformance/RecurrentStep"]))
        self.assertEqual(s["tests"]["lm"]["skipped"], ["TestLMLarge"])
        san = s["sanitizer"]
        self.assertEqual(san["memcheck"]["errors"], 0)
        self.assertEqual(san["racecheck"]["errors"], 2)
        self.assertIn("Race reported", san["racecheck"]["first_errors"][0])
        self.assertFalse(san["synccheck"]["finished"])
        self.assertNotIn("initcheck", san)
        steps = {st["step"]: st for st in s["steps"]}
        self.assertEqual(steps["parity"]["rc"], 0)  # the rerun's line wins
        self.assertEqual(len(s["steps"]), 3)

    def test_page(self):
        doc = os.path.join(self.d, "page.md")
        summarize.main([self.d, "--doc", doc])
        with open(doc) as f:
            md = f.read()
        for want in ("**met** (best vs best 3.00x)", "chunk 64: CUDA 1.000 ms, PyTorch 4.000 ms, 4.00x",
                     "2400 GB/s = 60% of the copy measured in the same run, 50% of the nominal peak",
                     "3 comparisons, **FAILED**", "FAIL RecurrentStep B=64: rel err 2.00e-04",
                     "compute-sanitizer racecheck: **2 errors**", "compute-sanitizer synccheck: **did not finish**",
                     "compute-sanitizer initcheck: not run", "| sanitize-synccheck | 124 | 45 | 45 | TIMED OUT |",
                     "| extra-lm | 0 | 0 | 0 | skipped (out of budget) |", "NVIDIA H200, 580.65"):
            self.assertIn(want, md)
        rec = os.path.join(self.d, "page.json")
        self.assertTrue(os.path.exists(rec))
        # Re-rendering the committed record gives the same page.
        again = os.path.join(self.d, "again.md")
        summarize.main(["--record", rec, "--doc", again])
        with open(again) as f:
            self.assertEqual(f.read(), md)

    def test_parity_cut_short(self):
        with open(os.path.join(self.d, "parity.json"), "w") as f:
            json.dump(dict(backend="cuda", large=True, failed=False, finished=False, results=[
                dict(op="Sgemm", case="64x64x64", rel_err=1e-7, tol=1e-4, **{"pass": True})]), f)
        md = summarize.render(summarize.build(self.d))
        self.assertIn("1 comparisons (**cut short**: the run did not finish), all passed", md)

    def test_empty_dir(self):
        with tempfile.TemporaryDirectory() as d:
            s = summarize.build(d)
            self.assertEqual(s["goals"], {})
            self.assertIn("not measured", summarize.render(s))


if __name__ == "__main__":
    unittest.main()
