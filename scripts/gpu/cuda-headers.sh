#!/usr/bin/env bash
# Fetches the CUDA 11.8 headers and link stubs (Debian non-free nvidia-cuda-dev) into a cache
# directory, enough to compile and vet the -tags cuda build without a GPU or a CUDA toolkit:
#
#   scripts/gpu/cuda-headers.sh DIR
#   CGO_CFLAGS=-IDIR/usr/include CGO_LDFLAGS=-LDIR/usr/lib/x86_64-linux-gnu/stubs go vet -tags cuda ./...
#
# The package is 774 MB (~10 s to download here); only usr/include and the stubs are kept (~25 MB).
# A stamp file makes reruns free. Enables bookworm's contrib/non-free components if apt cannot see
# the package yet (root, or sudo). CUDA 13 headers break gorgonia.org/cu v0.9.6; 11.8 works.
set -euo pipefail
dest=${1:?usage: cuda-headers.sh DIR}
stamp="$dest/.nvidia-cuda-dev.stamp"
if [ -f "$stamp" ]; then echo "cuda headers: cached in $dest ($(cat "$stamp"))"; exit 0; fi
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
if ! apt-cache show nvidia-cuda-dev >/dev/null 2>&1; then
  echo "cuda headers: enabling Debian bookworm contrib non-free"
  $SUDO tee /etc/apt/sources.list.d/retlab-nonfree.sources >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: contrib non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  $SUDO apt-get update -qq
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
t0=$(date +%s)
(cd "$tmp" && apt-get download -qq nvidia-cuda-dev 2>&1 | grep -v "unsandboxed" || true)
deb=$(ls "$tmp"/nvidia-cuda-dev_*.deb)
t1=$(date +%s)
mkdir -p "$dest"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dest" --wildcards './usr/include/*' './usr/lib/x86_64-linux-gnu/stubs/*'
t2=$(date +%s)
test -f "$dest/usr/include/cuda.h" && test -f "$dest/usr/lib/x86_64-linux-gnu/stubs/libcuda.so"
ver=$(dpkg-deb -f "$deb" Version)
echo "$ver" > "$stamp"
echo "cuda headers: nvidia-cuda-dev $ver, download $((t1 - t0)) s, extract $((t2 - t1)) s, $(du -sh "$dest" | cut -f1) in $dest"
