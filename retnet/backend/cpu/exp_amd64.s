//go:build !purego

#include "textflag.h"
#include "lanes_amd64.h"

// Eight copies of each constant, so that they serve as 256-bit memory
// operands: log2(e), ln2 split in a high part exact in float32 and the
// rest, the Taylor coefficients 1/720 .. 1/2 and 1, the input range
// [-87, 88], +Inf, and the float32 exponent bias 127 (an integer).
DATA expc<>+0(SB)/4, $0x3fb8aa3b
DATA expc<>+4(SB)/4, $0x3fb8aa3b
DATA expc<>+8(SB)/4, $0x3fb8aa3b
DATA expc<>+12(SB)/4, $0x3fb8aa3b
DATA expc<>+16(SB)/4, $0x3fb8aa3b
DATA expc<>+20(SB)/4, $0x3fb8aa3b
DATA expc<>+24(SB)/4, $0x3fb8aa3b
DATA expc<>+28(SB)/4, $0x3fb8aa3b
DATA expc<>+32(SB)/4, $0x3f317200
DATA expc<>+36(SB)/4, $0x3f317200
DATA expc<>+40(SB)/4, $0x3f317200
DATA expc<>+44(SB)/4, $0x3f317200
DATA expc<>+48(SB)/4, $0x3f317200
DATA expc<>+52(SB)/4, $0x3f317200
DATA expc<>+56(SB)/4, $0x3f317200
DATA expc<>+60(SB)/4, $0x3f317200
DATA expc<>+64(SB)/4, $0x35bfbe8e
DATA expc<>+68(SB)/4, $0x35bfbe8e
DATA expc<>+72(SB)/4, $0x35bfbe8e
DATA expc<>+76(SB)/4, $0x35bfbe8e
DATA expc<>+80(SB)/4, $0x35bfbe8e
DATA expc<>+84(SB)/4, $0x35bfbe8e
DATA expc<>+88(SB)/4, $0x35bfbe8e
DATA expc<>+92(SB)/4, $0x35bfbe8e
DATA expc<>+96(SB)/4, $0x3ab60b61
DATA expc<>+100(SB)/4, $0x3ab60b61
DATA expc<>+104(SB)/4, $0x3ab60b61
DATA expc<>+108(SB)/4, $0x3ab60b61
DATA expc<>+112(SB)/4, $0x3ab60b61
DATA expc<>+116(SB)/4, $0x3ab60b61
DATA expc<>+120(SB)/4, $0x3ab60b61
DATA expc<>+124(SB)/4, $0x3ab60b61
DATA expc<>+128(SB)/4, $0x3c088889
DATA expc<>+132(SB)/4, $0x3c088889
DATA expc<>+136(SB)/4, $0x3c088889
DATA expc<>+140(SB)/4, $0x3c088889
DATA expc<>+144(SB)/4, $0x3c088889
DATA expc<>+148(SB)/4, $0x3c088889
DATA expc<>+152(SB)/4, $0x3c088889
DATA expc<>+156(SB)/4, $0x3c088889
DATA expc<>+160(SB)/4, $0x3d2aaaab
DATA expc<>+164(SB)/4, $0x3d2aaaab
DATA expc<>+168(SB)/4, $0x3d2aaaab
DATA expc<>+172(SB)/4, $0x3d2aaaab
DATA expc<>+176(SB)/4, $0x3d2aaaab
DATA expc<>+180(SB)/4, $0x3d2aaaab
DATA expc<>+184(SB)/4, $0x3d2aaaab
DATA expc<>+188(SB)/4, $0x3d2aaaab
DATA expc<>+192(SB)/4, $0x3e2aaaab
DATA expc<>+196(SB)/4, $0x3e2aaaab
DATA expc<>+200(SB)/4, $0x3e2aaaab
DATA expc<>+204(SB)/4, $0x3e2aaaab
DATA expc<>+208(SB)/4, $0x3e2aaaab
DATA expc<>+212(SB)/4, $0x3e2aaaab
DATA expc<>+216(SB)/4, $0x3e2aaaab
DATA expc<>+220(SB)/4, $0x3e2aaaab
DATA expc<>+224(SB)/4, $0x3f000000
DATA expc<>+228(SB)/4, $0x3f000000
DATA expc<>+232(SB)/4, $0x3f000000
DATA expc<>+236(SB)/4, $0x3f000000
DATA expc<>+240(SB)/4, $0x3f000000
DATA expc<>+244(SB)/4, $0x3f000000
DATA expc<>+248(SB)/4, $0x3f000000
DATA expc<>+252(SB)/4, $0x3f000000
DATA expc<>+256(SB)/4, $0x3f800000
DATA expc<>+260(SB)/4, $0x3f800000
DATA expc<>+264(SB)/4, $0x3f800000
DATA expc<>+268(SB)/4, $0x3f800000
DATA expc<>+272(SB)/4, $0x3f800000
DATA expc<>+276(SB)/4, $0x3f800000
DATA expc<>+280(SB)/4, $0x3f800000
DATA expc<>+284(SB)/4, $0x3f800000
DATA expc<>+288(SB)/4, $0xc2ae0000
DATA expc<>+292(SB)/4, $0xc2ae0000
DATA expc<>+296(SB)/4, $0xc2ae0000
DATA expc<>+300(SB)/4, $0xc2ae0000
DATA expc<>+304(SB)/4, $0xc2ae0000
DATA expc<>+308(SB)/4, $0xc2ae0000
DATA expc<>+312(SB)/4, $0xc2ae0000
DATA expc<>+316(SB)/4, $0xc2ae0000
DATA expc<>+320(SB)/4, $0x42b00000
DATA expc<>+324(SB)/4, $0x42b00000
DATA expc<>+328(SB)/4, $0x42b00000
DATA expc<>+332(SB)/4, $0x42b00000
DATA expc<>+336(SB)/4, $0x42b00000
DATA expc<>+340(SB)/4, $0x42b00000
DATA expc<>+344(SB)/4, $0x42b00000
DATA expc<>+348(SB)/4, $0x42b00000
DATA expc<>+352(SB)/4, $0x7f800000
DATA expc<>+356(SB)/4, $0x7f800000
DATA expc<>+360(SB)/4, $0x7f800000
DATA expc<>+364(SB)/4, $0x7f800000
DATA expc<>+368(SB)/4, $0x7f800000
DATA expc<>+372(SB)/4, $0x7f800000
DATA expc<>+376(SB)/4, $0x7f800000
DATA expc<>+380(SB)/4, $0x7f800000
DATA expc<>+384(SB)/4, $0x0000007f
DATA expc<>+388(SB)/4, $0x0000007f
DATA expc<>+392(SB)/4, $0x0000007f
DATA expc<>+396(SB)/4, $0x0000007f
DATA expc<>+400(SB)/4, $0x0000007f
DATA expc<>+404(SB)/4, $0x0000007f
DATA expc<>+408(SB)/4, $0x0000007f
DATA expc<>+412(SB)/4, $0x0000007f
GLOBL expc<>(SB), RODATA|NOPTR, $416

