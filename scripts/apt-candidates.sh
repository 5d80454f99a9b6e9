#!/usr/bin/env bash
# Exit 0 when apt has a candidate version of every named package, else name those without one
# and exit 1. `apt-cache show` is not that test: it succeeds for a name that packages in main
# merely mention (nvidia-cuda-dev on a stock Debian, issue 12); `apt-cache policy` prints
# "Candidate: (none)" or nothing for a package that cannot be installed.
#
#   scripts/apt-candidates.sh [-o APT_OPTION ...] PKG...
# -o options go to apt-cache, e.g. a temporary stock configuration
# (-o Dir::Etc::sourcelist=... -o Dir::Etc::sourceparts=... -o Dir::State::Lists=...).
set -euo pipefail
opts=()
while [ $# -gt 0 ] && [ "$1" = -o ]; do opts+=(-o "$2"); shift 2; done
[ $# -ge 1 ] || { echo "usage: apt-candidates.sh [-o OPT ...] PKG..." >&2; exit 2; }
none=()
for p in "$@"; do
  c=$(apt-cache "${opts[@]}" policy "$p" 2>/dev/null | sed -n 's/^ *Candidate: *//p')
  case $c in "" | "(none)") none+=("$p") ;; esac
done
if [ ${#none[@]} -gt 0 ]; then
  echo "apt: no installable version of ${none[*]} in this machine's apt sources (apt-cache policy shows no candidate)" >&2
  exit 1
fi
