#include "textflag.h"

// Each loop takes 16 float32 per iteration; n is a positive multiple of 16.
// Float64 sums use two accumulators of 8 lanes, reduced at the end.

// HSUM reduces the 8 doubles of Z0 into the low lane of X0 (clobbers Z1).
#define HSUM \
	VEXTRACTF64X4 $1, Z0, Y1; \
	VADDPD        Y1, Y0, Y0; \
	VEXTRACTF128  $1, Y0, X1; \
	VADDPD        X1, X0, X0; \
	VPERMILPD     $1, X0, X1; \
	VADDSD        X1, X0, X0

// func sum16(x *float32, n int) float64
TEXT ·sum16(SB), NOSPLIT, $0-24
	MOVQ   x+0(FP), SI
	MOVQ   n+8(FP), CX
	SHRQ   $4, CX
	VXORPD Z0, Z0, Z0
	VXORPD Z2, Z2, Z2

sumloop:
	VCVTPS2PD (SI), Z4
	VCVTPS2PD 32(SI), Z5
	VADDPD    Z4, Z0, Z0
	VADDPD    Z5, Z2, Z2
	ADDQ      $64, SI
	DECQ      CX
	JNE       sumloop

	VADDPD Z2, Z0, Z0
	HSUM
	VMOVSD X0, ret+16(FP)
	VZEROUPPER
	RET

