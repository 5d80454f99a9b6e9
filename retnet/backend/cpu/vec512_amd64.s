//go:build !purego

#include "textflag.h"
#include "lanes_amd64.h"


// func dotAVX512(x, y []float32) float32
//
// sum_i x[i]*y[i] over len(x) elements (the caller checks len(y) == len(x)):
// four 16-lane FMA accumulators, one 16-lane loop, a masked tail, then the
// 16 lanes summed pairwise.
TEXT ·dotAVX512(SB), NOSPLIT, $0-52
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	MOVQ y_base+24(FP), DI
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	CMPQ CX, $64
	JL dot16

dot64:
	VMOVUPS (SI), Z4
	VMOVUPS 64(SI), Z5
	VMOVUPS 128(SI), Z6
	VMOVUPS 192(SI), Z7
	VFMADD231PS (DI), Z4, Z0
	VFMADD231PS 64(DI), Z5, Z1
	VFMADD231PS 128(DI), Z6, Z2
	VFMADD231PS 192(DI), Z7, Z3
	ADDQ $256, SI
	ADDQ $256, DI
	SUBQ $64, CX
	CMPQ CX, $64
	JGE dot64

dot16:
	CMPQ CX, $16
	JL dottail
	VMOVUPS (SI), Z4
	VFMADD231PS (DI), Z4, Z0
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP dot16

dottail:
	TESTQ CX, CX
	JEQ dotreduce
	TAILMASK
	VMOVUPS.Z (SI), K1, Z4
	VMOVUPS.Z (DI), K1, Z5
	VFMADD231PS Z5, Z4, Z1

dotreduce:
	VADDPS Z1, Z0, Z0
	VADDPS Z3, Z2, Z2
	VADDPS Z2, Z0, Z0
	HREDUCE16(VADDPS, VADDSS)
	VMOVSS X0, ret+48(FP)
	VZEROUPPER
	RET

// func axpyAVX512(alpha float32, x, y []float32)
//
// y[i] += alpha*x[i] over len(x) elements (the caller checks len(y) == len(x)).
TEXT ·axpyAVX512(SB), NOSPLIT, $0-56
	VBROADCASTSS alpha+0(FP), Z0
	MOVQ x_base+8(FP), SI
	MOVQ x_len+16(FP), CX
	MOVQ y_base+32(FP), DI
	CMPQ CX, $64
	JL axpy16

axpy64:
	VMOVUPS (DI), Z4
	VMOVUPS 64(DI), Z5
	VMOVUPS 128(DI), Z6
	VMOVUPS 192(DI), Z7
	VFMADD231PS (SI), Z0, Z4
	VFMADD231PS 64(SI), Z0, Z5
	VFMADD231PS 128(SI), Z0, Z6
	VFMADD231PS 192(SI), Z0, Z7
	VMOVUPS Z4, (DI)
	VMOVUPS Z5, 64(DI)
	VMOVUPS Z6, 128(DI)
	VMOVUPS Z7, 192(DI)
	ADDQ $256, SI
	ADDQ $256, DI
	SUBQ $64, CX
	CMPQ CX, $64
	JGE axpy64

axpy16:
	CMPQ CX, $16
	JL axpytail
	VMOVUPS (DI), Z4
	VFMADD231PS (SI), Z0, Z4
	VMOVUPS Z4, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP axpy16

axpytail:
	TESTQ CX, CX
	JEQ axpydone
	TAILMASK
	VMOVUPS.Z (DI), K1, Z4
	VMOVUPS.Z (SI), K1, Z5
	VFMADD231PS Z5, Z0, Z4
	VMOVUPS Z4, K1, (DI)

axpydone:
	VZEROUPPER
	RET

// func scaleAVX512(alpha float32, x []float32)
//
// x[i] *= alpha.
TEXT ·scaleAVX512(SB), NOSPLIT, $0-32
	VBROADCASTSS alpha+0(FP), Z0
	MOVQ x_base+8(FP), DI
	MOVQ x_len+16(FP), CX
	CMPQ CX, $64
	JL scale16

