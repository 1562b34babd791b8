#include "textflag.h"

// FMAROW6(a) adds the A block in register a times the six B blocks in
// Z24..Z29 into six accumulators.
#define FMAROW6(a, c0, c1, c2, c3, c4, c5) \
	VFMADD231PS Z24, a, c0; \
	VFMADD231PS Z25, a, c1; \
	VFMADD231PS Z26, a, c2; \
	VFMADD231PS Z27, a, c3; \
	VFMADD231PS Z28, a, c4; \
	VFMADD231PS Z29, a, c5

// SUM16(z, y, off) stores the sum of the 16 lanes of z (y: its low half)
// at off(DI); Z30/Z31 are scratch.
#define SUM16(z, y, off) \
	VEXTRACTF64X4 $1, z, Y31; \
	VADDPS        y, Y31, Y31; \
	VEXTRACTF32X4 $1, Y31, X30; \
	VADDPS        X30, X31, X31; \
	VPERMILPS     $0x4e, X31, X30; \
	VADDPS        X30, X31, X31; \
	VPERMILPS     $0xb1, X31, X30; \
	VADDPS        X30, X31, X31; \
	VMOVSS        X31, off(DI)

// func dot4x6(n int, a *float32, lda int, aoff *int32, b *float32, boff *int32, rows *int32, c *float32)
// c[6i+j] = Σ_t dot(a[aoff[t]+i*lda:][:16], b[boff[t]+rows[j]:][:16]),
// i < 4, j < 6, t < n (n > 0).
TEXT ·dot4x6(SB), NOSPLIT, $0-64
	MOVQ n+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), DX
	SHLQ $2, DX
	MOVQ aoff+24(FP), R8
	MOVQ b+32(FP), BX
	MOVQ boff+40(FP), R9
	MOVQ rows+48(FP), AX

	// The six B row pointers: b + 4*rows[j].
	MOVLQSX 0(AX), R10
	LEAQ    (BX)(R10*4), R10
	MOVLQSX 4(AX), R11
	LEAQ    (BX)(R11*4), R11
	MOVLQSX 8(AX), R12
	LEAQ    (BX)(R12*4), R12
	MOVLQSX 12(AX), R13
	LEAQ    (BX)(R13*4), R13
	MOVLQSX 16(AX), R14
	LEAQ    (BX)(R14*4), R14
	MOVLQSX 20(AX), R15
	LEAQ    (BX)(R15*4), BX

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23

dotloop:
	MOVLQSX (R9), R15
	SHLQ    $2, R15
	VMOVUPS (R10)(R15*1), Z24
	VMOVUPS (R11)(R15*1), Z25
	VMOVUPS (R12)(R15*1), Z26
	VMOVUPS (R13)(R15*1), Z27
	VMOVUPS (R14)(R15*1), Z28
	VMOVUPS (BX)(R15*1), Z29
	MOVLQSX (R8), AX
	LEAQ    (SI)(AX*4), AX
	LEAQ    (AX)(DX*2), DI
	VMOVUPS (AX), Z30
	VMOVUPS (AX)(DX*1), Z31
	FMAROW6(Z30, Z0, Z1, Z2, Z3, Z4, Z5)
	FMAROW6(Z31, Z6, Z7, Z8, Z9, Z10, Z11)
	VMOVUPS (DI), Z30
	VMOVUPS (DI)(DX*1), Z31
	FMAROW6(Z30, Z12, Z13, Z14, Z15, Z16, Z17)
	FMAROW6(Z31, Z18, Z19, Z20, Z21, Z22, Z23)
	ADDQ    $4, R8
	ADDQ    $4, R9
	DECQ    CX
	JNE     dotloop

	MOVQ c+56(FP), DI
	SUM16(Z0, Y0, 0)
	SUM16(Z1, Y1, 4)
	SUM16(Z2, Y2, 8)
	SUM16(Z3, Y3, 12)
	SUM16(Z4, Y4, 16)
	SUM16(Z5, Y5, 20)
	SUM16(Z6, Y6, 24)
	SUM16(Z7, Y7, 28)
	SUM16(Z8, Y8, 32)
	SUM16(Z9, Y9, 36)
	SUM16(Z10, Y10, 40)
	SUM16(Z11, Y11, 44)
	SUM16(Z12, Y12, 48)
	SUM16(Z13, Y13, 52)
	SUM16(Z14, Y14, 56)
	SUM16(Z15, Y15, 60)
	SUM16(Z16, Y16, 64)
	SUM16(Z17, Y17, 68)
	SUM16(Z18, Y18, 72)
	SUM16(Z19, Y19, 76)
	SUM16(Z20, Y20, 80)
	SUM16(Z21, Y21, 84)
	SUM16(Z22, Y22, 88)
	SUM16(Z23, Y23, 92)
	VZEROUPPER
	RET
