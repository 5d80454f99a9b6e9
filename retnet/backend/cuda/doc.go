// Package cuda is the GPU backend: the retention operations of
// backend.Backend as CUDA kernels, launched through gorgonia.org/cu (the
// CUDA driver API), registered as "cuda" in a binary built with -tags cuda.
//
// # Builds
//
//	go build ./...                  pure Go, no cgo: Open returns ErrNoCUDA, nothing registers
//	go build -tags cuda ./...       the GPU backend (cgo, cuda.h, libcuda); a GPU-only binary:
//	                                gorgonia.org/cu initialises the driver before main and exits
//	                                the process when there is no GPU (its init, not ours)
//	go test -tags cudaemu .         the same kernel sources compiled as C++ and run by a CPU
//	                                emulator (emu/cuda_emu.h, emu_rt.c): the conformance suite
//	                                without a GPU, every access checked (below)
//
// Compiling -tags cuda needs only the CUDA headers and a link stub (PyPI's
// nvidia-cuda-runtime-cu11 wheel, CUDA 11.8; see scripts/gpu/cuda-headers.sh and
// `make cuda-vet`), not a GPU or a toolkit. gorgonia.org/cu v0.9.6 does not
// compile against CUDA 13 headers; 11.8 and 12.x work, and the binaries run
// on newer drivers.
//
// # Kernels
//
// The kernels are CUDA C in kernels/*.cu; `go generate` (scripts/gpu/gen-ptx.sh,
// nvcc 11.8) turns them into PTX for compute_80, which is committed and
// embedded, and JIT-compiled by the driver for the device at Open. Builds
// never need nvcc. kernels/ptx.sum makes a test fail when a source changed
// without regenerating; kernels/resources.txt (ptxas for sm_90) lets a test
// check every kernel fits its launch.
//
//	ret_parallel        parallel form: 64-query tiles x 128 value columns, key tiles up to the
//	                    diagonal, decay gamma^(n-m) computed in registers, normalisers deferred
//	ret_chunk_state     chunkwise, pass 1: the state at the start of every 64-token sub-chunk (aligned
//	                    to the chunk starts), a 64x64 tile per block in registers, sequential (next
//	                    slab prefetched); |R_c| column sums at chunk starts for the normaliser r_c
//	ret_chunk_scores    chunkwise, pass 2: the chunk's scores, their row sums a_i, the diagonal tiles
//	ret_chunk_output    chunkwise, pass 3, all sub-chunks at once: the sub-chunk's own A V plus the
//	                    state term, over max(a_i, r_c); 64x256 tiles, 8x8 results per thread
//	ret_recurrent_step  one decode step of B sequences x H heads, state in device memory, one warp
//	                    per state row: a single read and write of the state (memory bound)
//	ret_rotate          the relative-position rotation of q and k
//	ret_groupnorm_gate  per-head RMS norm (no affine) and the swish gate
//	sgemm_tiled         float32 GEMM (64x64 tiles), any transposes, for the projections
//	                    where cuBLAS cannot be loaded (cublas.go loads it at run time)
//	lm_*                embedding, RMSNorm, GLU, residual: the rest of a model (package lm)
//
// The chunkwise numerator does not depend on the chunk size (only the
// normalisers do), so it is computed on 64-token sub-chunks whatever C is:
// the intra-chunk product costs 64 per token, not C (see retention.cu).
//
// Every kernel is checked against the CPU code of package retnet by the
// conformance suite (package backendtest; relative error <= 1e-4): on the
// emulator in every `make test`, on a GPU by scripts/gpu-check.sh.
//
// # The emulator
//
// Under -tags cudaemu every thread of a block is a fiber, and the kernel
// code is compiled with -fsanitize=thread so that each load and store calls
// the emulator (emu_rt.c). Threads switch at random accesses, blocks run in
// a random order, __shared__ is NaN-filled per block; a data race (inside a
// barrier phase, within a warp, or between blocks), a read of uninitialised
// shared or device memory, an access outside every allocation, a shuffle
// that breaks its mask, and a barrier in divergent code are errors that name
// the seed (RETLAB_EMU_SEED=N repeats the schedule; RETLAB_EMU_CHECK=0 and
// RETLAB_EMU_PREEMPT tune it). emu_test.go proves each class fails it, with
// one defective kernel per class (emu/defects.cuh). What it cannot see, and
// what a GPU session must still run, is in docs/gpu.md.
//
// # Use
//
// As a backend.Backend (host slices; each call uploads, computes and
// downloads):
//
//	b, err := backend.Open("cuda")  // or RETLAB_BACKEND=cuda; a -tags cuda retlab uses it by default
//	err = b.ChunkwiseRetention(backend.Shape{B: 1, T: 8192, H: 8, Dk: 256, Dv: 512}, 64, q, k, v, o, logGamma)
//
// Device-resident, for loops and benchmarks (upload once, run many):
//
//	b, _ := cuda.Open()
//	defer b.Close()
//	q, _ := b.Alloc(s.QKLen())          // and k, v, o; q.CopyFrom(host)
//	plan, _ := b.NewChunkPlan(s, 64, logGamma)
//	err = plan.Run(q, k, v, o)          // enqueued; o.CopyTo(host) waits
//	dec, _ := b.OpenDecoder(64, 8, 256, 512, logGamma)
//	err = dec.StepDev(qt, kt, vt, ot)   // the state never leaves the device
//
// Errors of the device (allocation, launch, a failed kernel) are returned;
// misuse (buffers or slices too short for the shape) panics. The interface's
// Sgemm has no error result: on a device error it computes on the CPU and
// keeps the error for Err. Backend serialises its calls (one context, the
// default stream) and binds the context to the calling OS thread per call.
//
// `retlab info` prints the backend, device and memory; `retlab bench gpu`
// times the kernels (Bench); scripts/gpu-check.sh runs the parity tests, the
// benchmarks and a PyTorch reference on the same GPU and writes JSON.
package cuda
