package cuda

// The kernels are CUDA C (kernels/*.cu). Their PTX is generated here with
// nvcc and committed, so building needs no CUDA compiler; the -tags cuda
// build embeds it and the driver JIT-compiles it for the device at load.

//go:generate ../../../scripts/gpu/gen-ptx.sh