// EXP8 sets Y3 = exp(Y0) for the eight lanes of y = Y0, exactly as Expf32
// does one: n = round(y log2 e); r = y - n ln2 (in two parts); exp(r) by its
// degree-6 Taylor polynomial; times 2^n built in the exponent bits; y < -87
// gives 0 and y > 88 +Inf. Uses Y1, Y2, Y4, Y6, Y7; constants from expc.
#define EXP8 \
	VCMPPS $1, expc<>+288(SB), Y0, Y6; \
	VCMPPS $0x1e, expc<>+320(SB), Y0, Y7; \
	VMAXPS expc<>+288(SB), Y0, Y0; \
	VMINPS expc<>+320(SB), Y0, Y0; \
	VMULPS expc<>+0(SB), Y0, Y1; \
	VROUNDPS $0, Y1, Y1; \
	VMOVAPS Y0, Y2; \
	VFNMADD231PS expc<>+32(SB), Y1, Y2; \
	VFNMADD231PS expc<>+64(SB), Y1, Y2; \
	VMOVUPS expc<>+96(SB), Y3; \
	VFMADD213PS expc<>+128(SB), Y2, Y3; \
	VFMADD213PS expc<>+160(SB), Y2, Y3; \
	VFMADD213PS expc<>+192(SB), Y2, Y3; \
	VFMADD213PS expc<>+224(SB), Y2, Y3; \
	VFMADD213PS expc<>+256(SB), Y2, Y3; \
	VFMADD213PS expc<>+256(SB), Y2, Y3; \
	VCVTPS2DQ Y1, Y4; \
	VPADDD expc<>+384(SB), Y4, Y4; \
	VPSLLD $23, Y4, Y4; \
	VMULPS Y4, Y3, Y3; \
	VANDNPS Y3, Y6, Y3; \
	VBLENDVPS Y7, expc<>+352(SB), Y3, Y3

