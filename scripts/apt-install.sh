#!/usr/bin/env bash
# Install the Debian packages listed in a file (one per line, # comments),
# skipping those already installed. Uses sudo when not root.
set -euo pipefail
list=${1:?usage: apt-install.sh FILE}
want=$(sed 's/#.*//' "$list" | tr -s ' \n' '\n' | grep -v '^$' || true)
missing=()
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && { echo "apt: all ${list} packages present"; exit 0; }
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "apt: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
