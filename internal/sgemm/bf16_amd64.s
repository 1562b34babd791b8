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

// PAIRCONSTS loads ROUNDBF's constants into Z20..Z24 and the upper-half
// mask 0xffff0000 into Z25.
#define PAIRCONSTS \
	MOVL $0x7fff, AX; \
	VPBROADCASTD AX, Z20; \
	MOVL $1, AX; \
	VPBROADCASTD AX, Z21; \
	MOVL $0x7fffffff, AX; \
	VPBROADCASTD AX, Z22; \
	MOVL $0x7f800000, AX; \
	VPBROADCASTD AX, Z23; \
	MOVL $0x00400000, AX; \
	VPBROADCASTD AX, Z24; \
	MOVL $0xffff0000, AX; \
	VPBROADCASTD AX, Z25

// PAIRROW(lo, hi) rounds the rows in lo and hi to bf16 and writes their pair
// row (lo's bf16 in the low halves) at DI, advancing DI (constants:
// PAIRCONSTS).
#define PAIRROW(lo, hi) \
	ROUNDBF(lo, Z2); \
	ROUNDBF(hi, Z3); \
	VPSRLD    $16, Z2, Z2; \
	VPANDD    Z25, Z3, Z3; \
	VPORD     Z3, Z2, Z2; \
	VMOVDQU32 Z2, (DI); \
	ADDQ      $64, DI

// func pairRows16(dst *uint32, src *float32, k int)
// pairRowsGo for rows of 16: pair row q (16 words at dst+64q) from rows 2q
// and 2q+1 (at src+128q), a zero row past k. dst may be src.
TEXT ·pairRows16(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ k+16(FP), CX
	PAIRCONSTS

looppr:
	CMPQ CX, $2
	JLT  tailpr
	VMOVDQU32 (SI), Z0
	VMOVDQU32 64(SI), Z1
	PAIRROW(Z0, Z1)
	ADDQ      $128, SI
	SUBQ      $2, CX
	JMP       looppr

tailpr:
	TESTQ     CX, CX
	JE        donepr
	VMOVDQU32 (SI), Z0
	VPXORD    Z1, Z1, Z1
	PAIRROW(Z0, Z1)

donepr:
	VZEROUPPER
	RET

// LOADG1(z) loads into z the 16 floats of the row whose offset is next at
// R9 (advancing R9): at SI + 4*offset. LOADG2 (LOADG4) reads 2 (4) runs of
// 8 (4) floats, R12 bytes apart (R13 = 3*R12).
#define LOADG1(z) \
	MOVLQSX   (R9), R10; \
	VMOVDQU32 (SI)(R10*4), z; \
	ADDQ      $4, R9

#define LOADG2(z, y) \
	MOVLQSX      (R9), R10; \
	LEAQ         (SI)(R10*4), R11; \
	VMOVDQU32    (R11), y; \
	VINSERTI32X8 $1, (R11)(R12*1), z, z; \
	ADDQ         $4, R9

#define LOADG4(z, x) \
	MOVLQSX      (R9), R10; \
	LEAQ         (SI)(R10*4), R11; \
	VMOVDQU32    (R11), x; \
	VINSERTI32X4 $1, (R11)(R12*1), z, z; \
	VINSERTI32X4 $2, (R11)(R12*2), z, z; \
	VINSERTI32X4 $3, (R11)(R13*1), z, z; \
	ADDQ         $4, R9

// func pairGather16(dst *uint32, src *float32, offs *int32, k, segs, dist int)
// pairRows16 of the k rows of 16 floats read in place at src + 4*offs[p]
// (segs 1), or as segs runs of 16/segs floats dist floats apart (segs 2 or
// 4); a zero row past k.
TEXT ·pairGather16(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ offs+16(FP), R9
	MOVQ k+24(FP), CX
	MOVQ segs+32(FP), BX
	MOVQ dist+40(FP), R12
	SHLQ $2, R12
	LEAQ (R12)(R12*2), R13
	PAIRCONSTS
	CMPQ BX, $2
	JEQ  pg2
	JGT  pg4

pg1:
	CMPQ CX, $2
	JLT  pg1tail
	LOADG1(Z0)
	LOADG1(Z1)
	PAIRROW(Z0, Z1)
	SUBQ $2, CX
	JMP  pg1

pg1tail:
	TESTQ CX, CX
	JE    pgdone
	LOADG1(Z0)
	VPXORD Z1, Z1, Z1
	PAIRROW(Z0, Z1)
	JMP   pgdone

pg2:
	CMPQ CX, $2
	JLT  pg2tail
	LOADG2(Z0, Y0)
	LOADG2(Z1, Y1)
	PAIRROW(Z0, Z1)
	SUBQ $2, CX
	JMP  pg2

pg2tail:
	TESTQ CX, CX
	JE    pgdone
	LOADG2(Z0, Y0)
	VPXORD Z1, Z1, Z1
	PAIRROW(Z0, Z1)
	JMP   pgdone

pg4:
	CMPQ CX, $2
	JLT  pg4tail
	LOADG4(Z0, X0)
	LOADG4(Z1, X1)
	PAIRROW(Z0, Z1)
	SUBQ $2, CX
	JMP  pg4

pg4tail:
	TESTQ CX, CX
	JE    pgdone
	LOADG4(Z0, X0)
	VPXORD Z1, Z1, Z1
	PAIRROW(Z0, Z1)

pgdone:
	VZEROUPPER
	RET