// EXPCONSTS16 loads EXP16's constants into Z16-Z28: log2(e), ln2 high and
// low, 1/720 .. 1/2, 1, -87, 88, +Inf and the exponent bias 127.
#define EXPCONSTS16 \
	VBROADCASTSS expc<>+0(SB), Z16; \
	VBROADCASTSS expc<>+32(SB), Z17; \
	VBROADCASTSS expc<>+64(SB), Z18; \
	VBROADCASTSS expc<>+96(SB), Z19; \
	VBROADCASTSS expc<>+128(SB), Z20; \
	VBROADCASTSS expc<>+160(SB), Z21; \
	VBROADCASTSS expc<>+192(SB), Z22; \
	VBROADCASTSS expc<>+224(SB), Z23; \
	VBROADCASTSS expc<>+256(SB), Z24; \
	VBROADCASTSS expc<>+288(SB), Z25; \
	VBROADCASTSS expc<>+320(SB), Z26; \
	VBROADCASTSS expc<>+352(SB), Z27; \
	VPBROADCASTD expc<>+384(SB), Z28

// func expScaledAVX2(dst, x []float32, c float32)
//
// dst[i] = exp(c*x[i]) for the first len(x) &^ 7 elements (the caller
// checks len(dst) >= len(x) and does the rest), eight at a time, exactly as
// Expf32 does one: y = c*x; n = round(y log2 e); r = y - n ln2 (in two
// parts); exp(r) by its degree-6 Taylor polynomial; times 2^n built in the
// exponent bits (EXP8). y < -87 gives 0 and y > 88 +Inf.
TEXT ·expScaledAVX2(SB), NOSPLIT, $0-52
	MOVQ dst_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), CX
	VBROADCASTSS c+48(FP), Y15
	SHRQ $3, CX
	JEQ done

loop:
	VMULPS (SI), Y15, Y0                       // y = c*x
	EXP8
	VMOVUPS Y3, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNE loop

done:
	VZEROUPPER
	RET

// EXP16 sets Z3 = exp(Z0) for the 16 lanes of y = Z0 exactly as the AVX2
// loop does eight, with the constants held in Z16-Z28 (see
// expScaledAVX512) and the range checks in K2 (y < -87) and K3 (y > 88).
#define EXP16 \
	VCMPPS $1, Z25, Z0, K2; \
	VCMPPS $0x1e, Z26, Z0, K3; \
	VMAXPS Z25, Z0, Z0; \
	VMINPS Z26, Z0, Z0; \
	VMULPS Z16, Z0, Z1; \
	VRNDSCALEPS $0, Z1, Z1; \
	VMOVAPS Z0, Z2; \
	VFNMADD231PS Z17, Z1, Z2; \
	VFNMADD231PS Z18, Z1, Z2; \
	VMOVAPS Z19, Z3; \
	VFMADD213PS Z20, Z2, Z3; \
	VFMADD213PS Z21, Z2, Z3; \
	VFMADD213PS Z22, Z2, Z3; \
	VFMADD213PS Z23, Z2, Z3; \
	VFMADD213PS Z24, Z2, Z3; \
	VFMADD213PS Z24, Z2, Z3; \
	VCVTPS2DQ Z1, Z4; \
	VPADDD Z28, Z4, Z4; \
	VPSLLD $23, Z4, Z4; \
	VMULPS Z4, Z3, Z3; \
	VPXORD Z3, Z3, K2, Z3; \
	VMOVAPS Z27, K3, Z3

