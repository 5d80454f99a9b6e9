//go:build !purego

#include "textflag.h"

#include "vdpbf16ps_amd64.h"

// ROWS2STEP: one step of 32 bfloat16 (a ZMM) for two rows of A (Z12, Z13)
// against four rows of W (Z8-Z11), into Z0-Z3 (row 0) and Z4-Z7 (row 1).
#define ROWS2STEP \
	VDPBF16PS_Z(8, 12, 0); \
	VDPBF16PS_Z(9, 12, 1); \
	VDPBF16PS_Z(10, 12, 2); \
	VDPBF16PS_Z(11, 12, 3); \
	VDPBF16PS_Z(8, 13, 4); \
	VDPBF16PS_Z(9, 13, 5); \
	VDPBF16PS_Z(10, 13, 6); \
	VDPBF16PS_Z(11, 13, 7)

// func dotRows4BF16(a *BF16, lda, rows int, w *BF16, ldw, k int, out *float32)
//
// out[i*4+j] = sum_{p < k} a[i*lda+p] * w[j*ldw+p] for i < rows (1 or 2)
// and j < 4, all operands bfloat16, products and sums in float32
// (VDPBF16PS). A row of A's 32 values is loaded once for four rows of W;
// the last k%32 through a word mask (K1), so no load leaves a row.
TEXT ·dotRows4BF16(SB), NOSPLIT, $0-56
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), DI
	MOVQ rows+16(FP), AX
	MOVQ w+24(FP), R8
	MOVQ ldw+32(FP), R12
	MOVQ k+40(FP), CX
	MOVQ out+48(FP), DX
	SHLQ $1, DI  // bytes per row of A
	SHLQ $1, R12 // bytes per row of W
	ADDQ SI, DI  // DI = row 1 of A
	CMPQ AX, $2
	JGE tworows
	MOVQ SI, DI  // one row: "row 1" reads row 0 again; its sums are not stored

tworows:
	LEAQ (R8)(R12*1), R9
	LEAQ (R9)(R12*1), R10
	LEAQ (R10)(R12*1), R11
	XORQ BX, BX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	CMPQ CX, $32
	JL rest

loop:
	VMOVDQU16 (R8)(BX*1), Z8
	VMOVDQU16 (R9)(BX*1), Z9
	VMOVDQU16 (R10)(BX*1), Z10
	VMOVDQU16 (R11)(BX*1), Z11
	VMOVDQU16 (SI)(BX*1), Z12
	VMOVDQU16 (DI)(BX*1), Z13
	ROWS2STEP
	ADDQ $64, BX
	SUBQ $32, CX
	CMPQ CX, $32
	JGE loop

rest:
	TESTQ CX, CX
	JEQ reduce
	MOVQ $1, R13
	SHLQ CX, R13
	DECQ R13
	KMOVD R13, K1
	VMOVDQU16.Z (R8)(BX*1), K1, Z8
	VMOVDQU16.Z (R9)(BX*1), K1, Z9
	VMOVDQU16.Z (R10)(BX*1), K1, Z10
	VMOVDQU16.Z (R11)(BX*1), K1, Z11
	VMOVDQU16.Z (SI)(BX*1), K1, Z12
	VMOVDQU16.Z (DI)(BX*1), K1, Z13
	ROWS2STEP

reduce:
	// [sum Z0, sum Z1, sum Z2, sum Z3] -> out[0:4], the same for Z4-Z7
	// -> out[4:8] when there are two rows.
	VEXTRACTF32X8 $1, Z0, Y8
	VEXTRACTF32X8 $1, Z1, Y9
	VEXTRACTF32X8 $1, Z2, Y10
	VEXTRACTF32X8 $1, Z3, Y11
	VADDPS Y8, Y0, Y0
	VADDPS Y9, Y1, Y1
	VADDPS Y10, Y2, Y2
	VADDPS Y11, Y3, Y3
	VHADDPS Y1, Y0, Y0
	VHADDPS Y3, Y2, Y2
	VHADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VMOVUPS X0, (DX)
	CMPQ AX, $2
	JL done
	VEXTRACTF32X8 $1, Z4, Y8
	VEXTRACTF32X8 $1, Z5, Y9
	VEXTRACTF32X8 $1, Z6, Y10
	VEXTRACTF32X8 $1, Z7, Y11
	VADDPS Y8, Y4, Y4
	VADDPS Y9, Y5, Y5
	VADDPS Y10, Y6, Y6
	VADDPS Y11, Y7, Y7
	VHADDPS Y5, Y4, Y4
	VHADDPS Y7, Y6, Y6
	VHADDPS Y6, Y4, Y4
	VEXTRACTF128 $1, Y4, X5
	VADDPS X5, X4, X4
	VMOVUPS X4, 16(DX)

done:
	VZEROUPPER
	RET
