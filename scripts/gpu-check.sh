#!/usr/bin/env bash
# GPU check of the CUDA backend (issues 8 and 18), for a machine with an NVIDIA GPU (an H200), python3 with
# PyTorch (CUDA), and no Go toolchain or internet. One script; it runs the carried binaries of
# `make gpu-bundle` (bin/gpu-bundle: retlab, cuda.test, lm.test, all -tags cuda) and writes JSON under $OUT:
#
#   step       what                                                          results
#   env        driver, GPU, torch versions, the bundle's BUILD_INFO          env.json, nvidia-smi.txt
#   info       retlab info                                                   info.json
#   parity     every kernel vs the CPU code of package retnet (conformance   parity.json, parity.log
#              suite, production shapes, rel err <= 1e-4)
#   lm         the whole LM (logits in every form, decoding) vs the CPU model lm.log
#   goals      the two goals, CUDA and PyTorch eager on the same GPU, one     bench_cuda.json, bench_torch.json
#              run: chunkwise forward B 1 T 8192 H 8 dk 256 dv 512 per chunk
#              size; recurrent decode at batch 1..256 against the measured
#              copy bandwidth
#   sanitize   compute-sanitizer memcheck, racecheck, synccheck, initcheck   sanitizer-TOOL.log
#              on the conformance suite (small shapes), when installed
#   extra      the parallel form and sgemm, CUDA and PyTorch; a whole LM      bench_extra_*.json, bench_lm.json
#              (preset medium) forward and decode
#   summary    scripts/gpu/summarize.py: verdicts, pairs, test results       summary.json, summary.md, steps.json
#
# The steps run in that order (what matters most first) inside one time budget, GPU_CHECK_BUDGET seconds
# (default 300: a device session of 15 minutes holds the machine's start, one run and a rerun); each step
# gets at most its own limit and what is left of the budget, and a step that would get under 10 s is
# skipped (recorded as such in steps.json). GPU_CHECK_STEPS=parity,goals reruns only those steps (the
# summary always runs; it reads whatever JSON is in $OUT, so a rerun into the same OUT completes a first run).
#
#   make gpu-bundle                               # development machine: builds bin/gpu-bundle (no GPU needed)
#   OUT=/some/dir scripts/gpu-check.sh            # GPU machine, from the repository root, bin/gpu-bundle carried
#   python3 scripts/gpu/summarize.py OUT --doc docs/gpu-results.md   # back home: the committed results page
#
# Exit status: 0 when every test that ran passed (benchmarks are reported, not judged), 1 otherwise,
# 2 when the bundle is missing. Environment: OUT (default ./gpu-results), GPU_BUNDLE (default
# bin/gpu-bundle), PYTHON (default python3), GPU_CHECK_BUDGET, GPU_CHECK_STEPS, GPU_CHECK_QUICK=1 (small
# shapes everywhere: a dry run, e.g. of a bundle built with GPU_BUNDLE_TAGS=cudaemu on a CPU machine),
# COMPUTE_SANITIZER (default: on PATH, or /usr/local/cuda/bin/compute-sanitizer), GPU_CHECK_TORCH_DEVICE
# (default cuda; cpu for a dry run).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
OUT=${OUT:-$ROOT/gpu-results}
BUNDLE=${GPU_BUNDLE:-$ROOT/bin/gpu-bundle}
PY=${PYTHON:-python3}
BUDGET=${GPU_CHECK_BUDGET:-300}
STEPS=${GPU_CHECK_STEPS:-env,info,parity,lm,goals,sanitize,extra}
QUICK=${GPU_CHECK_QUICK:-0}
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)  # absolute: the test steps run in their package folders
case $BUNDLE in /*) ;; *) BUNDLE=$ROOT/$BUNDLE ;; esac
t_start=$(date +%s)
elapsed() { echo $(($(date +%s) - t_start)); }
say() { echo "gpu-check [$(elapsed)s] $*" >&2; }
failed=0

for f in retlab cuda.test lm.test; do
  [ -x "$BUNDLE/$f" ] || { say "missing $BUNDLE/$f: run 'make gpu-bundle' on the development machine and carry bin/gpu-bundle"; exit 2; }
done

# steps.jsonl: one JSON object per step run (name, rc, seconds, limit, timed_out, skipped, log).
STEPLOG=$OUT/steps.jsonl
[ -f "$STEPLOG" ] || : > "$STEPLOG"
record() { # name rc seconds limit log [skipped]
  local to=false; { [ "$2" = 124 ] || [ "$2" = 137 ]; } && to=true
  printf '{"step":"%s","rc":%d,"seconds":%d,"limit_s":%d,"timed_out":%s,"skipped":%s,"log":"%s","at":"%s"}\n' \
    "$1" "$2" "$3" "$4" "$to" "${6:-false}" "$5" "$(date -u +%FT%TZ)" >> "$STEPLOG"
}

# run NAME LIMIT STDOUT STDERR CMD...: runs CMD under min(LIMIT, what is left of the budget - 15 s for the
# summary), its output into $OUT/STDOUT and $OUT/STDERR ("-": both into STDOUT).
run() {
  local name=$1 limit=$2 log=$3 err=$4; shift 4
  local left=$((BUDGET - $(elapsed) - 15))
  [ "$left" -lt "$limit" ] && limit=$left
  if [ "$limit" -lt 10 ]; then
    say "$name: skipped, out of budget ($(elapsed)s of ${BUDGET}s used)"; record "$name" 0 0 0 "$log" true; return 0
  fi
  local t0; t0=$(date +%s)
  if [ "$err" = - ]; then
    timeout -k 5 "$limit" "$@" > "$OUT/$log" 2>&1
  else
    timeout -k 5 "$limit" "$@" > "$OUT/$log" 2> "$OUT/$err"
  fi
  local rc=$?
  record "$name" "$rc" $(($(date +%s) - t0)) "$limit" "$log"
  [ "$rc" -eq 124 ] && say "$name: TIMED OUT after ${limit}s (see ${err/#-/$log})"
  return "$rc"
}
want() { case ",$STEPS," in *",$1,"*) return 0 ;; esac; return 1; }

repeats=10 short="" tquick=(--device "${GPU_CHECK_TORCH_DEVICE:-cuda}") bshapes=() lmargs=()
if [ "$QUICK" = 1 ]; then
  repeats=2 short="-test.short" tquick+=(--quick)
  bshapes=(--T 200 --parallel-T 130 --H 2 --dk 16 --dv 24 --chunks "16,64" --batches 2 --gemm 65x33x17)
  lmargs=(--preset base --T 64 --batches 1 --steps 2 --repeats 1)
fi

if want env; then
  say "env"
  command -v nvidia-smi >/dev/null && nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1
  "$PY" - "$BUNDLE/BUILD_INFO" > "$OUT/env.json" 2> "$OUT/env.log" <<'PYEOF'
import json, platform, subprocess, sys, datetime
def sh(*c):
    try:
        return subprocess.run(c, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception as e:
        return "unavailable: %s" % e
env = dict(date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), host=platform.node(),
           kernel=platform.release(), python=platform.python_version(),
           gpu=sh("nvidia-smi", "--query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem", "--format=csv,noheader"),
           cpu=sh("sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"))
try:
    env["bundle"] = open(sys.argv[1]).read().strip()
except OSError as e:
    env["bundle"] = "unavailable: %s" % e
try:
    import torch
    env.update(torch=torch.__version__, torch_cuda=torch.version.cuda, torch_device=torch.cuda.get_device_name() if torch.cuda.is_available() else None)
except Exception as e:
    env["torch"] = "unavailable: %s" % e
json.dump(env, sys.stdout, indent=1)
PYEOF
  cat "$OUT/env.json" >&2
fi

if want info; then
  say "info"
  run info 30 info.json info.log "$BUNDLE/retlab" info --json || { say "info failed (see info.log)"; failed=1; }
fi

if want parity; then
  say "parity: every kernel vs the CPU code (conformance suite${short:+, short})"
  ( cd retnet/backend/cuda && export RETLAB_GPU_OUT="$OUT" && run parity 120 parity.log - "$BUNDLE/cuda.test" -test.v -test.count=1 $short \
      -test.run 'TestConformance|TestBenchSmoke' -test.timeout 300s ) || failed=1
  grep -E '^(--- |    --- )(FAIL|SKIP)|^(PASS|FAIL|ok)' "$OUT/parity.log" | head -30 >&2
fi

if want lm; then
  say "lm: the whole model vs the CPU model"
  ( cd retnet/backend/cuda/lm && run lm 60 lm.log - "$BUNDLE/lm.test" -test.v -test.count=1 -test.timeout 300s ) || failed=1
  grep -E '^(--- |    --- )(FAIL|SKIP)|^(PASS|FAIL|ok)' "$OUT/lm.log" | head -30 >&2
fi

if want goals; then
  say "goals: chunkwise forward and batched decode, CUDA then PyTorch on the same GPU"
  run goals-cuda 60 bench_cuda.json bench_cuda.log "$BUNDLE/retlab" bench gpu --json --repeats "$repeats" \
    --ops copy,chunkwise,recurrent_step "${bshapes[@]}" || say "bench gpu failed (see bench_cuda.log)"
  run goals-torch 75 bench_torch.json bench_torch.log "$PY" scripts/gpu/torch_reference.py --repeats "$repeats" \
    --ops copy,chunkwise,recurrent_step "${tquick[@]}" || say "torch reference failed (see bench_torch.log)"
fi

if want sanitize; then
  CS=${COMPUTE_SANITIZER:-$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)}
  if [ -x "$CS" ]; then
    for tool in memcheck racecheck synccheck initcheck; do
      say "sanitize: compute-sanitizer --tool $tool on the conformance suite (short shapes)"
      extra=(); [ $tool = memcheck ] && extra=(--leak-check full)
      ( cd retnet/backend/cuda && export GODEBUG=asyncpreemptoff=1 && run "sanitize-$tool" 45 "sanitizer-$tool.log" - "$CS" --tool $tool "${extra[@]}" \
          --error-exitcode 3 "$BUNDLE/cuda.test" -test.count=1 -test.short -test.run 'TestConformance' -test.timeout 300s ) || failed=1
      grep -E 'ERROR SUMMARY|LEAK SUMMARY|RACECHECK SUMMARY' "$OUT/sanitizer-$tool.log" | tail -2 >&2
    done
  else
    say "sanitize: no compute-sanitizer (looked for $CS): skipped"; record sanitize 0 0 0 "" true
  fi
fi

if want extra; then
  say "extra: parallel form and sgemm, CUDA and PyTorch; whole-LM benchmark"
  run extra-cuda 40 bench_extra_cuda.json bench_extra_cuda.log "$BUNDLE/retlab" bench gpu --json --repeats "$repeats" \
    --ops parallel,sgemm "${bshapes[@]}"
  run extra-torch 40 bench_extra_torch.json bench_extra_torch.log "$PY" scripts/gpu/torch_reference.py --repeats "$repeats" \
    --ops parallel,sgemm "${tquick[@]}"
  run extra-lm 40 bench_lm.json bench_lm.log "$BUNDLE/retlab" bench gpu-lm --json "${lmargs[@]}"
fi

say "summary"
"$PY" scripts/gpu/summarize.py "$OUT" || { say "summarize failed"; failed=1; }
say "done in $(elapsed)s: results in $OUT"
exit $failed
