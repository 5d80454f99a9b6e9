// VDPBF16PS_Z, included by the assembly files that run AVX512_BF16 dot
// products (bf16_amd64.s, kernel512_amd64.s).

// VDPBF16PS_Z(s2, s1, d): Z(d) += pairwise dot of the bfloat16 pairs in
// Z(s1) and Z(s2): for each float32 lane l, d[l] += s1[2l]*s2[2l] +
// s1[2l+1]*s2[2l+1] (AVX512_BF16, EVEX.512.F3.0F38.W0 52 /r, register
// form). The Go assembler has no AVX512_BF16 mnemonics, so the macro
// writes the six bytes from the register numbers (0-31); checked against
// GNU as for the registers used here. Note the Go assembler binds & tighter
// than >>, hence every shift in parentheses.
#define VDPBF16PS_Z(s2, s1, d) \
	BYTE $0x62; \
	BYTE $(0x02 | ((1-(((d)>>3)&1))<<7) | ((1-(((s2)>>4)&1))<<6) | ((1-(((s2)>>3)&1))<<5) | ((1-(((d)>>4)&1))<<4)); \
	BYTE $(0x06 | ((15-((s1)&15))<<3)); \
	BYTE $(0x40 | ((1-(((s1)>>4)&1))<<3)); \
	BYTE $0x52; \
	BYTE $(0xC0 | (((d)&7)<<3) | ((s2)&7))
