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

// func transpose8AVX2(dst, src *float32, ld, w, groups int)
//
// 8 rows of src (row stride ld floats) times 8*groups columns, transposed
// into dst at row stride w floats: dst[p*w+j] = src[j*ld+p]. One 8x8
// transpose (unpack, shuffle, lane permute) per group of 8 columns.
TEXT ·transpose8AVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), DX
	MOVQ w+24(FP), BX
	MOVQ groups+32(FP), CX
	SHLQ $2, DX
	SHLQ $2, BX // destination row stride in bytes
	LEAQ (SI)(DX*2), R8
	ADDQ DX, R8 // row 3
	LEAQ (R8)(DX*2), R9
	ADDQ DX, R9 // row 6
	LEAQ (BX)(BX*2), R10 // 3 destination rows
	TESTQ CX, CX
	JEQ tdone

tloop:
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
	LEAQ (DI)(R10*1), R11 // destination row 3
	VMOVUPS Y8, (DI)
	VMOVUPS Y9, (DI)(BX*1)
	VMOVUPS Y10, (DI)(BX*2)
	VMOVUPS Y11, (R11)
	VMOVUPS Y12, (DI)(BX*4)
	VMOVUPS Y13, (R11)(BX*2)
	ADDQ R10, R11 // destination row 6
	VMOVUPS Y14, (R11)
	VMOVUPS Y15, (R11)(BX*1)
	LEAQ (DI)(BX*8), DI
	ADDQ $32, SI
	ADDQ $32, R8
	ADDQ $32, R9
	DECQ CX
	JNE tloop

tdone:
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

// func packA12TAVX2(dst, src *float32, lda, kc int)
//
// Packs a 12-float A micro-panel from a transposed A: 12 contiguous floats
// from each of kc rows (row stride lda floats), dst[p*12+i] = src[p*lda+i].
TEXT ·packA12TAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ lda+16(FP), DX
	MOVQ kc+24(FP), CX
	SHLQ $2, DX
	TESTQ CX, CX
	JEQ a12done

a12loop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), X1
	VMOVUPS Y0, (DI)
	VMOVUPS X1, 32(DI)
	ADDQ DX, SI
	ADDQ $48, DI
	DECQ CX
	JNE a12loop

a12done:
	VZEROUPPER
	RET

// func packB32AVX512(dst, src *float32, ldb, kc int)
//
// Packs a 32-float B micro-panel that needs no transpose: 32 contiguous
// floats (two ZMM) from each of kc rows, dst[p*32+j] = src[p*ldb+j].
TEXT ·packB32AVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ldb+16(FP), DX
	MOVQ kc+24(FP), CX
	SHLQ $2, DX
	TESTQ CX, CX
	JEQ b32done

b32loop:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	ADDQ DX, SI
	ADDQ $128, DI
	DECQ CX
	JNE b32loop

b32done:
	VZEROUPPER
	RET