// func expScaledAVX512(dst, x []float32, c float32)
//
// dst[i] = exp(c*x[i]) for all len(x) elements (the caller checks
// len(dst) >= len(x)), 16 at a time and the last partial vector through a
// K mask: the algorithm of expScaledAVX2 (and Expf32), bit for bit.
TEXT ·expScaledAVX512(SB), NOSPLIT, $0-52
	MOVQ dst_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), CX
	VBROADCASTSS c+48(FP), Z15
	EXPCONSTS16

loop16:
	CMPQ CX, $16
	JL tail16
	VMULPS (SI), Z15, Z0
	EXP16
	VMOVUPS Z3, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP loop16

tail16:
	TESTQ CX, CX
	JEQ done16
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VMULPS Z15, Z0, Z0
	EXP16
	VMOVUPS Z3, K1, (DI)

done16:
	VZEROUPPER
	RET

// func expShiftSumAVX512(dst, x []float32, m float32) float32
//
// dst[i] = exp(x[i] - m) for all len(x) elements (the caller checks
// len(dst) >= len(x)), 16 at a time with EXP16 and the tail through a K
// mask, and returns their sum (one 16-lane accumulator, summed pairwise at
// the end): a softmax row's exponentials and normaliser in one pass.
TEXT ·expShiftSumAVX512(SB), NOSPLIT, $0-60
	MOVQ dst_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), CX
	VBROADCASTSS m+48(FP), Z15
	EXPCONSTS16
	VPXORD Z14, Z14, Z14             // the sum

sloop16:
	CMPQ CX, $16
	JL stail16
	VMOVUPS (SI), Z0
	VSUBPS Z15, Z0, Z0
	EXP16
	VMOVUPS Z3, (DI)
	VADDPS Z3, Z14, Z14
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP sloop16

stail16:
	TESTQ CX, CX
	JEQ sreduce
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VSUBPS Z15, Z0, Z0
	EXP16
	VMOVUPS Z3, K1, (DI)
	VADDPS Z3, Z14, K1, Z14 // masked lanes keep the sum

sreduce:
	VEXTRACTF32X8 $1, Z14, Y1
	VADDPS Y1, Y14, Y0
	HREDUCE8(VADDPS, VADDSS)
	VMOVSS X0, ret+56(FP)
	VZEROUPPER
	RET

// func expShiftSumAVX2(dst, x []float32, m float32) float32
//
// dst[i] = exp(x[i] - m) for the first len(x) &^ 7 elements (the caller
// checks len(dst) >= len(x) and does the rest), eight at a time by the
// algorithm of expScaledAVX2, and returns their sum (one 8-lane
// accumulator, summed pairwise at the end).
TEXT ·expShiftSumAVX2(SB), NOSPLIT, $0-60
	MOVQ dst_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), CX
	VBROADCASTSS m+48(FP), Y15
	VXORPS Y14, Y14, Y14
	SHRQ $3, CX
	JEQ s2reduce

s2loop:
	VMOVUPS (SI), Y0
	VSUBPS Y15, Y0, Y0                         // y = x - m
	EXP8
	VMOVUPS Y3, (DI)
	VADDPS Y3, Y14, Y14
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNE s2loop

s2reduce:
	VMOVAPS Y14, Y0
	HREDUCE8(VADDPS, VADDSS)
	VMOVSS X0, ret+56(FP)
	VZEROUPPER
	RET

