// Macros shared by the AVX-512 assembly files of this package.

// TAILMASK sets K1 to the low CX bits (CX < 16): the lanes of a last,
// partial vector. Masked loads never touch memory past the slice.
#define TAILMASK \
	MOVL $1, AX; \
	SHLL CX, AX; \
	DECL AX; \
	KMOVW AX, K1
