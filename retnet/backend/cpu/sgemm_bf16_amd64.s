//go:build !purego

#include "textflag.h"

// func widenBF16AVX2(dst *float32, src *BF16, n int)
//
// dst[i] = the float32 whose bits are src[i] << 16, for i < n, n a multiple
// of 16: per 8 values one zero-extending load and one shift.
TEXT ·widenBF16AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $4, CX
	JEQ wdone

wloop:
	VPMOVZXWD (SI), Y0
	VPMOVZXWD 16(SI), Y1
	VPSLLD $16, Y0, Y0
	VPSLLD $16, Y1, Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ $32, SI
	ADDQ $64, DI
	DECQ CX
	JNE wloop

wdone:
	VZEROUPPER
	RET