// func maxAVX512(x []float32) float32
//
// The largest of x's len(x) >= 1 elements: four 16-lane running maxima
// (VMAXPS), the tail merged through a K mask, then the lanes reduced.
TEXT ·maxAVX512(SB), NOSPLIT, $0-28
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	VBROADCASTSS (SI), Z0
	VMOVAPS Z0, Z1
	VMOVAPS Z0, Z2
	VMOVAPS Z0, Z3

mloop64:
	CMPQ CX, $64
	JL mloop16
	VMAXPS (SI), Z0, Z0
	VMAXPS 64(SI), Z1, Z1
	VMAXPS 128(SI), Z2, Z2
	VMAXPS 192(SI), Z3, Z3
	ADDQ $256, SI
	SUBQ $64, CX
	JMP mloop64

mloop16:
	CMPQ CX, $16
	JL mtail
	VMAXPS (SI), Z0, Z0
	ADDQ $64, SI
	SUBQ $16, CX
	JMP mloop16

mtail:
	TESTQ CX, CX
	JEQ mreduce
	TAILMASK
	VMOVUPS.Z (SI), K1, Z4
	VMAXPS Z4, Z1, K1, Z1 // masked lanes keep their maximum

mreduce:
	VMAXPS Z1, Z0, Z0
	VMAXPS Z3, Z2, Z2
	VMAXPS Z2, Z0, Z0
	HREDUCE16(VMAXPS, VMAXSS)
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func maxAVX2(x []float32) float32
//
// The largest of the first len(x) &^ 7 >= 8 elements of x (the caller does
// the rest): two 8-lane running maxima, then the lanes reduced.
TEXT ·maxAVX2(SB), NOSPLIT, $0-28
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	SHRQ $3, CX
	VMOVUPS (SI), Y0
	VMOVAPS Y0, Y1
	ADDQ $32, SI
	DECQ CX

m2loop16:
	CMPQ CX, $2
	JL m2loop8
	VMAXPS (SI), Y0, Y0
	VMAXPS 32(SI), Y1, Y1
	ADDQ $64, SI
	SUBQ $2, CX
	JMP m2loop16

m2loop8:
	TESTQ CX, CX
	JEQ m2reduce
	VMAXPS (SI), Y0, Y0

m2reduce:
	VMAXPS Y1, Y0, Y0
	HREDUCE8(VMAXPS, VMAXSS)
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func softmaxGradAVX512(d, p []float32, c float32)
//
// d[i] = p[i] * (d[i] - c) for all len(d) elements (the caller checks
// len(p) >= len(d)), 16 at a time, the tail through a K mask.
TEXT ·softmaxGradAVX512(SB), NOSPLIT, $0-52
	MOVQ d_base+0(FP), DI
	MOVQ d_len+8(FP), CX
	MOVQ p_base+24(FP), SI
	VBROADCASTSS c+48(FP), Z15

gloop16:
	CMPQ CX, $16
	JL gtail
	VMOVUPS (DI), Z0
	VSUBPS Z15, Z0, Z0
	VMULPS (SI), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP gloop16

gtail:
	TESTQ CX, CX
	JEQ gdone
	TAILMASK
	VMOVUPS.Z (DI), K1, Z0
	VMOVUPS.Z (SI), K1, Z1
	VSUBPS Z15, Z0, Z0
	VMULPS Z1, Z0, Z0
	VMOVUPS Z0, K1, (DI)

gdone:
	VZEROUPPER
	RET

// func softmaxGradAVX2(d, p []float32, c float32)
//
// d[i] = p[i] * (d[i] - c) for the first len(d) &^ 7 elements (the caller
// checks len(p) >= len(d) and does the rest), eight at a time.
TEXT ·softmaxGradAVX2(SB), NOSPLIT, $0-52
	MOVQ d_base+0(FP), DI
	MOVQ d_len+8(FP), CX
	MOVQ p_base+24(FP), SI
	VBROADCASTSS c+48(FP), Y15
	SHRQ $3, CX
	JEQ g2done

g2loop:
	VMOVUPS (DI), Y0
	VSUBPS Y15, Y0, Y0
	VMULPS (SI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNE g2loop

g2done:
	VZEROUPPER
	RET
