# CUDA backend (retnet/backend/cuda, issue 8). The default build stays pure Go and CGO-free; these targets
#   setup-cuda-headers  the CUDA 11.8 headers (PyPI's nvidia-cuda-runtime-cu11 wheel, 0.9 MB, hash-pinned) and a
#                       libcuda link stub made from them, into $(CUDA_ROOT), once (stamp; gitignored .cache/).
#                       Test-only: `make run` never needs it. No apt source changes.
#   cuda-vet            go vet -tags cuda ./... and compile the -tags cuda test binary and CLI against them:
#                       the GPU code always compiles, although no GPU is here
#   cuda-emu-test       run the conformance suite on the CUDA kernels' sources compiled as C++ and executed by
#                       a CPU emulator (-tags cudaemu, needs g++)
#   gpu-bundle          build bin/gpu-bundle/{retlab,cuda.test,lm.test} (-tags cuda) for scripts/gpu-check.sh on a GPU
#                       machine without Go: carry bin/gpu-bundle there
#   ptx                 regenerate the committed PTX (needs nvcc: `make cuda-toolkit`, 5.5 GB; CI never does)
CUDA_CACHE ?= $(ROOT)/.cache/cuda
CUDA_ROOT := $(CUDA_CACHE)/cuda-11.8-headers
CUDA_ENV := CGO_ENABLED=1 CGO_CFLAGS="-I$(CUDA_ROOT)/include" CGO_LDFLAGS="-L$(CUDA_ROOT)/lib/stubs"
CUDA_PKG := ./retnet/backend/cuda
CUDA_LM_PKG := ./retnet/backend/cuda/lm
GPU_BUNDLE ?= $(BIN)/gpu-bundle
GPU_BUNDLE_TAGS ?= cuda

.PHONY: setup-cuda-headers cuda-vet cuda-emu-test gpu-bundle ptx cuda-toolkit
TEST_SETUP_STEPS += setup-cuda-headers
TEST_STEPS += cuda-vet cuda-emu-test

setup-cuda-headers: setup-py
	@scripts/step.sh cuda-headers scripts/gpu/cuda-headers.sh $(CUDA_ROOT) $(PY)

cuda-vet: setup-cuda-headers
	$(CUDA_ENV) $(GO) vet -tags cuda ./...
	$(CUDA_ENV) $(GO) test -c -tags cuda -o /dev/null $(CUDA_PKG)
	$(CUDA_ENV) $(GO) test -c -tags cuda -o /dev/null $(CUDA_LM_PKG)
	$(CUDA_ENV) $(GO) test -c -tags cuda -o /dev/null ./cmd/retlab
	$(CUDA_ENV) $(GO) build -tags cuda -o /dev/null ./cmd/retlab
	CGO_ENABLED=1 $(GO) vet -tags cudaemu $(CUDA_PKG)/... ./cmd/retlab

cuda-emu-test:
	CGO_ENABLED=1 $(GO) test -count=1 -tags cudaemu $(CUDA_PKG)/...
	CGO_ENABLED=1 $(GO) test -count=1 -tags cudaemu -run Offload ./retnet

gpu-bundle: setup-cuda-headers
	$(CUDA_ENV) GO=$(GO) scripts/gpu/bundle.sh $(GPU_BUNDLE) $(GPU_BUNDLE_TAGS)

ptx:
	$(GO) generate $(CUDA_PKG)

# The CUDA toolkit (nvcc 11.8, gcc-11) for `make ptx`: large, developer machines only.
cuda-toolkit:
	@scripts/gpu/enable-nonfree.sh nvidia-cuda-toolkit
	@scripts/apt-install.sh deps/apt-cuda.txt