scale64:
	VMULPS (DI), Z0, Z4
	VMULPS 64(DI), Z0, Z5
	VMULPS 128(DI), Z0, Z6
	VMULPS 192(DI), Z0, Z7
	VMOVUPS Z4, (DI)
	VMOVUPS Z5, 64(DI)
	VMOVUPS Z6, 128(DI)
	VMOVUPS Z7, 192(DI)
	ADDQ $256, DI
	SUBQ $64, CX
	CMPQ CX, $64
	JGE scale64

scale16:
	CMPQ CX, $16
	JL scaletail
	VMULPS (DI), Z0, Z4
	VMOVUPS Z4, (DI)
	ADDQ $64, DI
	SUBQ $16, CX
	JMP scale16

scaletail:
	TESTQ CX, CX
	JEQ scaledone
	TAILMASK
	VMOVUPS.Z (DI), K1, Z4
	VMULPS Z4, Z0, Z4
	VMOVUPS Z4, K1, (DI)

scaledone:
	VZEROUPPER
	RET

// func dotRows4AVX512(a *float32, lda, rows int, w *float32, ldw, k8 int, out *float32)
//
// dotRows4AVX2 on ZMM registers: out[i*4+j] = sum_{p < 8*k8} a[i*lda+p] *
// w[j*ldw+p] for i < rows (1 or 2), j < 4. 16 floats a step; an odd k8
// ends with a step whose upper 8 lanes are masked off (K1 = 0xff: the
// loads stay inside the rows, the accumulators' upper lanes unchanged).
// Z0-Z3 and Z4-Z7 accumulate rows 0 and 1 (one row: two steps at a time
// into both sets, folded at the end).
TEXT ·dotRows4AVX512(SB), NOSPLIT, $0-56
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
	MOVL $0xff, R13
	KMOVW R13, K1
	XORQ BX, BX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	CMPQ AX, $2
	JL one
	CMPQ CX, $2
	JL twohalf

two:
	VMOVUPS (R8)(BX*1), Z8
	VMOVUPS (R9)(BX*1), Z9
	VMOVUPS (R10)(BX*1), Z10
	VMOVUPS (R11)(BX*1), Z11
	VMOVUPS (SI)(BX*1), Z12
	VMOVUPS (DI)(BX*1), Z13
	VFMADD231PS Z8, Z12, Z0
	VFMADD231PS Z9, Z12, Z1
	VFMADD231PS Z10, Z12, Z2
	VFMADD231PS Z11, Z12, Z3
	VFMADD231PS Z8, Z13, Z4
	VFMADD231PS Z9, Z13, Z5
	VFMADD231PS Z10, Z13, Z6
	VFMADD231PS Z11, Z13, Z7
	ADDQ $64, BX
	SUBQ $2, CX
	CMPQ CX, $2
	JGE two

twohalf:
	TESTQ CX, CX
	JEQ tworeduce
	VMOVUPS.Z (R8)(BX*1), K1, Z8
	VMOVUPS.Z (R9)(BX*1), K1, Z9
	VMOVUPS.Z (R10)(BX*1), K1, Z10
	VMOVUPS.Z (R11)(BX*1), K1, Z11
	VMOVUPS.Z (SI)(BX*1), K1, Z12
	VMOVUPS.Z (DI)(BX*1), K1, Z13
	VFMADD231PS Z8, Z12, Z0
	VFMADD231PS Z9, Z12, Z1
	VFMADD231PS Z10, Z12, Z2
	VFMADD231PS Z11, Z12, Z3
	VFMADD231PS Z8, Z13, Z4
	VFMADD231PS Z9, Z13, Z5
	VFMADD231PS Z10, Z13, Z6
	VFMADD231PS Z11, Z13, Z7

tworeduce:
	// Row 1: [sum Z4, sum Z5, sum Z6, sum Z7] -> out[4:8].
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
	JMP reduce0

one:
	CMPQ CX, $4
	JL onerest

