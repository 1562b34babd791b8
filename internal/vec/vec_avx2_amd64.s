#include "textflag.h"

// The norm loops on AVX2 with FMA, for CPUs without AVX-512: 16 float32
// per iteration in two 8-lane halves; n is a positive multiple of 16.
// Element-wise results round exactly as the AVX-512 loops do (the same
// operations in the same order); float64 sums use four accumulators of 4
// lanes, reduced at the end.

// HSUM4 adds Y0..Y3 and reduces the 4 doubles into the low lane of X0
// (clobbers Y1..Y3).
#define HSUM4 \
	VADDPD       Y1, Y0, Y0; \
	VADDPD       Y3, Y2, Y2; \
	VADDPD       Y2, Y0, Y0; \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPD       X1, X0, X0; \
	VPERMILPD    $1, X0, X1; \
	VADDSD       X1, X0, X0

// WIDEN converts the 8 floats of Y(src) into doubles in Y(lo), Y(hi)
// (clobbers X(src)).
#define WIDEN(src, xsrc, lo, hi) \
	VCVTPS2PD    xsrc, lo; \
	VEXTRACTF128 $1, src, xsrc; \
	VCVTPS2PD    xsrc, hi

// func sum8(x *float32, n int) float64
TEXT ·sum8(SB), NOSPLIT, $0-24
	MOVQ   x+0(FP), SI
	MOVQ   n+8(FP), CX
	SHRQ   $4, CX
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3

sumloop:
	VCVTPS2PD (SI), Y4
	VCVTPS2PD 16(SI), Y5
	VCVTPS2PD 32(SI), Y6
	VCVTPS2PD 48(SI), Y7
	VADDPD    Y4, Y0, Y0
	VADDPD    Y5, Y1, Y1
	VADDPD    Y6, Y2, Y2
	VADDPD    Y7, Y3, Y3
	ADDQ      $64, SI
	DECQ      CX
	JNE       sumloop

	HSUM4
	VMOVSD X0, ret+16(FP)
	VZEROUPPER
	RET

