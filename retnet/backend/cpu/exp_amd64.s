//go:build !purego

#include "textflag.h"

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

// func expScaledAVX2(dst, x []float32, c float32)
//
// dst[i] = exp(c*x[i]) for the first len(x) &^ 7 elements (the caller
// checks len(dst) >= len(x) and does the rest), eight at a time, exactly as
// Expf32 does one: y = c*x; n = round(y log2 e); r = y - n ln2 (in two
// parts); exp(r) by its degree-6 Taylor polynomial; times 2^n built in the
// exponent bits. y < -87 gives 0 and y > 88 +Inf.
TEXT ·expScaledAVX2(SB), NOSPLIT, $0-52
	MOVQ dst_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), CX
	VBROADCASTSS c+48(FP), Y15
	SHRQ $3, CX
	JEQ done

loop:
	VMULPS (SI), Y15, Y0                       // y = c*x
	VCMPPS $1, expc<>+288(SB), Y0, Y6       // y < -87
	VCMPPS $0x1e, expc<>+320(SB), Y0, Y7    // y > 88
	VMAXPS expc<>+288(SB), Y0, Y0
	VMINPS expc<>+320(SB), Y0, Y0
	VMULPS expc<>+0(SB), Y0, Y1
	VROUNDPS $0, Y1, Y1                        // n, to nearest
	VMOVAPS Y0, Y2
	VFNMADD231PS expc<>+32(SB), Y1, Y2  // r = y - n ln2hi
	VFNMADD231PS expc<>+64(SB), Y1, Y2  //     - n ln2lo
	VMOVUPS expc<>+96(SB), Y3
	VFMADD213PS expc<>+128(SB), Y2, Y3      // p = p r + c
	VFMADD213PS expc<>+160(SB), Y2, Y3
	VFMADD213PS expc<>+192(SB), Y2, Y3
	VFMADD213PS expc<>+224(SB), Y2, Y3
	VFMADD213PS expc<>+256(SB), Y2, Y3
	VFMADD213PS expc<>+256(SB), Y2, Y3
	VCVTPS2DQ Y1, Y4
	VPADDD expc<>+384(SB), Y4, Y4
	VPSLLD $23, Y4, Y4                         // 2^n
	VMULPS Y4, Y3, Y3
	VANDNPS Y3, Y6, Y3                         // 0 where y < -87
	VBLENDVPS Y7, expc<>+352(SB), Y3, Y3   // +Inf where y > 88
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
	VBROADCASTSS expc<>+0(SB), Z16   // log2(e)
	VBROADCASTSS expc<>+32(SB), Z17  // ln2 high
	VBROADCASTSS expc<>+64(SB), Z18  // ln2 low
	VBROADCASTSS expc<>+96(SB), Z19  // 1/720
	VBROADCASTSS expc<>+128(SB), Z20 // 1/120
	VBROADCASTSS expc<>+160(SB), Z21 // 1/24
	VBROADCASTSS expc<>+192(SB), Z22 // 1/6
	VBROADCASTSS expc<>+224(SB), Z23 // 1/2
	VBROADCASTSS expc<>+256(SB), Z24 // 1
	VBROADCASTSS expc<>+288(SB), Z25 // -87
	VBROADCASTSS expc<>+320(SB), Z26 // 88
	VBROADCASTSS expc<>+352(SB), Z27 // +Inf
	VPBROADCASTD expc<>+384(SB), Z28 // 127

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
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
	VMOVUPS.Z (SI), K1, Z0
	VMULPS Z15, Z0, Z0
	EXP16
	VMOVUPS Z3, K1, (DI)

done16:
	VZEROUPPER
	RET
