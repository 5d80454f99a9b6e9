#!/usr/bin/env bash
# GPU check of the CUDA backend (issue 8), for a machine with an NVIDIA GPU, python3 + PyTorch (CUDA)
# and no Go toolchain. Runs, with a time limit each (all together < 8 minutes):
#
#   1. retlab info                         -> $OUT/info.json         backend, device, memory
#   2. the conformance tests on the GPU    -> $OUT/parity.json       every kernel vs the CPU code, rel err <= 1e-4;
#                                                                    the whole LM (logits, decoding) vs the CPU model
#   3. retlab bench gpu                    -> $OUT/bench_cuda.json   kernel timings (device events)
#      retlab bench gpu-lm                 -> $OUT/bench_lm.json     a whole LM (preset medium) forward and decoding
#   4. scripts/gpu/torch_reference.py      -> $OUT/bench_torch.json  the same computations in PyTorch, same GPU
#   5. scripts/gpu/summarize.py            -> $OUT/summary.{json,md} speedups and the goals' verdicts
#
# plus nvidia-smi.txt and a .log per step. Run from the repository root:
#
#   make gpu-bundle                      # on the development machine: builds bin/gpu-bundle (needs Go, the
#                                        # CUDA headers + stubs of `make setup-cuda-headers`, no GPU)
#   OUT=/some/dir scripts/gpu-check.sh   # on the GPU machine (carry bin/gpu-bundle along)
#
# Exit status: 0 when the parity tests passed (benchmarks are reported, not judged here), 1 otherwise.
# Environment: OUT (default ./gpu-results), GPU_BUNDLE (default bin/gpu-bundle), PYTHON (default python3),
# GPU_CHECK_QUICK=1 for a fast pass (small parity shapes, fewer repeats), GPU_CHECK_BENCH_ARGS and
# GPU_CHECK_TORCH_ARGS, GPU_CHECK_LM_ARGS: extra flags for steps 3 and 4 (e.g. smaller shapes for a dry run on the emulator:
# `make gpu-bundle GPU_BUNDLE_TAGS=cudaemu`).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-$ROOT/gpu-results}
BUNDLE=${GPU_BUNDLE:-$ROOT/bin/gpu-bundle}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
t_start=$(date +%s)
say() { echo "gpu-check [$(( $(date +%s) - t_start ))s] $*" >&2; }

for f in retlab cuda.test lm.test; do
  [ -x "$BUNDLE/$f" ] || { say "missing $BUNDLE/$f: run 'make gpu-bundle' on the development machine"; exit 2; }
done
{ date -u; uname -a; cat "$BUNDLE/BUILD_INFO" 2>/dev/null; "$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' 2>&1; } > "$OUT/env.txt"
command -v nvidia-smi >/dev/null && nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1

repeats=10; short=""
if [ "${GPU_CHECK_QUICK:-0}" = 1 ]; then repeats=3; short="-test.short"; fi

say "1/5 retlab info"
timeout 60 "$BUNDLE/retlab" info --json > "$OUT/info.json" 2> "$OUT/info.log" || say "info failed (see info.log)"
cat "$OUT/info.json" >&2

say "2/5 parity tests (conformance suite, large shapes)"
( cd retnet/backend/cuda && RETLAB_GPU_OUT="$OUT" timeout 240 "$BUNDLE/cuda.test" -test.v -test.count=1 $short \
    -test.run 'TestConformance|TestBenchSmoke' -test.timeout 235s ) > "$OUT/parity.log" 2>&1
parity_rc=$?
( cd retnet/backend/cuda/lm && timeout 60 "$BUNDLE/lm.test" -test.v -test.count=1 -test.timeout 55s ) > "$OUT/parity_lm.log" 2>&1
lm_rc=$?
[ $lm_rc -ne 0 ] && parity_rc=$lm_rc
cat "$OUT/parity.log" "$OUT/parity_lm.log" | grep -E '^(--- |    --- |PASS|FAIL|ok)' | head -40 >&2
say "parity exit status $parity_rc"

say "3/5 CUDA benchmarks"
timeout 150 "$BUNDLE/retlab" bench gpu --json --repeats $repeats ${GPU_CHECK_BENCH_ARGS:-} > "$OUT/bench_cuda.json" 2> "$OUT/bench_cuda.log" \
  || say "bench gpu failed or timed out (see bench_cuda.log)"

say "3b/5 whole-LM benchmark (preset medium: chunkwise forward, decode steps)"
timeout 120 "$BUNDLE/retlab" bench gpu-lm --json ${GPU_CHECK_LM_ARGS:-} > "$OUT/bench_lm.json" 2> "$OUT/bench_lm.log" \
  || say "bench gpu-lm failed or timed out (see bench_lm.log)"

say "4/5 PyTorch reference"
timeout 180 "$PY" scripts/gpu/torch_reference.py --repeats $repeats ${GPU_CHECK_TORCH_ARGS:-} > "$OUT/bench_torch.json" 2> "$OUT/bench_torch.log" \
  || say "torch reference failed or timed out (see bench_torch.log)"

say "5/5 summary"
"$PY" scripts/gpu/summarize.py "$OUT" || say "summarize failed"
say "done: results in $OUT"
[ $parity_rc -eq 0 ] && exit 0 || exit 1
