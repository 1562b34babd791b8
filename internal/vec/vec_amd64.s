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

// func addBlocks16(dst, src *float32, n int, dOffs, sOffs *int32, count int)
// For i < count: dst[dOffs[i]+t] += src[sOffs[i]+t], t < n (n > 0; the last
// n%16 with a mask).
TEXT ·addBlocks16(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), BX
	MOVQ dOffs+24(FP), R8
	MOVQ sOffs+32(FP), R9
	MOVQ BX, R12
	ANDQ $15, R12 // tail
	SHRQ $4, BX   // whole blocks
	MOVQ R12, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
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
	MOVQ BX, R12
	ANDQ $15, R12 // tail
	SHRQ $4, BX   // whole blocks
	MOVQ R12, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
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