// func sumSqDev16(x *float32, n int, m float64) float64
TEXT ·sumSqDev16(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	SHRQ         $4, CX
	VBROADCASTSD m+16(FP), Z6
	VXORPD       Z0, Z0, Z0
	VXORPD       Z2, Z2, Z2

sqloop:
	VCVTPS2PD   (SI), Z4
	VCVTPS2PD   32(SI), Z5
	VSUBPD      Z6, Z4, Z4
	VSUBPD      Z6, Z5, Z5
	VFMADD231PD Z4, Z4, Z0
	VFMADD231PD Z5, Z5, Z2
	ADDQ        $64, SI
	DECQ        CX
	JNE         sqloop

	VADDPD Z2, Z0, Z0
	HSUM
	VMOVSD X0, ret+24(FP)
	VZEROUPPER
	RET

// func scaleShift16(dst, x *float32, n int, a, b float32, relu bool)
// dst = a*x + b, then max(0, dst) keeping NaN when relu is set.
TEXT ·scaleShift16(SB), NOSPLIT, $0-33
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX
	SHRQ         $4, CX
	VBROADCASTSS a+24(FP), Z1
	VBROADCASTSS b+28(FP), Z2
	VXORPS       Z0, Z0, Z0
	MOVBLZX      relu+32(FP), AX
	TESTQ        AX, AX
	JNE          ssrelu

ssloop:
	VMOVAPS     Z2, Z3
	VFMADD231PS (SI), Z1, Z3
	VMOVUPS     Z3, (DI)
	ADDQ        $64, SI
	ADDQ        $64, DI
	DECQ        CX
	JNE         ssloop
	VZEROUPPER
	RET

ssrelu:
	VMOVAPS     Z2, Z3
	VFMADD231PS (SI), Z1, Z3
	VMAXPS      Z3, Z0, Z3 // src2 (the value) is returned for NaN and ±0
	VMOVUPS     Z3, (DI)
	ADDQ        $64, SI
	ADDQ        $64, DI
	DECQ        CX
	JNE         ssrelu
	VZEROUPPER
	RET

// func gradSums16(x, gy, y *float32, n int, m float64) (sg, sgx float64)
// Σ g' and Σ g'·(x - m) with g' = g, or g zeroed where y <= 0 when y is not
// nil.
TEXT ·gradSums16(SB), NOSPLIT, $0-56
	MOVQ         x+0(FP), SI
	MOVQ         gy+8(FP), DI
	MOVQ         y+16(FP), DX
	MOVQ         n+24(FP), CX
	SHRQ         $4, CX
	VBROADCASTSD m+32(FP), Z6
	VXORPD       Z0, Z0, Z0
	VXORPD       Z2, Z2, Z2
	VXORPD       Z8, Z8, Z8
	VXORPD       Z9, Z9, Z9
	VXORPS       Z7, Z7, Z7
	KXNORW       K1, K1, K1 // no mask unless y is given

gsloop:
	TESTQ     DX, DX
	JE        gsload
	VMOVUPS   (DX), Z14
	VCMPPS    $0x1e, Z7, Z14, K1 // y > 0 (ordered, quiet)
	ADDQ      $64, DX

gsload:
	VMOVUPS.Z     (DI), K1, Z15
	VCVTPS2PD     Y15, Z10
	VEXTRACTF32X8 $1, Z15, Y11
	VCVTPS2PD     Y11, Z11
	VCVTPS2PD     (SI), Z12
	VCVTPS2PD     32(SI), Z13
	VSUBPD        Z6, Z12, Z12
	VSUBPD        Z6, Z13, Z13
	VADDPD        Z10, Z0, Z0
	VADDPD        Z11, Z2, Z2
	VFMADD231PD   Z12, Z10, Z8
	VFMADD231PD   Z13, Z11, Z9
	ADDQ          $64, SI
	ADDQ          $64, DI
	DECQ          CX
	JNE           gsloop

	VADDPD Z2, Z0, Z0
	HSUM
	VMOVSD X0, sg+40(FP)
	VADDPD Z9, Z8, Z0
	HSUM
	VMOVSD X0, sgx+48(FP)
	VZEROUPPER
	RET

// func inputGrad16(dst, x, gy, y *float32, n int, k *[3]float32)
// dst = k0*g' + k1*x + k2, g' as in gradSums16.
TEXT ·inputGrad16(SB), NOSPLIT, $0-48
	MOVQ         dst+0(FP), R8
	MOVQ         x+8(FP), SI
	MOVQ         gy+16(FP), DI
	MOVQ         y+24(FP), DX
	MOVQ         n+32(FP), CX
	SHRQ         $4, CX
	MOVQ         k+40(FP), AX
	VBROADCASTSS (AX), Z1
	VBROADCASTSS 4(AX), Z2
	VBROADCASTSS 8(AX), Z3
	VXORPS       Z7, Z7, Z7
	KXNORW       K1, K1, K1

igloop:
	TESTQ   DX, DX
	JE      igload
	VMOVUPS (DX), Z14
	VCMPPS  $0x1e, Z7, Z14, K1
	ADDQ    $64, DX

igload:
	VMOVUPS.Z   (DI), K1, Z15
	VMOVAPS     Z3, Z5
	VFMADD231PS (SI), Z2, Z5
	VFMADD231PS Z15, Z1, Z5
	VMOVUPS     Z5, (R8)
	ADDQ        $64, SI
	ADDQ        $64, DI
	ADDQ        $64, R8
	DECQ        CX
	JNE         igloop
	VZEROUPPER
	RET

// func add16(dst, a, b *float32, n int)
// dst = a + b.
TEXT ·add16(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $4, CX

addloop:
	VMOVUPS (SI), Z0
	VADDPS  (DX), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	DECQ    CX
	JNE     addloop
	VZEROUPPER
	RET

// SPLIT16 splits the count in BX into whole 16-float blocks (BX) and a
// tail (R12, below 16) whose lanes K1 selects; clobbers AX and CX.
#define SPLIT16 \
	MOVQ  BX, R12; \
	ANDQ  $15, R12; \
	SHRQ  $4, BX; \
	MOVQ  R12, CX; \
	MOVQ  $1, AX; \
	SHLQ  CX, AX; \
	DECQ  AX; \
	KMOVW AX, K1

// func addBlocks16(dst, src *float32, n int, dOffs, sOffs *int32, count int)
// For i < count: dst[dOffs[i]+t] += src[sOffs[i]+t], t < n (n > 0; the last
// n%16 with a mask).
TEXT ·addBlocks16(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), BX
	MOVQ dOffs+24(FP), R8
	MOVQ sOffs+32(FP), R9
	SPLIT16
	MOVQ count+40(FP), CX

blkloop:
	MOVLQSX (R8), R10
	MOVLQSX (R9), R11
	LEAQ    (DI)(R10*4), R10
	LEAQ    (SI)(R11*4), R11
	MOVQ    BX, DX
	TESTQ   DX, DX
	JE      blktail

blkinner:
	VMOVUPS (R10), Z0
	VADDPS  (R11), Z0, Z0
	VMOVUPS Z0, (R10)
	ADDQ    $64, R10
	ADDQ    $64, R11
	DECQ    DX
	JNE     blkinner

blktail:
	TESTQ     R12, R12
	JE        blknext
	VMOVUPS.Z (R10), K1, Z0
	VMOVUPS.Z (R11), K1, Z1
	VADDPS    Z1, Z0, Z0
	VMOVUPS   Z0, K1, (R10)

blknext:
	ADDQ $4, R8
	ADDQ $4, R9
	DECQ CX
	JNE  blkloop
	VZEROUPPER
	RET

// func copyRows16(dst *float32, ldd int, src *float32, lds, rows, n int)
// For r < rows: dst[r*ldd+t] = src[r*lds+t], t < n (rows, n > 0; the last
// n%16 of a row with a mask).
TEXT ·copyRows16(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R8
	SHLQ $2, R8
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), R9
	SHLQ $2, R9
	MOVQ n+40(FP), BX
	SPLIT16
	MOVQ rows+32(FP), CX

rowloop:
	XORQ  R10, R10
	MOVQ  BX, DX
	TESTQ DX, DX
	JE    rowtail

rowinner:
	VMOVUPS (SI)(R10*1), Z0
	VMOVUPS Z0, (DI)(R10*1)
	ADDQ    $64, R10
	DECQ    DX
	JNE     rowinner

rowtail:
	TESTQ     R12, R12
	JE        rownext
	VMOVUPS.Z (SI)(R10*1), K1, Z0
	VMOVUPS   Z0, K1, (DI)(R10*1)

rownext:
	ADDQ R8, DI
	ADDQ R9, SI
	DECQ CX
	JNE  rowloop
	VZEROUPPER
	RET

// laneIdx holds 0..15: interleave16 derives its permutations from it.
DATA laneIdx<>+0(SB)/4, $0
DATA laneIdx<>+4(SB)/4, $1
DATA laneIdx<>+8(SB)/4, $2
DATA laneIdx<>+12(SB)/4, $3
DATA laneIdx<>+16(SB)/4, $4
DATA laneIdx<>+20(SB)/4, $5
DATA laneIdx<>+24(SB)/4, $6
DATA laneIdx<>+28(SB)/4, $7
DATA laneIdx<>+32(SB)/4, $8
DATA laneIdx<>+36(SB)/4, $9
DATA laneIdx<>+40(SB)/4, $10
DATA laneIdx<>+44(SB)/4, $11
DATA laneIdx<>+48(SB)/4, $12
DATA laneIdx<>+52(SB)/4, $13
DATA laneIdx<>+56(SB)/4, $14
DATA laneIdx<>+60(SB)/4, $15
GLOBL laneIdx<>(SB), RODATA, $64

// PERM2(ia, ib) permutes the lanes of Z0 and Z1 (16..31) by ia into Z2
// and by ib into Z0.
#define PERM2(ia, ib) \
	VMOVAPS   Z0, Z2; \
	VPERMT2PS Z1, ia, Z2; \
	VPERMT2PS Z1, ib, Z0

// func interleave16(even *float32, lde int, odd *float32, ldo int, row *float32, ldr, rows, pairs int, join bool)
// For r < rows, t < pairs: row r's elements 2t and 2t+1 are even[r*lde+t]
// and odd[r*ldo+t]; join writes row, otherwise even and odd. 16 pairs per
// step, the last pairs%16 with masks (rows, pairs > 0).
TEXT ·interleave16(SB), NOSPLIT, $0-65
	MOVQ    even+0(FP), DI
	MOVQ    lde+8(FP), R8
	SHLQ    $2, R8
	MOVQ    odd+16(FP), SI
	MOVQ    ldo+24(FP), R9
	SHLQ    $2, R9
	MOVQ    row+32(FP), DX
	MOVQ    ldr+40(FP), R10
	SHLQ    $2, R10
	MOVQ    pairs+56(FP), BX
	MOVBLZX join+64(FP), R15
	// Permutations over two registers (lanes 16..31 are the second):
	// Z28/Z29 pick lanes 0, 2, .. 30 / 1, 3, .. 31; Z30/Z31 interleave
	// lanes 0..7 / 8..15 of both (lane i from register i%2).
	VMOVUPS      laneIdx<>(SB), Z27
	VPADDD       Z27, Z27, Z28
	MOVL         $1, AX
	VPBROADCASTD AX, Z26
	VPADDD       Z26, Z28, Z29
	VPANDD       Z26, Z27, Z30
	VPSLLD       $4, Z30, Z30
	VPSRLD       $1, Z27, Z27
	VPORD        Z27, Z30, Z30
	MOVL         $8, AX
	VPBROADCASTD AX, Z26
	VPADDD       Z26, Z30, Z31

	// Tail masks: K1 for the pairs%16 halves, K2/K3 for the 2·(pairs%16)
	// row elements in the low/high register.
	SPLIT16
	MOVQ  R12, CX
	SHLQ  $1, CX // row elements in the tail, at most 30
	MOVQ  $1, AX
	SHLQ  CX, AX
	DECQ  AX // low 2·tail bits
	KMOVW AX, K2
	SHRQ  $16, AX
	KMOVW AX, K3
	MOVQ  rows+48(FP), CX

ilrow:
	XORQ R11, R11 // byte offset into even and odd
	XORQ R13, R13 // byte offset into the row
	MOVQ BX, R14
	TESTQ R14, R14
	JE   iltail

ilstep:
	TESTQ R15, R15
	JNE   iljoin
	VMOVUPS   (DX)(R13*1), Z0
	VMOVUPS   64(DX)(R13*1), Z1
	PERM2(Z28, Z29)
	VMOVUPS   Z2, (DI)(R11*1)
	VMOVUPS   Z0, (SI)(R11*1)
	JMP       ilnext

iljoin:
	VMOVUPS   (DI)(R11*1), Z0
	VMOVUPS   (SI)(R11*1), Z1
	PERM2(Z30, Z31)
	VMOVUPS   Z2, (DX)(R13*1)
	VMOVUPS   Z0, 64(DX)(R13*1)

ilnext:
	ADDQ $64, R11
	ADDQ $128, R13
	DECQ R14
	JNE  ilstep

iltail:
	TESTQ R12, R12
	JE    ilrownext
	TESTQ R15, R15
	JNE   iltailjoin
	VMOVUPS.Z (DX)(R13*1), K2, Z0
	VMOVUPS.Z 64(DX)(R13*1), K3, Z1
	PERM2(Z28, Z29)
	VMOVUPS   Z2, K1, (DI)(R11*1)
	VMOVUPS   Z0, K1, (SI)(R11*1)
	JMP       ilrownext

iltailjoin:
	VMOVUPS.Z (DI)(R11*1), K1, Z0
	VMOVUPS.Z (SI)(R11*1), K1, Z1
	PERM2(Z30, Z31)
	VMOVUPS   Z2, K2, (DX)(R13*1)
	VMOVUPS   Z0, K3, 64(DX)(R13*1)

ilrownext:
	ADDQ R8, DI
	ADDQ R9, SI
	ADDQ R10, DX
	DECQ CX
	JNE  ilrow
	VZEROUPPER
	RET

