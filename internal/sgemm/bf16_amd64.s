#include "textflag.h"

// ROUNDBF(x, t) writes into t the float32 bits in x rounded to bf16 in the
// upper half (roundBF16): x + 0x7fff + bit 16 of x, or x with the quiet bit
// set where x is a NaN. Constants: Z20 0x7fff, Z21 1, Z22 0x7fffffff, Z23
// 0x7f800000, Z24 0x00400000.
#define ROUNDBF(x, t) \
	VPANDD  Z22, x, t; \
	VPCMPUD $6, Z23, t, K1; \
	VPSRLD  $16, x, t; \
	VPANDD  Z21, t, t; \
	VPADDD  Z20, t, t; \
	VPADDD  x, t, t; \
	VPORD   Z24, x, K1, t

// func pairRows16(dst *uint32, src *float32, k int)
// pairRowsGo for rows of 16: pair row q (16 words at dst+64q) from rows 2q
// and 2q+1 (at src+128q), a zero row past k. dst may be src.
TEXT ·pairRows16(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ k+16(FP), CX
	MOVL $0x7fff, AX
	VPBROADCASTD AX, Z20
	MOVL $1, AX
	VPBROADCASTD AX, Z21
	MOVL $0x7fffffff, AX
	VPBROADCASTD AX, Z22
	MOVL $0x7f800000, AX
	VPBROADCASTD AX, Z23
	MOVL $0x00400000, AX
	VPBROADCASTD AX, Z24
	MOVL $0xffff0000, AX
	VPBROADCASTD AX, Z25

looppr:
	CMPQ CX, $2
	JLT  tailpr
	VMOVDQU32 (SI), Z0
	VMOVDQU32 64(SI), Z1
	ROUNDBF(Z0, Z2)
	ROUNDBF(Z1, Z3)
	VPSRLD    $16, Z2, Z2
	VPANDD    Z25, Z3, Z3
	VPORD     Z3, Z2, Z2
	VMOVDQU32 Z2, (DI)
	ADDQ      $128, SI
	ADDQ      $64, DI
	SUBQ      $2, CX
	JMP       looppr

tailpr:
	TESTQ     CX, CX
	JE        donepr
	VMOVDQU32 (SI), Z0
	ROUNDBF(Z0, Z2)
	VPSRLD    $16, Z2, Z2
	VMOVDQU32 Z2, (DI)

donepr:
	VZEROUPPER
	RET
