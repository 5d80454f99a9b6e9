//go:build !purego

#include "textflag.h"

// func dotRows4AVX2(a *float32, lda, rows int, w *float32, ldw, k8 int, out *float32)
//
// out[i*4+j] = sum_{p < 8*k8} a[i*lda+p] * w[j*ldw+p] for i < rows (1 or 2)
// and j < 4: one or two rows of A dotted with four rows of W at once, so each
// loaded vector of W serves both rows of A and the four sums of a row are
// reduced together. Y0-Y3 and Y4-Y7 accumulate rows 0 and 1.
TEXT ·dotRows4AVX2(SB), NOSPLIT, $0-56
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), DI
	MOVQ rows+16(FP), AX
	MOVQ w+24(FP), R8
	MOVQ ldw+32(FP), R12
	MOVQ k8+40(FP), CX
	MOVQ out+48(FP), DX
	SHLQ $2, DI  // bytes per row of A
	SHLQ $2, R12 // bytes per row of W
	ADDQ SI, DI  // DI = row 1 of A
	LEAQ (R8)(R12*1), R9
	LEAQ (R9)(R12*1), R10
	LEAQ (R10)(R12*1), R11
	XORQ BX, BX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	CMPQ AX, $2
	JL one

	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

two:
	VMOVUPS (R8)(BX*1), Y8
	VMOVUPS (R9)(BX*1), Y9
	VMOVUPS (R10)(BX*1), Y10
	VMOVUPS (R11)(BX*1), Y11
	VMOVUPS (SI)(BX*1), Y12
	VMOVUPS (DI)(BX*1), Y13
	VFMADD231PS Y8, Y12, Y0
	VFMADD231PS Y9, Y12, Y1
	VFMADD231PS Y10, Y12, Y2
	VFMADD231PS Y11, Y12, Y3
	VFMADD231PS Y8, Y13, Y4
	VFMADD231PS Y9, Y13, Y5
	VFMADD231PS Y10, Y13, Y6
	VFMADD231PS Y11, Y13, Y7
	ADDQ $32, BX
	DECQ CX
	JNE two

	// Row 1: [sum Y4, sum Y5, sum Y6, sum Y7] -> out[4:8].
	VHADDPS Y5, Y4, Y4
	VHADDPS Y7, Y6, Y6
	VHADDPS Y6, Y4, Y4
	VEXTRACTF128 $1, Y4, X5
	VADDPS X5, X4, X4
	VMOVUPS X4, 16(DX)
	JMP reduce0

one:
	// One row of A: two vectors per iteration into Y0-Y3 and Y4-Y7, so
	// eight FMA chains are in flight; folded together before the reduction.
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	CMPQ CX, $2
	JL onetail

onepair:
	VMOVUPS (SI)(BX*1), Y12
	VMOVUPS 32(SI)(BX*1), Y13
	VFMADD231PS (R8)(BX*1), Y12, Y0
	VFMADD231PS (R9)(BX*1), Y12, Y1
	VFMADD231PS (R10)(BX*1), Y12, Y2
	VFMADD231PS (R11)(BX*1), Y12, Y3
	VFMADD231PS 32(R8)(BX*1), Y13, Y4
	VFMADD231PS 32(R9)(BX*1), Y13, Y5
	VFMADD231PS 32(R10)(BX*1), Y13, Y6
	VFMADD231PS 32(R11)(BX*1), Y13, Y7
	ADDQ $64, BX
	SUBQ $2, CX
	CMPQ CX, $2
	JGE onepair

onetail:
	TESTQ CX, CX
	JEQ onefold
	VMOVUPS (SI)(BX*1), Y12
	VFMADD231PS (R8)(BX*1), Y12, Y0
	VFMADD231PS (R9)(BX*1), Y12, Y1
	VFMADD231PS (R10)(BX*1), Y12, Y2
	VFMADD231PS (R11)(BX*1), Y12, Y3

onefold:
	VADDPS Y4, Y0, Y0
	VADDPS Y5, Y1, Y1
	VADDPS Y6, Y2, Y2
	VADDPS Y7, Y3, Y3

reduce0:
	// Row 0: [sum Y0, sum Y1, sum Y2, sum Y3] -> out[0:4].
	VHADDPS Y1, Y0, Y0
	VHADDPS Y3, Y2, Y2
	VHADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VMOVUPS X0, (DX)
	VZEROUPPER
	RET
