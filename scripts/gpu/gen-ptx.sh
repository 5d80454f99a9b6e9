#!/usr/bin/env bash
# Regenerates the PTX of the CUDA kernels (run by `go generate ./retnet/backend/cuda`).
#
#   kernels/*.cu -> kernels/*.ptx   nvcc -ptx -arch=compute_80 -O3 (PTX ISA 7.8 with nvcc 11.8;
#                                   the driver JIT-compiles it for the GPU at hand, sm_90 included)
#   kernels/resources.txt           what ptxas reports for sm_90 (registers, shared memory, spills):
#                                   launch_test.go checks every kernel fits its launches
#   kernels/ptx.sum                 sha256 of the sources: launch_test.go fails when the committed
#                                   PTX is older than a .cu/.cuh (CI has no nvcc to rebuild it)
#
# Needs nvcc and ptxas: Debian non-free `nvidia-cuda-toolkit` (deps/apt-cuda.txt, `make cuda-toolkit`).
# nvcc 11.8 refuses gcc 12; Debian's nvcc wrapper picks gcc-11 by itself.
set -euo pipefail
cd "$(dirname "$0")/../../retnet/backend/cuda/kernels"
ARCH=${PTX_ARCH:-compute_80}
command -v nvcc >/dev/null || { echo "gen-ptx: nvcc not found (apt-get install nvidia-cuda-toolkit, see scripts/gpu/gen-ptx.sh)" >&2; exit 1; }
for cu in *.cu; do
  nvcc -ptx -arch="$ARCH" -O3 -o "${cu%.cu}.ptx" "$cu"
done
{
  echo "# ptxas -arch=sm_90 -v, $(nvcc --version | grep -o 'release [0-9.]*'), PTX arch $ARCH"
  for p in *.ptx; do ptxas -arch=sm_90 -v "$p" -o /dev/null 2>&1 | grep -v '^$'; done
} > resources.txt
sha256sum *.cu *.cuh > ptx.sum
echo "gen-ptx: $(ls *.ptx | tr '\n' ' ')($ARCH)"
