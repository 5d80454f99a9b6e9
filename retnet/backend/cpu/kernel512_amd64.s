//go:build !purego

#include "textflag.h"
#include "vdpbf16ps_amd64.h"

// The 12x32 tile of C in Z0-Z23 (row i in Z(2i), Z(2i+1)), shared by the
// float32 and the bfloat16 microkernel: TILE_ZERO clears it, TILE_SCALE(a)
// multiplies it by the broadcast alpha in a, TILE_STORE writes it to C at DI
// (row stride SI bytes, DI advanced to the last row), TILE_ACCUMULATE(b)
// writes tile + b*C with the broadcast beta in b.
#define TILE_ZERO \
	VPXORD Z0, Z0, Z0; \
	VPXORD Z1, Z1, Z1; \
	VPXORD Z2, Z2, Z2; \
	VPXORD Z3, Z3, Z3; \
	VPXORD Z4, Z4, Z4; \
	VPXORD Z5, Z5, Z5; \
	VPXORD Z6, Z6, Z6; \
	VPXORD Z7, Z7, Z7; \
	VPXORD Z8, Z8, Z8; \
	VPXORD Z9, Z9, Z9; \
	VPXORD Z10, Z10, Z10; \
	VPXORD Z11, Z11, Z11; \
	VPXORD Z12, Z12, Z12; \
	VPXORD Z13, Z13, Z13; \
	VPXORD Z14, Z14, Z14; \
	VPXORD Z15, Z15, Z15; \
	VPXORD Z16, Z16, Z16; \
	VPXORD Z17, Z17, Z17; \
	VPXORD Z18, Z18, Z18; \
	VPXORD Z19, Z19, Z19; \
	VPXORD Z20, Z20, Z20; \
	VPXORD Z21, Z21, Z21; \
	VPXORD Z22, Z22, Z22; \
	VPXORD Z23, Z23, Z23

#define TILE_SCALE(a) \
	VMULPS a, Z0, Z0; \
	VMULPS a, Z1, Z1; \
	VMULPS a, Z2, Z2; \
	VMULPS a, Z3, Z3; \
	VMULPS a, Z4, Z4; \
	VMULPS a, Z5, Z5; \
	VMULPS a, Z6, Z6; \
	VMULPS a, Z7, Z7; \
	VMULPS a, Z8, Z8; \
	VMULPS a, Z9, Z9; \
	VMULPS a, Z10, Z10; \
	VMULPS a, Z11, Z11; \
	VMULPS a, Z12, Z12; \
	VMULPS a, Z13, Z13; \
	VMULPS a, Z14, Z14; \
	VMULPS a, Z15, Z15; \
	VMULPS a, Z16, Z16; \
	VMULPS a, Z17, Z17; \
	VMULPS a, Z18, Z18; \
	VMULPS a, Z19, Z19; \
	VMULPS a, Z20, Z20; \
	VMULPS a, Z21, Z21; \
	VMULPS a, Z22, Z22; \
	VMULPS a, Z23, Z23

#define TILE_STORE \
	VMOVUPS Z0, (DI); \
	VMOVUPS Z1, 64(DI); \
	ADDQ SI, DI; \
	VMOVUPS Z2, (DI); \
	VMOVUPS Z3, 64(DI); \
	ADDQ SI, DI; \
	VMOVUPS Z4, (DI); \
	VMOVUPS Z5, 64(DI); \
	ADDQ SI, DI; \
	VMOVUPS Z6, (DI); \
	VMOVUPS Z7, 64(DI); \
	ADDQ SI, DI; \
	VMOVUPS Z8, (DI); \
	VMOVUPS Z9, 64(DI); \
	ADDQ SI, DI; \
	VMOVUPS Z10, (DI); \
	VMOVUPS Z11, 64(DI); \
	ADDQ SI, DI; \
	VMOVUPS Z12, (DI); \
	VMOVUPS Z13, 64(DI); \
	ADDQ SI, DI; \
	VMOVUPS Z14, (DI); \
	VMOVUPS Z15, 64(DI); \
	ADDQ SI, DI; \
	VMOVUPS Z16, (DI); \
	VMOVUPS Z17, 64(DI); \
	ADDQ SI, DI; \
	VMOVUPS Z18, (DI); \
	VMOVUPS Z19, 64(DI); \
	ADDQ SI, DI; \
	VMOVUPS Z20, (DI); \
	VMOVUPS Z21, 64(DI); \
	ADDQ SI, DI; \
	VMOVUPS Z22, (DI); \
	VMOVUPS Z23, 64(DI)