onepair:
	VMOVUPS (SI)(BX*1), Z12
	VMOVUPS 64(SI)(BX*1), Z13
	VFMADD231PS (R8)(BX*1), Z12, Z0
	VFMADD231PS (R9)(BX*1), Z12, Z1
	VFMADD231PS (R10)(BX*1), Z12, Z2
	VFMADD231PS (R11)(BX*1), Z12, Z3
	VFMADD231PS 64(R8)(BX*1), Z13, Z4
	VFMADD231PS 64(R9)(BX*1), Z13, Z5
	VFMADD231PS 64(R10)(BX*1), Z13, Z6
	VFMADD231PS 64(R11)(BX*1), Z13, Z7
	ADDQ $128, BX
	SUBQ $4, CX
	CMPQ CX, $4
	JGE onepair

onerest:
	CMPQ CX, $2
	JL onehalf
	VMOVUPS (SI)(BX*1), Z12
	VFMADD231PS (R8)(BX*1), Z12, Z0
	VFMADD231PS (R9)(BX*1), Z12, Z1
	VFMADD231PS (R10)(BX*1), Z12, Z2
	VFMADD231PS (R11)(BX*1), Z12, Z3
	ADDQ $64, BX
	SUBQ $2, CX

onehalf:
	TESTQ CX, CX
	JEQ onefold
	VMOVUPS.Z (SI)(BX*1), K1, Z12
	VFMADD231PS (R8)(BX*1), Z12, K1, Z4
	VFMADD231PS (R9)(BX*1), Z12, K1, Z5
	VFMADD231PS (R10)(BX*1), Z12, K1, Z6
	VFMADD231PS (R11)(BX*1), Z12, K1, Z7

onefold:
	VADDPS Z4, Z0, Z0
	VADDPS Z5, Z1, Z1
	VADDPS Z6, Z2, Z2
	VADDPS Z7, Z3, Z3

reduce0:
	// Row 0: [sum Z0, sum Z1, sum Z2, sum Z3] -> out[0:4].
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
	VZEROUPPER
	RET

// func mulAbsSumAVX512(x, w []float32, c float32) float32
//
// x[i] = x[i] * (w[i]*c) and the sum of |x[i]|, 16 lanes a step, the tail
// through a K mask (the caller checks len(w) >= len(x)).
TEXT ·mulAbsSumAVX512(SB), NOSPLIT, $0-60
	MOVQ x_base+0(FP), DI
	MOVQ x_len+8(FP), CX
	MOVQ w_base+24(FP), SI
	VBROADCASTSS c+48(FP), Z0
	MOVL $0x7fffffff, AX
	VPBROADCASTD AX, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3

mas32:
	CMPQ CX, $32
	JL mas16
	VMULPS (SI), Z0, Z4
	VMULPS 64(SI), Z0, Z5
	VMULPS (DI), Z4, Z4
	VMULPS 64(DI), Z5, Z5
	VMOVUPS Z4, (DI)
	VMOVUPS Z5, 64(DI)
	VPANDD Z1, Z4, Z4
	VPANDD Z1, Z5, Z5
	VADDPS Z4, Z2, Z2
	VADDPS Z5, Z3, Z3
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	JMP mas32

mas16:
	CMPQ CX, $16
	JL mastail
	VMULPS (SI), Z0, Z4
	VMULPS (DI), Z4, Z4
	VMOVUPS Z4, (DI)
	VPANDD Z1, Z4, Z4
	VADDPS Z4, Z2, Z2
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX

mastail:
	TESTQ CX, CX
	JEQ masreduce
	TAILMASK
	VMOVUPS.Z (SI), K1, Z4
	VMULPS Z0, Z4, Z4
	VMOVUPS.Z (DI), K1, Z5
	VMULPS Z5, Z4, Z4
	VMOVUPS Z4, K1, (DI)
	VPANDD Z1, Z4, Z4
	VADDPS Z4, Z3, Z3

masreduce:
	VADDPS Z3, Z2, Z2
	VEXTRACTF32X8 $1, Z2, Y1
	VADDPS Y1, Y2, Y2
	VEXTRACTF128 $1, Y2, X1
	VADDPS X1, X2, X2
	VMOVHLPS X2, X2, X1
	VADDPS X1, X2, X2
	VMOVSHDUP X2, X1
	VADDSS X1, X2, X2
	VMOVSS X2, ret+56(FP)
	VZEROUPPER
	RET
