#!/usr/bin/env bash
# Builds the binaries scripts/gpu-check.sh runs on a GPU machine without Go (`make gpu-bundle` calls it):
#
#   scripts/gpu/bundle.sh DIR [TAGS]     # TAGS: cuda (default; needs CGO_CFLAGS/CGO_LDFLAGS pointing at the
#                                        # CUDA headers and the libcuda link stub, as mk/cuda.mk's CUDA_ENV sets)
#                                        # or cudaemu (the CPU emulator: a dry run of gpu-check.sh without a GPU)
#
# DIR gets retlab, cuda.test and lm.test (stripped: the device tool carries at most 64 MiB) and BUILD_INFO
# (commit, tags, Go version, the newest glibc symbol the binaries need). cuBLAS is not linked: the backend
# dlopens whatever libcublas the GPU machine has (cublas.go), so one bundle serves CUDA 11, 12 and 13.
set -euo pipefail
dir=${1:?usage: bundle.sh DIR [cuda|cudaemu]}
tags=${2:-cuda}
GO=${GO:-go}
cd "$(dirname "$0")/../.."
rm -rf "$dir" && mkdir -p "$dir"
flags=(-tags "$tags" -trimpath -ldflags "-s -w")
export CGO_ENABLED=1
"$GO" test -c "${flags[@]}" -o "$dir/cuda.test" ./retnet/backend/cuda
"$GO" test -c "${flags[@]}" -o "$dir/lm.test" ./retnet/backend/cuda/lm
"$GO" build "${flags[@]}" -o "$dir/retlab" ./cmd/retlab
dirty=""; git diff --quiet HEAD 2>/dev/null || dirty="+dirty"
glibc=$(objdump -T "$dir/retlab" "$dir/cuda.test" "$dir/lm.test" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1 | cut -d_ -f2)
{
  echo "built $(date -u '+%F %T UTC') from $(git rev-parse --short HEAD)$dirty, tags $tags, $("$GO" version | cut -d' ' -f3-)"
  echo "needs glibc >= $glibc$([ "$tags" = cuda ] && echo ', libcuda.so.1 (NVIDIA driver)')"
} > "$dir/BUILD_INFO"
cat "$dir/BUILD_INFO"
kib=$(du -sk "$dir" | cut -f1)
echo "bundle: $dir, $((kib / 1024)) MiB"
[ "$kib" -le $((60 * 1024)) ] || echo "bundle: WARNING: over 60 MiB; the device tool carries at most 64 MiB in all" >&2