#define TILE_ACCUMULATE(b) \
	VFMADD231PS (DI), b, Z0; \
	VFMADD231PS 64(DI), b, Z1; \
	VMOVUPS Z0, (DI); \
	VMOVUPS Z1, 64(DI); \
	ADDQ SI, DI; \
	VFMADD231PS (DI), b, Z2; \
	VFMADD231PS 64(DI), b, Z3; \
	VMOVUPS Z2, (DI); \
	VMOVUPS Z3, 64(DI); \
	ADDQ SI, DI; \
	VFMADD231PS (DI), b, Z4; \
	VFMADD231PS 64(DI), b, Z5; \
	VMOVUPS Z4, (DI); \
	VMOVUPS Z5, 64(DI); \
	ADDQ SI, DI; \
	VFMADD231PS (DI), b, Z6; \
	VFMADD231PS 64(DI), b, Z7; \
	VMOVUPS Z6, (DI); \
	VMOVUPS Z7, 64(DI); \
	ADDQ SI, DI; \
	VFMADD231PS (DI), b, Z8; \
	VFMADD231PS 64(DI), b, Z9; \
	VMOVUPS Z8, (DI); \
	VMOVUPS Z9, 64(DI); \
	ADDQ SI, DI; \
	VFMADD231PS (DI), b, Z10; \
	VFMADD231PS 64(DI), b, Z11; \
	VMOVUPS Z10, (DI); \
	VMOVUPS Z11, 64(DI); \
	ADDQ SI, DI; \
	VFMADD231PS (DI), b, Z12; \
	VFMADD231PS 64(DI), b, Z13; \
	VMOVUPS Z12, (DI); \
	VMOVUPS Z13, 64(DI); \
	ADDQ SI, DI; \
	VFMADD231PS (DI), b, Z14; \
	VFMADD231PS 64(DI), b, Z15; \
	VMOVUPS Z14, (DI); \
	VMOVUPS Z15, 64(DI); \
	ADDQ SI, DI; \
	VFMADD231PS (DI), b, Z16; \
	VFMADD231PS 64(DI), b, Z17; \
	VMOVUPS Z16, (DI); \
	VMOVUPS Z17, 64(DI); \
	ADDQ SI, DI; \
	VFMADD231PS (DI), b, Z18; \
	VFMADD231PS 64(DI), b, Z19; \
	VMOVUPS Z18, (DI); \
	VMOVUPS Z19, 64(DI); \
	ADDQ SI, DI; \
	VFMADD231PS (DI), b, Z20; \
	VFMADD231PS 64(DI), b, Z21; \
	VMOVUPS Z20, (DI); \
	VMOVUPS Z21, 64(DI); \
	ADDQ SI, DI; \
	VFMADD231PS (DI), b, Z22; \
	VFMADD231PS 64(DI), b, Z23; \
	VMOVUPS Z22, (DI); \
	VMOVUPS Z23, 64(DI)

// TILE_EPILOGUE ends a 12x32 microkernel with the arguments (kc int, a, b,
// c *float32, ldc int, alpha, beta float32), DI = c and SI = ldc in bytes:
// C = alpha*tile + beta*C, where beta == 0 never reads C (so NaN there is
// overwritten) and a NaN beta reads it, as the plain loop does.
#define TILE_EPILOGUE \
	VBROADCASTSS alpha+40(FP), Z31; \
	TILE_SCALE(Z31); \
	VMOVSS beta+44(FP), X30; \
	VXORPS X29, X29, X29; \
	VUCOMISS X29, X30; \
	JPS accumulate; \
	JNE accumulate; \
	TILE_STORE; \
	VZEROUPPER; \
	RET; \
