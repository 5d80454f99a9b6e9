// Macros shared by the assembly files of this package.

// TAILMASK sets K1 to the low CX bits (CX < 16): the lanes of a last,
// partial vector. Masked loads never touch memory past the slice.
#define TAILMASK \
	MOVL $1, AX; \
	SHLL CX, AX; \
	DECL AX; \
	KMOVW AX, K1

// HREDUCE8(op, ops) folds the eight float32 lanes of Y0 into X0's lowest
// lane with the packed op and the scalar ops (VADDPS, VADDSS: the sum;
// VMAXPS, VMAXSS: the maximum), pairwise. Uses X1.
#define HREDUCE8(op, ops) \
	VEXTRACTF128 $1, Y0, X1; \
	op X1, X0, X0; \
	VMOVHLPS X0, X0, X1; \
	op X1, X0, X0; \
	VMOVSHDUP X0, X1; \
	ops X1, X0, X0

// HREDUCE16(op, ops) is HREDUCE8 for the sixteen lanes of Z0.
#define HREDUCE16(op, ops) \
	VEXTRACTF32X8 $1, Z0, Y1; \
	op Y1, Y0, Y0; \
	HREDUCE8(op, ops)