// func sumSqDev8(x *float32, n int, m float64) float64
TEXT ·sumSqDev8(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	SHRQ         $4, CX
	VBROADCASTSD m+16(FP), Y8
	VXORPD       Y0, Y0, Y0
	VXORPD       Y1, Y1, Y1
	VXORPD       Y2, Y2, Y2
	VXORPD       Y3, Y3, Y3

sqloop:
	VCVTPS2PD   (SI), Y4
	VCVTPS2PD   16(SI), Y5
	VCVTPS2PD   32(SI), Y6
	VCVTPS2PD   48(SI), Y7
	VSUBPD      Y8, Y4, Y4
	VSUBPD      Y8, Y5, Y5
	VSUBPD      Y8, Y6, Y6
	VSUBPD      Y8, Y7, Y7
	VFMADD231PD Y4, Y4, Y0
	VFMADD231PD Y5, Y5, Y1
	VFMADD231PD Y6, Y6, Y2
	VFMADD231PD Y7, Y7, Y3
	ADDQ        $64, SI
	DECQ        CX
	JNE         sqloop

	HSUM4
	VMOVSD X0, ret+24(FP)
	VZEROUPPER
	RET

// func scaleShift8(dst, x *float32, n int, a, b float32, relu bool)
// dst = a*x + b, then max(0, dst) keeping NaN when relu is set.
TEXT ·scaleShift8(SB), NOSPLIT, $0-33
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX
	SHRQ         $4, CX
	VBROADCASTSS a+24(FP), Y1
	VBROADCASTSS b+28(FP), Y2
	VXORPS       Y0, Y0, Y0
	MOVBLZX      relu+32(FP), AX
	TESTQ        AX, AX
	JNE          ssrelu

ssloop:
	VMOVAPS     Y2, Y3
	VMOVAPS     Y2, Y4
	VFMADD231PS (SI), Y1, Y3
	VFMADD231PS 32(SI), Y1, Y4
	VMOVUPS     Y3, (DI)
	VMOVUPS     Y4, 32(DI)
	ADDQ        $64, SI
	ADDQ        $64, DI
	DECQ        CX
	JNE         ssloop
	VZEROUPPER
	RET

ssrelu:
	VMOVAPS     Y2, Y3
	VMOVAPS     Y2, Y4
	VFMADD231PS (SI), Y1, Y3
	VFMADD231PS 32(SI), Y1, Y4
	VMAXPS      Y3, Y0, Y3 // src2 (the value) is returned for NaN and ±0
	VMAXPS      Y4, Y0, Y4
	VMOVUPS     Y3, (DI)
	VMOVUPS     Y4, 32(DI)
	ADDQ        $64, SI
	ADDQ        $64, DI
	DECQ        CX
	JNE         ssrelu
	VZEROUPPER
	RET

// GRADS loads 16 gradients from (DI) into Y12, Y13, zeroed where the mask
// (DX, when not nil) holds y <= 0 or NaN (predicate 0x11: 0 < y, ordered,
// quiet), and advances DX. Y7 must be zero.
#define GRADS(nomask, done) \
	TESTQ   DX, DX; \
	JE      nomask; \
	VCMPPS  $0x11, (DX), Y7, Y12; \
	VCMPPS  $0x11, 32(DX), Y7, Y13; \
	VANDPS  (DI), Y12, Y12; \
	VANDPS  32(DI), Y13, Y13; \
	ADDQ    $64, DX; \
	JMP     done; \
nomask:; \
	VMOVUPS (DI), Y12; \
	VMOVUPS 32(DI), Y13; \
done:

// func gradSums8(x, gy, y *float32, n int, m float64) (sg, sgx float64)
// Σ g' and Σ g'·(x - m) with g' = g, or g zeroed where y <= 0 when y is not
// nil.
TEXT ·gradSums8(SB), NOSPLIT, $0-56
	MOVQ         x+0(FP), SI
	MOVQ         gy+8(FP), DI
	MOVQ         y+16(FP), DX
	MOVQ         n+24(FP), CX
	SHRQ         $4, CX
	VBROADCASTSD m+32(FP), Y6
	VXORPD       Y0, Y0, Y0 // Σ g', two accumulators
	VXORPD       Y1, Y1, Y1
	VXORPD       Y2, Y2, Y2 // Σ g'·(x - m), two accumulators
	VXORPD       Y3, Y3, Y3
	VXORPS       Y7, Y7, Y7

gsloop:
	GRADS(gsnomask, gsgrads)
	WIDEN(Y12, X12, Y8, Y9)
	WIDEN(Y13, X13, Y10, Y11)
	VADDPD      Y8, Y0, Y0
	VADDPD      Y9, Y1, Y1
	VADDPD      Y10, Y0, Y0
	VADDPD      Y11, Y1, Y1
	VCVTPS2PD   (SI), Y4
	VCVTPS2PD   16(SI), Y5
	VCVTPS2PD   32(SI), Y12
	VCVTPS2PD   48(SI), Y13
	VSUBPD      Y6, Y4, Y4
	VSUBPD      Y6, Y5, Y5
	VSUBPD      Y6, Y12, Y12
	VSUBPD      Y6, Y13, Y13
	VFMADD231PD Y4, Y8, Y2
	VFMADD231PD Y5, Y9, Y3
	VFMADD231PD Y12, Y10, Y2
	VFMADD231PD Y13, Y11, Y3
	ADDQ        $64, SI
	ADDQ        $64, DI
	DECQ        CX
	JNE         gsloop

	VADDPD Y1, Y0, Y0
	VADDPD Y3, Y2, Y2
	VEXTRACTF128 $1, Y0, X1
	VADDPD       X1, X0, X0
	VPERMILPD    $1, X0, X1
	VADDSD       X1, X0, X0
	VMOVSD       X0, sg+40(FP)
	VEXTRACTF128 $1, Y2, X1
	VADDPD       X1, X2, X2
	VPERMILPD    $1, X2, X1
	VADDSD       X1, X2, X2
	VMOVSD       X2, sgx+48(FP)
	VZEROUPPER
	RET

// func inputGrad8(dst, x, gy, y *float32, n int, k *[3]float32)
// dst = k0*g' + k1*x + k2, g' as in gradSums8.
TEXT ·inputGrad8(SB), NOSPLIT, $0-48
	MOVQ         dst+0(FP), R8
	MOVQ         x+8(FP), SI
	MOVQ         gy+16(FP), DI
	MOVQ         y+24(FP), DX
	MOVQ         n+32(FP), CX
	SHRQ         $4, CX
	MOVQ         k+40(FP), AX
	VBROADCASTSS (AX), Y1
	VBROADCASTSS 4(AX), Y2
	VBROADCASTSS 8(AX), Y3
	VXORPS       Y7, Y7, Y7

igloop:
	GRADS(ignomask, iggrads)
	VMOVAPS     Y3, Y4
	VMOVAPS     Y3, Y5
	VFMADD231PS (SI), Y2, Y4
	VFMADD231PS 32(SI), Y2, Y5
	VFMADD231PS Y12, Y1, Y4
	VFMADD231PS Y13, Y1, Y5
	VMOVUPS     Y4, (R8)
	VMOVUPS     Y5, 32(R8)
	ADDQ        $64, SI
	ADDQ        $64, DI
	ADDQ        $64, R8
	DECQ        CX
	JNE         igloop
	VZEROUPPER
	RET

// func add8(dst, a, b *float32, n int)
// dst = a + b.
TEXT ·add8(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $4, CX

addloop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VADDPS  (DX), Y0, Y0
	VADDPS  32(DX), Y1, Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	DECQ    CX
	JNE     addloop
	VZEROUPPER
	RET

// func addBlocks8(dst, src *float32, n int, dOffs, sOffs *int32, count int)
// For i < count, in order: dst[dOffs[i]+t] += src[sOffs[i]+t], t < n (n > 0;
// 8 floats per step, the last n%8 one by one).
TEXT ·addBlocks8(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), BX
	MOVQ BX, R12
	ANDQ $7, R12
	SHRQ $3, BX
	MOVQ dOffs+24(FP), R8
	MOVQ sOffs+32(FP), R9
	MOVQ count+40(FP), CX

ablk:
	MOVLQSX (R8), R10
	MOVLQSX (R9), R11
	LEAQ    (DI)(R10*4), R10
	LEAQ    (SI)(R11*4), R11
	MOVQ    BX, DX
	TESTQ   DX, DX
	JE      atail

ainner:
	VMOVUPS (R10), Y0
	VADDPS  (R11), Y0, Y0
	VMOVUPS Y0, (R10)
	ADDQ    $32, R10
	ADDQ    $32, R11
	DECQ    DX
	JNE     ainner

atail:
	MOVQ  R12, DX
	TESTQ DX, DX
	JE    anext

aone:
	VMOVSS (R10), X0
	VADDSS (R11), X0, X0
	VMOVSS X0, (R10)
	ADDQ   $4, R10
	ADDQ   $4, R11
	DECQ   DX
	JNE    aone

anext:
	ADDQ $4, R8
	ADDQ $4, R9
	DECQ CX
	JNE  ablk
	VZEROUPPER
	RET

// func copyRows8(dst *float32, ldd int, src *float32, lds, rows, n int)
// For r < rows: dst[r*ldd+t] = src[r*lds+t], t < n (rows, n > 0; 8 floats
// per step, the last n%8 one by one).
TEXT ·copyRows8(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R8
	SHLQ $2, R8
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), R9
	SHLQ $2, R9
	MOVQ rows+32(FP), CX
	MOVQ n+40(FP), BX
	MOVQ BX, R12
	ANDQ $7, R12
	SHRQ $3, BX

crow:
	XORQ  R10, R10
	MOVQ  BX, DX
	TESTQ DX, DX
	JE    ctail

cinner:
	VMOVUPS (SI)(R10*1), Y0
	VMOVUPS Y0, (DI)(R10*1)
	ADDQ    $32, R10
	DECQ    DX
	JNE     cinner

ctail:
	MOVQ  R12, DX
	TESTQ DX, DX
	JE    cnext

cone:
	MOVL (SI)(R10*1), AX
	MOVL AX, (DI)(R10*1)
	ADDQ $4, R10
	DECQ DX
	JNE  cone

cnext:
	ADDQ R8, DI
	ADDQ R9, SI
	DECQ CX
	JNE  crow
	VZEROUPPER
	RET

// func interleave8(even *float32, lde int, odd *float32, ldo int, row *float32, ldr, rows, pairs int, join bool)
// interleave16's contract: 8 pairs per step (shuffles within 128-bit lanes,
// then a permutation of 64-bit chunks or of the lanes), the last pairs%8
// one by one (rows, pairs > 0).
TEXT ·interleave8(SB), NOSPLIT, $0-65
	MOVQ    even+0(FP), DI
	MOVQ    lde+8(FP), R8
	SHLQ    $2, R8
	MOVQ    odd+16(FP), SI
	MOVQ    ldo+24(FP), R9
	SHLQ    $2, R9
	MOVQ    row+32(FP), DX
	MOVQ    ldr+40(FP), R10
	SHLQ    $2, R10
	MOVQ    rows+48(FP), CX
	MOVQ    pairs+56(FP), BX
	MOVQ    BX, R12
	ANDQ    $7, R12
	SHRQ    $3, BX
	MOVBLZX join+64(FP), R15

irow:
	XORQ  R11, R11 // byte offset into even and odd
	XORQ  R13, R13 // byte offset into the row
	MOVQ  BX, R14
	TESTQ R14, R14
	JE    itail

istep:
	TESTQ R15, R15
	JNE   ijoin
	VMOVUPS (DX)(R13*1), Y0
	VMOVUPS 32(DX)(R13*1), Y1
	VSHUFPS $0x88, Y1, Y0, Y2 // per lane: x0 x2 x8 x10 | x4 x6 x12 x14
	VSHUFPS $0xdd, Y1, Y0, Y3 // x1 x3 x9 x11 | x5 x7 x13 x15
	VPERMPD $0xd8, Y2, Y2     // 64-bit chunks 0 2 1 3
	VPERMPD $0xd8, Y3, Y3
	VMOVUPS Y2, (DI)(R11*1)
	VMOVUPS Y3, (SI)(R11*1)
	JMP     inext

ijoin:
	VMOVUPS    (DI)(R11*1), Y0
	VMOVUPS    (SI)(R11*1), Y1
	VUNPCKLPS  Y1, Y0, Y2     // e0 o0 e1 o1 | e4 o4 e5 o5
	VUNPCKHPS  Y1, Y0, Y3     // e2 o2 e3 o3 | e6 o6 e7 o7
	VPERM2F128 $0x20, Y3, Y2, Y4
	VPERM2F128 $0x31, Y3, Y2, Y5
	VMOVUPS    Y4, (DX)(R13*1)
	VMOVUPS    Y5, 32(DX)(R13*1)

inext:
	ADDQ $32, R11
	ADDQ $64, R13
	DECQ R14
	JNE  istep

itail:
	MOVQ  R12, R14
	TESTQ R14, R14
	JE    irownext

ione:
	TESTQ R15, R15
	JNE   ionejoin
	MOVL  (DX)(R13*1), AX
	MOVL  AX, (DI)(R11*1)
	MOVL  4(DX)(R13*1), AX
	MOVL  AX, (SI)(R11*1)
	JMP   ionenext

ionejoin:
	MOVL (DI)(R11*1), AX
	MOVL AX, (DX)(R13*1)
	MOVL (SI)(R11*1), AX
	MOVL AX, 4(DX)(R13*1)

ionenext:
	ADDQ $4, R11
	ADDQ $8, R13
	DECQ R14
	JNE  ione

irownext:
	ADDQ R8, DI
	ADDQ R9, SI
	ADDQ R10, DX
	DECQ CX
	JNE  irow
	VZEROUPPER
	RET
