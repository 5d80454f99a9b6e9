#!/usr/bin/env bash
# Run one set-up step and print one line: its name, its time and the log file that holds its
# whole output (apt, pip, npm, ...). On failure the log's last lines follow. RETLAB_VERBOSE=1
# shows the output as it comes.
#
#   scripts/step.sh NAME COMMAND [ARGS...]
set -uo pipefail
name=$1; shift
dir=${RETLAB_SETUP_LOGS:-.cache/setup-logs}
mkdir -p "$dir"
log=$dir/$name.log
t0=$(date +%s%N)
if [ "${RETLAB_VERBOSE:-0}" = 1 ]; then
  "$@" 2>&1 | tee "$log"; rc=${PIPESTATUS[0]}
else
  "$@" >"$log" 2>&1; rc=$?
fi
secs=$(( ($(date +%s%N) - t0) / 1000000 ))
took=$(printf '%d.%d s' $((secs / 1000)) $((secs % 1000 / 100)))
if [ "$rc" -eq 0 ]; then
  printf 'setup: %-18s %8s   (log: %s)\n' "$name" "$took" "$log"
else
  printf 'setup: %-18s FAILED after %s (exit %d; log: %s), last lines:\n' "$name" "$took" "$rc" "$log" >&2
  tail -n 25 "$log" | sed 's/^/  | /' >&2
  exit "$rc"
fi
