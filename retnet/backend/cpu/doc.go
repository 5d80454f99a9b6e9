// Package cpu is the default compute backend: pure Go plus Go assembly on
// amd64, no cgo, using every core for large products.
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
// the microkernel keeps a 6 x 16 tile of C in twelve 8-float registers
// (VBROADCASTSS + VFMADD231PS) over the whole kc depth. A single row or
// column of C goes through Dot/Axpy instead, and products under 8^3 through
// a plain loop. SgemmNaive, a float64 triple loop, is the test oracle.
//
// # Which build gives which path
//
//   - amd64 (default build): the AVX2+FMA assembly microkernel and vector
//     helpers when the CPU has both (checked at start with golang.org/x/sys/cpu,
//     including OS support for the YMM registers); otherwise the pure-Go
//     kernel.
//   - -tags purego, or any other GOARCH: the pure-Go kernel (kernelGo, dotGo,
//     ...), the same blocking and threading, about 20x slower (~5 GFLOP/s
//     per core).
//
// Both give results within float32 rounding of SgemmNaive; they differ from
// each other in the last bits (FMA rounds once).
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
// Dot, Axpy (y += alpha*x) and Scale (x *= alpha) are the AVX2 inner loops
// the retention code uses; DotNaive, AxpyNaive and ScaleNaive are their
// plain twins.
//
// # Speed
//
// `make bench-sgemm` times BenchmarkSgemm (squares) and
// BenchmarkSgemmRetention (the retention forms' shapes) against numpy on
// OpenBLAS, interleaved, 2 threads each, and prints the ratios. On the
// project machine (2-core AMD EPYC Zen 4, where OpenBLAS 0.3.21 runs its
// AVX-512 Cooperlake kernels) the microkernel alone runs at 114 GFLOP/s per
// core from L1 and Sgemm at 1024^3 at ~107 GFLOP/s on one thread. One quiet
// side-by-side run, 2 threads, GFLOP/s (Go / OpenBLAS): 256^3 201/182,
// 512^3 169/199, 1024^3 202/166, 2048^3 183/194; x W^T with 64 rows and
// D=512 185/169, q k^T at T=2048 192/136. The machine is shared, so timings
// swing by 2x between runs: compare only numbers from one run.
package cpu
