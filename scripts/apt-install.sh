#!/usr/bin/env bash
# Install the Debian packages listed in files (one per line, # comments), skipping those already
# installed. Uses sudo when not root. Changes no apt source: a package with no candidate version in
# the machine's sources is an error that names it (scripts/apt-candidates.sh is the same check).
#
#   scripts/apt-install.sh FILE [FILE...]
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: apt-install.sh FILE [FILE...]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
want=$(sed 's/#.*//' "$@" | tr -s ' \n' '\n' | grep -v '^$' | sort -u || true)
missing=()
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && { echo "apt: all packages of $* present"; exit 0; }
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "apt: installing ${missing[*]}"
$SUDO apt-get update -qq
# Refuse before installing anything, naming every package apt cannot install from these sources.
"$here/apt-candidates.sh" "${missing[@]}"
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
