//go:build !purego

#include "textflag.h"

// func packA6AVX2(dst, src *float32, lda, groups int)
//
// Packs 6 rows of A (row stride lda floats) times 8*groups columns into a
// micro-panel: dst[p*6+i] = src[i*lda+p]. Each group of 8 columns is an 8x8
// transpose (rows 6 and 7 are zero and land in lanes 6, 7, which the next
// store overwrites; the last store of a group writes only 6 floats).
TEXT ·packA6AVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ lda+16(FP), DX
	MOVQ groups+24(FP), CX
	SHLQ $2, DX
	LEAQ (SI)(DX*2), R8
	ADDQ DX, R8 // row 3
	TESTQ CX, CX
	JEQ adone

aloop:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(DX*1), Y1
	VMOVUPS (SI)(DX*2), Y2
	VMOVUPS (R8), Y3
	VMOVUPS (R8)(DX*1), Y4
	VMOVUPS (R8)(DX*2), Y5
	VXORPS Y14, Y14, Y14
	VXORPS Y15, Y15, Y15
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xee, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xee, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xee, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xee, Y15, Y13, Y7
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y7, Y3, Y15
	VMOVUPS Y8, 0(DI)
	VMOVUPS Y9, 24(DI)
	VMOVUPS Y10, 48(DI)
	VMOVUPS Y11, 72(DI)
	VMOVUPS Y12, 96(DI)
	VMOVUPS Y13, 120(DI)
	VMOVUPS Y14, 144(DI)
	VMOVUPS X15, 168(DI)
	VEXTRACTF128 $1, Y15, X15
	VMOVLPS X15, 184(DI)
	ADDQ $32, SI
	ADDQ $32, R8
	ADDQ $192, DI
	DECQ CX
	JNE aloop

adone:
	VZEROUPPER
	RET

// func packB16TAVX2(dst, src *float32, ldb, groups int)
//
// Packs a transposed B micro-panel: 16 rows of the stored B (row stride ldb
// floats; row j is column j of op(B)) times 8*groups columns, into
// dst[p*16+j] = src[j*ldb+p]: two 8x8 transposes per group of 8.
TEXT ·packB16TAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ldb+16(FP), DX
	MOVQ groups+24(FP), CX
	SHLQ $2, DX
	LEAQ (SI)(DX*2), R8
	ADDQ DX, R8 // row 3
	LEAQ (R8)(DX*2), R9
	ADDQ DX, R9 // row 6
	LEAQ (SI)(DX*8), AX // row 8
	LEAQ (AX)(DX*2), R10
	ADDQ DX, R10 // row 11
	LEAQ (R10)(DX*2), R11
	ADDQ DX, R11 // row 14
	TESTQ CX, CX
	JEQ bdone

bloop:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(DX*1), Y1
	VMOVUPS (SI)(DX*2), Y2
	VMOVUPS (R8), Y3
	VMOVUPS (SI)(DX*4), Y4
	VMOVUPS (R8)(DX*2), Y5
	VMOVUPS (R9), Y6
	VMOVUPS (R9)(DX*1), Y7
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15
	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xee, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xee, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xee, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xee, Y15, Y13, Y7
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y7, Y3, Y15
	VMOVUPS Y8, 0(DI)
	VMOVUPS Y9, 64(DI)
	VMOVUPS Y10, 128(DI)
	VMOVUPS Y11, 192(DI)
	VMOVUPS Y12, 256(DI)
	VMOVUPS Y13, 320(DI)
	VMOVUPS Y14, 384(DI)
	VMOVUPS Y15, 448(DI)
	VMOVUPS (AX), Y0
	VMOVUPS (AX)(DX*1), Y1
	VMOVUPS (AX)(DX*2), Y2
	VMOVUPS (R10), Y3
	VMOVUPS (AX)(DX*4), Y4
	VMOVUPS (R10)(DX*2), Y5
	VMOVUPS (R11), Y6
	VMOVUPS (R11)(DX*1), Y7
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15
	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xee, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xee, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xee, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xee, Y15, Y13, Y7
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y7, Y3, Y15
	VMOVUPS Y8, 32(DI)
	VMOVUPS Y9, 96(DI)
	VMOVUPS Y10, 160(DI)
	VMOVUPS Y11, 224(DI)
	VMOVUPS Y12, 288(DI)
	VMOVUPS Y13, 352(DI)
	VMOVUPS Y14, 416(DI)
	VMOVUPS Y15, 480(DI)
	ADDQ $32, SI
	ADDQ $32, R8
	ADDQ $32, R9
	ADDQ $32, AX
	ADDQ $32, R10
	ADDQ $32, R11
	ADDQ $512, DI
	DECQ CX
	JNE bloop

bdone:
	VZEROUPPER
	RET

// func packB16AVX2(dst, src *float32, ldb, kc int)
//
// Packs a B micro-panel that needs no transpose: 16 contiguous floats from
// each of kc rows (row stride ldb floats), dst[p*16+j] = src[p*ldb+j].
TEXT ·packB16AVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ldb+16(FP), DX
	MOVQ kc+24(FP), CX
	SHLQ $2, DX
	CMPQ CX, $2
	JL b16tail

b16loop2:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS (SI)(DX*1), Y2
	VMOVUPS 32(SI)(DX*1), Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	LEAQ (SI)(DX*2), SI
	ADDQ $128, DI
	SUBQ $2, CX
	CMPQ CX, $2
	JGE b16loop2

b16tail:
	TESTQ CX, CX
	JEQ b16done
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)

b16done:
	VZEROUPPER
	RET

// func packA6TAVX2(dst, src *float32, lda, kc int)
//
// Packs an A micro-panel from a transposed A: 6 contiguous floats from each
// of kc rows (row stride lda floats), dst[p*6+i] = src[p*lda+i].
TEXT ·packA6TAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ lda+16(FP), DX
	MOVQ kc+24(FP), CX
	SHLQ $2, DX
	CMPQ CX, $2
	JL a6tail

a6loop2:
	VMOVUPS (SI), X0
	VMOVSD 16(SI), X1
	VMOVUPS (SI)(DX*1), X2
	VMOVSD 16(SI)(DX*1), X3
	VMOVUPS X0, (DI)
	VMOVSD X1, 16(DI)
	VMOVUPS X2, 24(DI)
	VMOVSD X3, 40(DI)
	LEAQ (SI)(DX*2), SI
	ADDQ $48, DI
	SUBQ $2, CX
	CMPQ CX, $2
	JGE a6loop2

a6tail:
	TESTQ CX, CX
	JEQ a6done
	VMOVUPS (SI), X0
	VMOVSD 16(SI), X1
	VMOVUPS X0, (DI)
	VMOVSD X1, 16(DI)

a6done:
	RET