accumulate: \
	VBROADCASTSS beta+44(FP), Z30; \
	TILE_ACCUMULATE(Z30); \
	VZEROUPPER; \
	RET

// TILE_KERNEL(step) is a whole 12x32 microkernel with the arguments (kc
// int, a, b, c *float32, ldc int, alpha, beta float32): the tile cleared,
// kc depth steps (step advances AX by 48 bytes of A and BX by 128 of B,
// unrolled by four with prefetches), then TILE_EPILOGUE. SI is ldc in
// bytes.
#define TILE_KERNEL(step) \
	MOVQ kc+0(FP), CX; \
	MOVQ a+8(FP), AX; \
	MOVQ b+16(FP), BX; \
	MOVQ c+24(FP), DI; \
	MOVQ ldc+32(FP), SI; \
	SHLQ $2, SI; \
	TILE_ZERO; \
	CMPQ CX, $4; \
	JL tail; \
loop4: \
	PREFETCHT0 384(AX); \
	PREFETCHT0 1024(BX); \
	step; \
	PREFETCHT0 1024(BX); \
	step; \
	PREFETCHT0 384(AX); \
	PREFETCHT0 1024(BX); \
	step; \
	PREFETCHT0 1024(BX); \
	step; \
	SUBQ $4, CX; \
	CMPQ CX, $4; \
	JGE loop4; \
tail: \
	TESTQ CX, CX; \
	JEQ epilogue; \
loop1: \
	step; \
	DECQ CX; \
	JNE loop1; \
epilogue: \
	TILE_EPILOGUE

// One depth step of the 12x32 tile: the 32-float row of the packed B panel
// in Z24, Z25; each of the 12 A values broadcast (rotating Z26-Z31) and
// multiplied into its row's two accumulators, row i in Z(2i) (columns 0-15)
// and Z(2i+1) (columns 16-31). 14 loads feed 24 FMAs, so the two FMA ports
// stay busy with the two load ports to spare.
#define KSTEP \
	VMOVUPS (BX), Z24; \
	VMOVUPS 64(BX), Z25; \
	VBROADCASTSS 0(AX), Z26; \
	VFMADD231PS Z24, Z26, Z0; \
	VFMADD231PS Z25, Z26, Z1; \
	VBROADCASTSS 4(AX), Z27; \
	VFMADD231PS Z24, Z27, Z2; \
	VFMADD231PS Z25, Z27, Z3; \
	VBROADCASTSS 8(AX), Z28; \
	VFMADD231PS Z24, Z28, Z4; \
	VFMADD231PS Z25, Z28, Z5; \
	VBROADCASTSS 12(AX), Z29; \
	VFMADD231PS Z24, Z29, Z6; \
	VFMADD231PS Z25, Z29, Z7; \
	VBROADCASTSS 16(AX), Z30; \
	VFMADD231PS Z24, Z30, Z8; \
	VFMADD231PS Z25, Z30, Z9; \
	VBROADCASTSS 20(AX), Z31; \
	VFMADD231PS Z24, Z31, Z10; \
	VFMADD231PS Z25, Z31, Z11; \
	VBROADCASTSS 24(AX), Z26; \
	VFMADD231PS Z24, Z26, Z12; \
	VFMADD231PS Z25, Z26, Z13; \
	VBROADCASTSS 28(AX), Z27; \
	VFMADD231PS Z24, Z27, Z14; \
	VFMADD231PS Z25, Z27, Z15; \
	VBROADCASTSS 32(AX), Z28; \
	VFMADD231PS Z24, Z28, Z16; \
	VFMADD231PS Z25, Z28, Z17; \
	VBROADCASTSS 36(AX), Z29; \
	VFMADD231PS Z24, Z29, Z18; \
	VFMADD231PS Z25, Z29, Z19; \
	VBROADCASTSS 40(AX), Z30; \
	VFMADD231PS Z24, Z30, Z20; \
	VFMADD231PS Z25, Z30, Z21; \
	VBROADCASTSS 44(AX), Z31; \
	VFMADD231PS Z24, Z31, Z22; \
	VFMADD231PS Z25, Z31, Z23; \
	ADDQ $48, AX; \
	ADDQ $128, BX

