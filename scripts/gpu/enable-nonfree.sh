#!/usr/bin/env bash
# For `make cuda-toolkit` only (developer machines; never `make run` or `make test`): Debian's
# nvidia-cuda-toolkit lives in bookworm's non-free component, which a stock machine does not list.
# When apt has no candidate for PKG, this adds one apt source file (and says so in one line);
# it edits and removes nothing the machine had.
#
#   scripts/gpu/enable-nonfree.sh PKG
set -euo pipefail
pkg=${1:?usage: enable-nonfree.sh PKG}
here=$(cd "$(dirname "$0")/.." && pwd)
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
"$here/apt-candidates.sh" "$pkg" 2>/dev/null && exit 0
$SUDO apt-get update -qq
"$here/apt-candidates.sh" "$pkg" 2>/dev/null && exit 0
file=/etc/apt/sources.list.d/retlab-nonfree.sources
echo "cuda-toolkit: $pkg needs Debian's contrib/non-free components: adding $file (remove it to undo)"
$SUDO tee "$file" >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: contrib non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
$SUDO apt-get update -qq
"$here/apt-candidates.sh" "$pkg"
