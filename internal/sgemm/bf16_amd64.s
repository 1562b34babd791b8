#include "textflag.h"

// DPBF16(p0, modrm, d) is VDPBF16PS d*4(SI){1to16}, Z16, Zi with i the
// register ModRM and p0 name (AVX512_BF16; the Go assembler has no
// mnemonic for it): EVEX.512.F3.0F38.W0 52 /r, the broadcast 32-bit word
// of A at SI+4i, the pair row of B in Z16, the accumulator Zi. Checked
// against GNU as's encoding of the same instructions.
#define DPBF16(p0, modrm, d) \
	BYTE $0x62; BYTE $p0; BYTE $0x7E; BYTE $0x50; BYTE $0x52; BYTE $modrm; BYTE $d

// DP16 adds the 16 rows' words of A at SI times the pair row in Z16 into
// Z0..Z15.
#define DP16 \
	DPBF16(0xF2, 0x46, 0x00); \
	DPBF16(0xF2, 0x4E, 0x01); \
	DPBF16(0xF2, 0x56, 0x02); \
	DPBF16(0xF2, 0x5E, 0x03); \
	DPBF16(0xF2, 0x66, 0x04); \
	DPBF16(0xF2, 0x6E, 0x05); \
	DPBF16(0xF2, 0x76, 0x06); \
	DPBF16(0xF2, 0x7E, 0x07); \
	DPBF16(0x72, 0x46, 0x08); \
	DPBF16(0x72, 0x4E, 0x09); \
	DPBF16(0x72, 0x56, 0x0A); \
	DPBF16(0x72, 0x5E, 0x0B); \
	DPBF16(0x72, 0x66, 0x0C); \
	DPBF16(0x72, 0x6E, 0x0D); \
	DPBF16(0x72, 0x76, 0x0E); \
	DPBF16(0x72, 0x7E, 0x0F)

#define ZEROBF \
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
	VPXORD Z15, Z15, Z15

#define ADDROW(z) \
	VADDPS  (DX), z, z; \
	VMOVUPS z, (DX); \
	ADDQ    R8, DX

// func kernelBF16x16(kp int, a, b, c *float32, ldc int)
// C[16x16] (row stride ldc floats) += A · B over kp pair rows: A's pair
// row p is 16 words (one per row) at a+64p, B's 16 words (one per column)
// at b+64p.
TEXT ·kernelBF16x16(SB), NOSPLIT, $0-40
	MOVQ kp+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	ZEROBF
	TESTQ CX, CX
	JE    storebf

loopbf:
	VMOVDQU32 (DI), Z16
	DP16
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNE  loopbf

storebf:
	ADDROW(Z0)
	ADDROW(Z1)
	ADDROW(Z2)
	ADDROW(Z3)
	ADDROW(Z4)
	ADDROW(Z5)
	ADDROW(Z6)
	ADDROW(Z7)
	ADDROW(Z8)
	ADDROW(Z9)
	ADDROW(Z10)
	ADDROW(Z11)
	ADDROW(Z12)
	ADDROW(Z13)
	ADDROW(Z14)
	ADDROW(Z15)
	VZEROUPPER
	RET

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