// One step of the bfloat16 12x32 tile: KSTEP with each 32-bit element a
// pair of bfloat16 (two consecutive k) and VDPBF16PS in place of the FMA,
// so each instruction does 32 multiply-adds instead of 16.
#define KSTEP_BF16 \
	VMOVUPS (BX), Z24; \
	VMOVUPS 64(BX), Z25; \
	VPBROADCASTD 0(AX), Z26; \
	VDPBF16PS_Z(24, 26, 0); \
	VDPBF16PS_Z(25, 26, 1); \
	VPBROADCASTD 4(AX), Z27; \
	VDPBF16PS_Z(24, 27, 2); \
	VDPBF16PS_Z(25, 27, 3); \
	VPBROADCASTD 8(AX), Z28; \
	VDPBF16PS_Z(24, 28, 4); \
	VDPBF16PS_Z(25, 28, 5); \
	VPBROADCASTD 12(AX), Z29; \
	VDPBF16PS_Z(24, 29, 6); \
	VDPBF16PS_Z(25, 29, 7); \
	VPBROADCASTD 16(AX), Z30; \
	VDPBF16PS_Z(24, 30, 8); \
	VDPBF16PS_Z(25, 30, 9); \
	VPBROADCASTD 20(AX), Z31; \
	VDPBF16PS_Z(24, 31, 10); \
	VDPBF16PS_Z(25, 31, 11); \
	VPBROADCASTD 24(AX), Z26; \
	VDPBF16PS_Z(24, 26, 12); \
	VDPBF16PS_Z(25, 26, 13); \
	VPBROADCASTD 28(AX), Z27; \
	VDPBF16PS_Z(24, 27, 14); \
	VDPBF16PS_Z(25, 27, 15); \
	VPBROADCASTD 32(AX), Z28; \
	VDPBF16PS_Z(24, 28, 16); \
	VDPBF16PS_Z(25, 28, 17); \
	VPBROADCASTD 36(AX), Z29; \
	VDPBF16PS_Z(24, 29, 18); \
	VDPBF16PS_Z(25, 29, 19); \
	VPBROADCASTD 40(AX), Z30; \
	VDPBF16PS_Z(24, 30, 20); \
	VDPBF16PS_Z(25, 30, 21); \
	VPBROADCASTD 44(AX), Z31; \
	VDPBF16PS_Z(24, 31, 22); \
	VDPBF16PS_Z(25, 31, 23); \
	ADDQ $48, AX; \
	ADDQ $128, BX

// func sgemmKernelAVX512(kc int, a, b, c *float32, ldc int, alpha, beta float32)
//
// C[0:12][0:32] = alpha*(A panel)(B panel) + beta*C, the packed A panel
// holding 12 floats per k step and the packed B panel 32 (the loop of
// kernelGo with mr = 12, nr = 32); beta as TILE_EPILOGUE says.
TEXT ·sgemmKernelAVX512(SB), NOSPLIT, $0-48
	TILE_KERNEL(KSTEP)

// func sgemmKernelBF16(kc int, a, b, c *float32, ldc int, alpha, beta float32)
//
// sgemmKernelAVX512 on bfloat16 pairs: C[0:12][0:32] = alpha*acc + beta*C
// (as TILE_EPILOGUE says), acc[i][j] = sum_{q < kc} a[q*12+i] . b[q*32+j],
// where each 32-bit element of the packed panels is a pair of bfloat16
// (low half the even k, high half the odd one) and . is VDPBF16PS's
// pairwise product sum, in float32. a holds kc x 12 pairs, b kc x 32.
TEXT ·sgemmKernelBF16(SB), NOSPLIT, $0-48
	TILE_KERNEL(KSTEP_BF16)
