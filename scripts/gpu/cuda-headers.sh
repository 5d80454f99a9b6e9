#!/usr/bin/env bash
# The CUDA 11.8 headers and a link stub for libcuda in a cache directory: enough to compile and vet
# the -tags cuda build without a GPU, a driver or a CUDA toolkit.
#
#   scripts/gpu/cuda-headers.sh DIR [PYTHON]
#   CGO_CFLAGS=-IDIR/include CGO_LDFLAGS=-LDIR/lib/stubs go vet -tags cuda ./...
#
# Source: PyPI's NVIDIA wheel nvidia-cuda-runtime-cu11 (hash-pinned in
# deps/requirements-cuda-headers.txt; 0.9 MB), fetched with `pip download` (PYTHON, default the
# project venv's, needs pip). Nothing about the machine's configuration changes.
# The wheel has cuda.h but no libcuda.so (the driver provides that), so the stub is made here as the
# toolkit's stubs/libcuda.so is: every driver-API function cuda.h declares (after its _v2 macros,
# i.e. the names objects link against), each returning CUDA_ERROR_STUB_LIBRARY (34), soname
# libcuda.so.1 so a binary linked against it loads the real driver on a GPU machine.
# A stamp file makes reruns free.
set -euo pipefail
dest=${1:?usage: cuda-headers.sh DIR [PYTHON]}
root=$(cd "$(dirname "$0")/../.." && pwd)
py=${2:-$root/.venv/bin/python}
req=$root/deps/requirements-cuda-headers.txt
stamp="$dest/.stamp"
want=$(sha256sum "$req" "$0" | sha256sum | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then echo "cuda headers: cached in $dest"; exit 0; fi
[ -x "$py" ] || { echo "cuda headers: no python at $py (make setup-py makes the project venv)" >&2; exit 1; }
command -v gcc >/dev/null || { echo "cuda headers: gcc is needed for the libcuda link stub (deps/apt.txt)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
t0=$(date +%s)
"$py" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
  --require-hashes -r "$req" -d "$tmp/whl"
whl=$(ls "$tmp"/whl/nvidia_cuda_runtime_cu11-*.whl)
"$py" -m zipfile -e "$whl" "$tmp/x"
rm -rf "$dest" && mkdir -p "$dest/lib/stubs"
cp -r "$tmp/x/nvidia/cuda_runtime/include" "$dest/include"
# The stub: one symbol per driver-API function, as the preprocessed cuda.h names them.
echo '#include <cuda.h>' | gcc -E -I"$dest/include" - |
  grep -oE '\bcu[A-Z][A-Za-z0-9_]*[[:space:]]*\(' | tr -d ' \t(' | sort -u |
  awk '{ printf "int %s(void) { return 34; }\n", $1 }' > "$tmp/stub.c"
n=$(wc -l < "$tmp/stub.c")
[ "$n" -gt 100 ] || { echo "cuda headers: only $n functions found in cuda.h" >&2; exit 1; }
gcc -shared -fPIC -w -Wl,-soname,libcuda.so.1 -o "$dest/lib/stubs/libcuda.so" "$tmp/stub.c"
test -f "$dest/include/cuda.h"
echo "$want" > "$stamp"
echo "cuda headers: $(basename "$whl"), $n driver functions stubbed, $(( $(date +%s) - t0 )) s, $(du -sh "$dest" | cut -f1) in $dest"
