// Package cpu is the CPU maths of RetLab: the kernels of the default
// compute backend, pure Go plus Go assembly on amd64, no cgo, using every
// core for large products. It is a library, not a registered backend: the
// backend named "cpu" is registered by package retnet (retnet/cpubackend.go),
// whose CPU code it is, and its Sgemm is this package's. Package retnet
// (numeric.go), retnet/hf and the cuda backend call these kernels directly.
//
// # Matrix multiply
//
// Sgemm is BLAS sgemm for row-major float32: C = alpha*op(A)*op(B) + beta*C,
// op(X) = X or X^T, with explicit row strides. The most common call in the
// models is a linear layer y = x W^T with W stored [out, in]:
//
//	// x (T,in), w (out,in), y (T,out)
//	cpu.Sgemm(false, true, T, out, in, 1, x, in, w, in, 0, y, out)
//
// It is built like GotoBLAS/BLIS: C is cut into kc-deep, mc x nc blocks;
// the block of op(B) and then of op(A) is copied ("packed") into contiguous
// buffers in the order the microkernel reads them (transposes are handled
// there, so all four combinations run the same kernel at the same speed);
// the microkernel keeps a register tile of C over the whole kc depth
// (VBROADCASTSS + VFMADD231PS): 12 x 32 in 24 ZMM registers with AVX-512,
// 6 x 16 in 12 YMM registers with AVX2 and in pure Go. A single row or
// column of C goes through Dot/Axpy instead, and products under 8^3 through
// a plain loop. SgemmNaive, a float64 triple loop, is the test oracle.
//
// # Which path runs: run-time CPU dispatch
//
// Every kernel (the Sgemm microkernel and packing, the few-row dot kernel of
// x W^T, Dot, Axpy, Scale, ExpScaled) has three paths, an ISA:
//
//   - AVX512: 16 lanes, ZMM registers, K-mask tails (AVX-512 F/BW/DQ/VL and
//     OS support for the ZMM state, checked at start with
//     golang.org/x/sys/cpu);
//   - AVX2: 8 lanes, AVX2 + FMA (and OS support for YMM);
//   - Generic: pure Go (kernelGo, dotGo, ...), the only path with -tags
//     purego or on any other GOARCH, about 20x slower than AVX2.
//
// The fastest supported one is used (BestISA). The environment variable
// RETLAB_CPU=avx512|avx2|generic forces one (an unsupported or unknown
// value panics at start rather than silently running another), and
// SetISA switches within a process, so one benchmark run can compare the
// paths side by side. The tests run every path the machine supports against
// the naive oracles. All give results within float32 rounding of
// SgemmNaive; they differ from each other in the last bits (vector widths
// and FMA change the order and rounding of the sums).
//
// MeasurePeak is the machine's float32 ceiling per ISA (independent FMA
// chains, no memory traffic); Peak.MFU turns a measured rate into model
// FLOP/s utilisation.
//
// # Threads
//
// A product of at least about 2*64^3 flops per goroutine is cut into tiles of C
// computed by a pool of persistent workers plus the caller. Threads() is
// runtime.GOMAXPROCS(0) unless SetThreads(n) or the environment variable
// RETLAB_THREADS chose n; SetThreads(1) makes Sgemm single-threaded:
//
//	defer cpu.SetThreads(cpu.SetThreads(1))
//
// SgemmSerial is Sgemm on the calling goroutine alone, for code that already
// runs independent products on every core (one head per goroutine).
// The thread count never changes a result bit. Workers poll for the next
// product for 200 us before sleeping, because waking a sleeping thread costs
// 30-130 us on the project's VMs; back-to-back products (a forward pass)
// keep them busy, and an idle pool sleeps. Pack buffers are allocated once per
// worker and reused, so Sgemm does not allocate after the first call.
//
// # Vector helpers
//
// Dot, Axpy (y += alpha*x) and Scale (x *= alpha) are the vector inner
// loops the retention code uses; DotNaive, AxpyNaive and ScaleNaive are their
// plain twins.
//
// # bfloat16 weights
//
// LinearBF16 is y = x W^T with W stored as bfloat16 (BF16, the format of
// many published checkpoints; ToBF16 / BF16From round float32 to it), for
// inference: x is rounded to bfloat16 and the products summed in float32,
// with AVX512_BF16 dot products (VDPBF16PS, 32 multiply-adds an
// instruction: a row kernel for a few rows, a packed 12x32 microkernel for
// many) where the CPU has them (HasBF16Dot) and float32 widening
// elsewhere. It reads half the bytes of the float32 product, which is what
// a decode step costs, and on Zen 4 multiplies at twice the FMA's rate. Its
// doc comment states the error bounds the tests hold it to. RETLAB_BF16=
// dot|widen forces the dot products on or off (dot panics at start where
// the CPU lacks them), SetBF16Dot switches within a process, and the tests
// run both on every ISA. SgemmBF16W is the exact product (float32
// activations, bit for bit Sgemm on the widened weights).
//
// # Speed
//
// `make bench-sgemm` times BenchmarkSgemm (squares) and
// BenchmarkSgemmRetention (the retention forms' shapes) against PyTorch's
// torch.mm (MKL) from the bench venv (`make bench-deps`), interleaved in
// one run, the same thread count on both sides, and writes a JSON record
// (machine, versions, date) under docs/records; docs/benchmarks.md is
// generated from those records. Numbers from a shared machine swing by 2x
// between runs: compare only ratios from one run.
package cpu
