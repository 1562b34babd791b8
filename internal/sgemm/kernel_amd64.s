#include "textflag.h"

// IND_ARGS loads the arguments of the in-place kernels (kernel6x16ind,
// kernel16x16ind, and kernel4x16ind and kernel2x16ind, which take one panel
// a call; the first two reload k and offs per panel): k in CX, A in SI,
// B in DI, offs in R9, C in DX, ldc in bytes in R8, segs in BX, dist in
// bytes in R12 and three times that in R13. It stands before every
// function, so vet reads its frame offsets as nobody's.
#define IND_ARGS \
	MOVQ k+0(FP), CX; \
	MOVQ a+8(FP), SI; \
	MOVQ b+16(FP), DI; \
	MOVQ offs+24(FP), R9; \
	MOVQ c+32(FP), DX; \
	MOVQ ldc+40(FP), R8; \
	SHLQ $2, R8; \
	MOVQ segs+48(FP), BX; \
	MOVQ dist+56(FP), R12; \
	SHLQ $2, R12; \
	LEAQ (R12)(R12*2), R13

// STOREROW6 adds one 16-float row of the 6x16 tile (two halves) into C at DX.
#define STOREROW6(lo, hi) \
	VADDPS  (DX), lo, lo; \
	VMOVUPS lo, (DX); \
	VADDPS  32(DX), hi, hi; \
	VMOVUPS hi, 32(DX)

// ZERO12 clears the 12 accumulators Y0..Y11 of the 6x16 tile.
#define ZERO12 \
	VXORPS Y0, Y0, Y0; \
	VXORPS Y1, Y1, Y1; \
	VXORPS Y2, Y2, Y2; \
	VXORPS Y3, Y3, Y3; \
	VXORPS Y4, Y4, Y4; \
	VXORPS Y5, Y5, Y5; \
	VXORPS Y6, Y6, Y6; \
	VXORPS Y7, Y7, Y7; \
	VXORPS Y8, Y8, Y8; \
	VXORPS Y9, Y9, Y9; \
	VXORPS Y10, Y10, Y10; \
	VXORPS Y11, Y11, Y11

// FMA6 adds the outer product of the 6 A values at SI (broadcast) and the
// B row in Y12 (columns 0..7), Y13 (8..15) into Y0..Y11.
#define FMA6 \
	VBROADCASTSS (SI), Y14; \
	VFMADD231PS  Y12, Y14, Y0; \
	VFMADD231PS  Y13, Y14, Y1; \
	VBROADCASTSS 4(SI), Y15; \
	VFMADD231PS  Y12, Y15, Y2; \
	VFMADD231PS  Y13, Y15, Y3; \
	VBROADCASTSS 8(SI), Y14; \
	VFMADD231PS  Y12, Y14, Y4; \
	VFMADD231PS  Y13, Y14, Y5; \
	VBROADCASTSS 12(SI), Y15; \
	VFMADD231PS  Y12, Y15, Y6; \
	VFMADD231PS  Y13, Y15, Y7; \
	VBROADCASTSS 16(SI), Y14; \
	VFMADD231PS  Y12, Y14, Y8; \
	VFMADD231PS  Y13, Y14, Y9; \
	VBROADCASTSS 20(SI), Y15; \
	VFMADD231PS  Y12, Y15, Y10; \
	VFMADD231PS  Y13, Y15, Y11

// STORE6 adds Y0..Y11 into the 6 rows of C at DX, R8 bytes apart.
#define STORE6 \
	STOREROW6(Y0, Y1); \
	ADDQ R8, DX; \
	STOREROW6(Y2, Y3); \
	ADDQ R8, DX; \
	STOREROW6(Y4, Y5); \
	ADDQ R8, DX; \
	STOREROW6(Y6, Y7); \
	ADDQ R8, DX; \
	STOREROW6(Y8, Y9); \
	ADDQ R8, DX; \
	STOREROW6(Y10, Y11)

// SETROW6 writes one 16-float row of a tile (two halves) into C at DX.
#define SETROW6(lo, hi) \
	VMOVUPS lo, (DX); \
	VMOVUPS hi, 32(DX)

// SET6 writes Y0..Y11 into the 6 rows of C at DX, R8 bytes apart (C's
// previous values are not read).
#define SET6 \
	SETROW6(Y0, Y1); \
	ADDQ R8, DX; \
	SETROW6(Y2, Y3); \
	ADDQ R8, DX; \
	SETROW6(Y4, Y5); \
	ADDQ R8, DX; \
	SETROW6(Y6, Y7); \
	ADDQ R8, DX; \
	SETROW6(Y8, Y9); \
	ADDQ R8, DX; \
	SETROW6(Y10, Y11)

// The AVX2 kernels add the tile into C, or write it over C when their last
// argument, set, is not 0 (the first depth block of a product that
// overwrites C, which then needs no clearing).

// func kernel6x16(k int, a, b, c *float32, ldc, set, panels int)
// C[6x16] (row stride ldc floats) += A (k x 6, packed) * B (k x 16, packed),
// for panels consecutive 6-row panels of A (k*6 floats apart) and C (6 rows
// apart) against the one B panel.
TEXT ·kernel6x16(SB), NOSPLIT, $0-56
	MOVQ a+8(FP), SI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	MOVQ panels+48(FP), R14

panel:
	MOVQ k+0(FP), CX
	MOVQ b+16(FP), DI
	ZERO12
	TESTQ CX, CX
	JE    store

loop:
	VMOVUPS (DI), Y12
	VMOVUPS 32(DI), Y13
	FMA6
	ADDQ    $24, SI
	ADDQ    $64, DI
	DECQ    CX
	JNE     loop

store:
	MOVQ  set+40(FP), AX
	TESTQ AX, AX
	JNE   storeset
	STORE6
	JMP   next

storeset:
	SET6

next:
	ADDQ R8, DX
	DECQ R14
	JNE  panel
	VZEROUPPER
	RET

// BROW sets R11 to the B row whose offset is at off(R9).
#define BROW(off) \
	MOVLQSX off(R9), R10; \
	LEAQ    (DI)(R10*4), R11

// LOADB1, LOADB2 and LOADB4 read the B row at R11 into lo, hi as 1 run of
// 16 floats, 2 runs of 8 (R12 bytes apart) or 4 runs of 4.
#define LOADB1(lo, hi) \
	VMOVUPS (R11), lo; \
	VMOVUPS 32(R11), hi

#define LOADB2(lo, hi) \
	VMOVUPS (R11), lo; \
	VMOVUPS (R11)(R12*1), hi

#define LOADB4(lo, hi, lox, hix) \
	VMOVUPS     (R11), lox; \
	VINSERTF128 $1, (R11)(R12*1), lo, lo; \
	VMOVUPS     (R11)(R12*2), hix; \
	VINSERTF128 $1, (R11)(R13*1), hi, hi

// STEPI(LOAD, FMA) is one depth step of an in-place kernel: the B row whose
// offset is at (R9) read by LOAD, FMA, then A (a 6-row panel, 24 bytes a
// step) and the offset table advanced.
#define STEPI(LOAD, FMA) \
	BROW(0); \
	LOAD; \
	FMA; \
	ADDQ $24, SI; \
	ADDQ $4, R9

// PAIRI(LOAD0, LOAD1) is two depth steps of kernel2x16ind: the rows at (R9)
// and 4(R9) read by LOAD0 into Y8, Y9 and LOAD1 into Y10, Y11, FMA2x2, then
// A, the offset table and the count (CX) advanced.
#define PAIRI(LOAD0, LOAD1) \
	BROW(0); \
	LOAD0; \
	BROW(4); \
	LOAD1; \
	FMA2x2; \
	ADDQ $48, SI; \
	ADDQ $8, R9; \
	SUBQ $2, CX

// func kernel6x16ind(k int, a, b *float32, offs *int32, c *float32, ldc, segs, dist, set, panels int)
// C[6x16] += A (k x 6, packed) * B, where row p of B is read in place at
// b + 4*offs[p]: 16 contiguous floats (segs 1), or segs runs of 16/segs
// floats dist floats apart (segs 2 or 4: output rows 8 or 4 wide); for
// panels consecutive 6-row panels of A and C, as kernel6x16.
TEXT ·kernel6x16ind(SB), NOSPLIT, $0-80
	IND_ARGS
	MOVQ panels+72(FP), R14

panel6i:
	MOVQ  k+0(FP), CX
	MOVQ  offs+24(FP), R9
	ZERO12
	TESTQ CX, CX
	JE    store6i
	CMPQ  BX, $2
	JEQ   loop6i2
	JGT   loop6i4

loop6i:
	STEPI(LOADB1(Y12, Y13), FMA6)
	DECQ CX
	JNE  loop6i
	JMP  store6i

loop6i2:
	STEPI(LOADB2(Y12, Y13), FMA6)
	DECQ CX
	JNE  loop6i2
	JMP  store6i

loop6i4:
	STEPI(LOADB4(Y12, Y13, X12, X13), FMA6)
	DECQ CX
	JNE  loop6i4

store6i:
	MOVQ  set+64(FP), AX
	TESTQ AX, AX
	JNE   store6iset
	STORE6
	JMP   next6i

store6iset:
	SET6

next6i:
	ADDQ R8, DX
	DECQ R14
	JNE  panel6i
	VZEROUPPER
	RET

// ZERO16 clears the 16 accumulators Z0..Z15.
#define ZERO16 \
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

// FMA16 adds the outer product of the 16 A values at SI (broadcast) and
// the B row in Z16 into Z0..Z15.
#define FMA16 \
	VFMADD231PS.BCST 0(SI), Z16, Z0; \
	VFMADD231PS.BCST 4(SI), Z16, Z1; \
	VFMADD231PS.BCST 8(SI), Z16, Z2; \
	VFMADD231PS.BCST 12(SI), Z16, Z3; \
	VFMADD231PS.BCST 16(SI), Z16, Z4; \
	VFMADD231PS.BCST 20(SI), Z16, Z5; \
	VFMADD231PS.BCST 24(SI), Z16, Z6; \
	VFMADD231PS.BCST 28(SI), Z16, Z7; \
	VFMADD231PS.BCST 32(SI), Z16, Z8; \
	VFMADD231PS.BCST 36(SI), Z16, Z9; \
	VFMADD231PS.BCST 40(SI), Z16, Z10; \
	VFMADD231PS.BCST 44(SI), Z16, Z11; \
	VFMADD231PS.BCST 48(SI), Z16, Z12; \
	VFMADD231PS.BCST 52(SI), Z16, Z13; \
	VFMADD231PS.BCST 56(SI), Z16, Z14; \
	VFMADD231PS.BCST 60(SI), Z16, Z15

// STORE16 adds Z0..Z15 into the 16 rows of C at DX, R8 bytes apart.
#define STORE16 \
	VADDPS (DX), Z0, Z0; \
	VMOVUPS Z0, (DX); \
	ADDQ R8, DX; \
	VADDPS (DX), Z1, Z1; \
	VMOVUPS Z1, (DX); \
	ADDQ R8, DX; \
	VADDPS (DX), Z2, Z2; \
	VMOVUPS Z2, (DX); \
	ADDQ R8, DX; \
	VADDPS (DX), Z3, Z3; \
	VMOVUPS Z3, (DX); \
	ADDQ R8, DX; \
	VADDPS (DX), Z4, Z4; \
	VMOVUPS Z4, (DX); \
	ADDQ R8, DX; \
	VADDPS (DX), Z5, Z5; \
	VMOVUPS Z5, (DX); \
	ADDQ R8, DX; \
	VADDPS (DX), Z6, Z6; \
	VMOVUPS Z6, (DX); \
	ADDQ R8, DX; \
	VADDPS (DX), Z7, Z7; \
	VMOVUPS Z7, (DX); \
	ADDQ R8, DX; \
	VADDPS (DX), Z8, Z8; \
	VMOVUPS Z8, (DX); \
	ADDQ R8, DX; \
	VADDPS (DX), Z9, Z9; \
	VMOVUPS Z9, (DX); \
	ADDQ R8, DX; \
	VADDPS (DX), Z10, Z10; \
	VMOVUPS Z10, (DX); \
	ADDQ R8, DX; \
	VADDPS (DX), Z11, Z11; \
	VMOVUPS Z11, (DX); \
	ADDQ R8, DX; \
	VADDPS (DX), Z12, Z12; \
	VMOVUPS Z12, (DX); \
	ADDQ R8, DX; \
	VADDPS (DX), Z13, Z13; \
	VMOVUPS Z13, (DX); \
	ADDQ R8, DX; \
	VADDPS (DX), Z14, Z14; \
	VMOVUPS Z14, (DX); \
	ADDQ R8, DX; \
	VADDPS (DX), Z15, Z15; \
	VMOVUPS Z15, (DX)

// SET16 writes Z0..Z15 into the 16 rows of C at DX, R8 bytes apart (C's
// previous values are not read).
#define SET16 \
	VMOVUPS Z0, (DX); \
	ADDQ R8, DX; \
	VMOVUPS Z1, (DX); \
	ADDQ R8, DX; \
	VMOVUPS Z2, (DX); \
	ADDQ R8, DX; \
	VMOVUPS Z3, (DX); \
	ADDQ R8, DX; \
	VMOVUPS Z4, (DX); \
	ADDQ R8, DX; \
	VMOVUPS Z5, (DX); \
	ADDQ R8, DX; \
	VMOVUPS Z6, (DX); \
	ADDQ R8, DX; \
	VMOVUPS Z7, (DX); \
	ADDQ R8, DX; \
	VMOVUPS Z8, (DX); \
	ADDQ R8, DX; \
	VMOVUPS Z9, (DX); \
	ADDQ R8, DX; \
	VMOVUPS Z10, (DX); \
	ADDQ R8, DX; \
	VMOVUPS Z11, (DX); \
	ADDQ R8, DX; \
	VMOVUPS Z12, (DX); \
	ADDQ R8, DX; \
	VMOVUPS Z13, (DX); \
	ADDQ R8, DX; \
	VMOVUPS Z14, (DX); \
	ADDQ R8, DX; \
	VMOVUPS Z15, (DX)

// Like the AVX2 kernels, the AVX-512 ones run panels consecutive 16-row
// panels of A (k*16 floats apart) and C (16 rows apart) against one B
// panel, and add the tile into C or, when set is not 0, write it over C.

// END16(set, store, setl, next, top) ends one 16-row panel: the tile added
// (written, when the argument at set is not 0) into C, C moved to the next
// panel's first row, and back to top while panels (R14) remain.
#define END16(set, store, setl, next, top) \
	MOVQ  set, AX; \
	TESTQ AX, AX; \
	JNE   setl; \
	STORE16; \
	JMP   next; \
setl: \
	SET16; \
next: \
	ADDQ R8, DX; \
	DECQ R14; \
	JNE  top

// func kernel16x16(k int, a, b, c *float32, ldc, set, panels int)
// C[16x16] (row stride ldc floats) += A (k x 16, packed) * B (k x 16, packed).
TEXT ·kernel16x16(SB), NOSPLIT, $0-56
	MOVQ a+8(FP), SI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	MOVQ panels+48(FP), R14

panel16:
	MOVQ  k+0(FP), CX
	MOVQ  b+16(FP), DI
	ZERO16
	TESTQ CX, CX
	JE    end16

loop16:
	VMOVUPS (DI), Z16
	FMA16
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNE  loop16

end16:
	END16(set+40(FP), store16, set16, next16, panel16)
	VZEROUPPER
	RET

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

// func kernelBF16x16(kp int, a, b, c *float32, ldc, set, panels int)
// C[16x16] (row stride ldc floats) += A · B over kp pair rows: A's pair
// row p is 16 words (one per row) at a+64p, B's 16 words (one per column)
// at b+64p.
TEXT ·kernelBF16x16(SB), NOSPLIT, $0-56
	MOVQ a+8(FP), SI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	MOVQ panels+48(FP), R14

panelbf:
	MOVQ  kp+0(FP), CX
	MOVQ  b+16(FP), DI
	ZERO16
	TESTQ CX, CX
	JE    endbf

loopbf:
	VMOVDQU32 (DI), Z16
	DP16
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNE  loopbf

endbf:
	END16(set+40(FP), storebf, setbf, nextbf, panelbf)
	VZEROUPPER
	RET

// func kernel16x16ind(k int, a, b *float32, offs *int32, c *float32, ldc, segs, dist, set, panels int)
// C[16x16] += A (k x 16, packed) * B, where row p of B is read in place at
// b + 4*offs[p]: 16 contiguous floats (segs 1), or segs runs of 16/segs
// floats dist floats apart (segs 2 or 4: output rows 8 or 4 wide).
TEXT ·kernel16x16ind(SB), NOSPLIT, $0-80
	IND_ARGS
	MOVQ panels+72(FP), R14

panel16i:
	MOVQ  k+0(FP), CX
	MOVQ  offs+24(FP), R9
	ZERO16
	TESTQ CX, CX
	JE    end16i
	CMPQ  BX, $2
	JEQ   loop16i2
	JGT   loop16i4

loop16i:
	MOVLQSX (R9), R10
	VMOVUPS (DI)(R10*4), Z16
	FMA16
	ADDQ $64, SI
	ADDQ $4, R9
	DECQ CX
	JNE  loop16i
	JMP  end16i

loop16i2:
	MOVLQSX      (R9), R10
	LEAQ         (DI)(R10*4), R11
	VMOVUPS      (R11), Y16
	VINSERTF32X8 $1, (R11)(R12*1), Z16, Z16
	FMA16
	ADDQ $64, SI
	ADDQ $4, R9
	DECQ CX
	JNE  loop16i2
	JMP  end16i

loop16i4:
	MOVLQSX      (R9), R10
	LEAQ         (DI)(R10*4), R11
	VMOVUPS      (R11), X16
	VINSERTF32X4 $1, (R11)(R12*1), Z16, Z16
	VINSERTF32X4 $2, (R11)(R12*2), Z16, Z16
	VINSERTF32X4 $3, (R11)(R13*1), Z16, Z16
	FMA16
	ADDQ $64, SI
	ADDQ $4, R9
	DECQ CX
	JNE  loop16i4

end16i:
	END16(set+64(FP), store16i, set16i, next16i, panel16i)
	VZEROUPPER
	RET

// func gather16(dst, src *float32, offs *int32, n int)
// For u < n: dst[16u + t] = src[u + offs[t]], t < 16 (one AVX-512 gather
// per 16 values).
TEXT ·gather16(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ offs+16(FP), R8
	MOVQ n+24(FP), CX
	VMOVDQU32 (R8), Z1
	TESTQ CX, CX
	JE    gdone

gloop:
	KXNORW K1, K1, K1
	VGATHERDPS (SI)(Z1*4), K1, Z0
	VMOVUPS Z0, (DI)
	ADDQ $4, SI
	ADDQ $64, DI
	DECQ CX
	JNE  gloop

gdone:
	VZEROUPPER
	RET

// func transpose16(dst, src *float32, offs *int32, blocks int)
// For u < 16*blocks: dst[16u + t] = src[u + offs[t]], t < 16: 16 rows of
// 16 floats are loaded and transposed in registers per block (the same
// result as gather16, from contiguous loads).
TEXT ·transpose16(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ offs+16(FP), R8
	MOVQ blocks+24(FP), CX
	TESTQ CX, CX
	JE    tdone

tloop:
	MOVLQSX 0(R8), AX
	VMOVUPS (SI)(AX*4), Z0
	MOVLQSX 4(R8), AX
	VMOVUPS (SI)(AX*4), Z1
	MOVLQSX 8(R8), AX
	VMOVUPS (SI)(AX*4), Z2
	MOVLQSX 12(R8), AX
	VMOVUPS (SI)(AX*4), Z3
	MOVLQSX 16(R8), AX
	VMOVUPS (SI)(AX*4), Z4
	MOVLQSX 20(R8), AX
	VMOVUPS (SI)(AX*4), Z5
	MOVLQSX 24(R8), AX
	VMOVUPS (SI)(AX*4), Z6
	MOVLQSX 28(R8), AX
	VMOVUPS (SI)(AX*4), Z7
	MOVLQSX 32(R8), AX
	VMOVUPS (SI)(AX*4), Z8
	MOVLQSX 36(R8), AX
	VMOVUPS (SI)(AX*4), Z9
	MOVLQSX 40(R8), AX
	VMOVUPS (SI)(AX*4), Z10
	MOVLQSX 44(R8), AX
	VMOVUPS (SI)(AX*4), Z11
	MOVLQSX 48(R8), AX
	VMOVUPS (SI)(AX*4), Z12
	MOVLQSX 52(R8), AX
	VMOVUPS (SI)(AX*4), Z13
	MOVLQSX 56(R8), AX
	VMOVUPS (SI)(AX*4), Z14
	MOVLQSX 60(R8), AX
	VMOVUPS (SI)(AX*4), Z15
	VUNPCKLPS Z1, Z0, Z16
	VUNPCKHPS Z1, Z0, Z17
	VUNPCKLPS Z3, Z2, Z18
	VUNPCKHPS Z3, Z2, Z19
	VUNPCKLPS Z5, Z4, Z20
	VUNPCKHPS Z5, Z4, Z21
	VUNPCKLPS Z7, Z6, Z22
	VUNPCKHPS Z7, Z6, Z23
	VUNPCKLPS Z9, Z8, Z24
	VUNPCKHPS Z9, Z8, Z25
	VUNPCKLPS Z11, Z10, Z26
	VUNPCKHPS Z11, Z10, Z27
	VUNPCKLPS Z13, Z12, Z28
	VUNPCKHPS Z13, Z12, Z29
	VUNPCKLPS Z15, Z14, Z30
	VUNPCKHPS Z15, Z14, Z31
	VUNPCKLPD Z18, Z16, Z0
	VUNPCKHPD Z18, Z16, Z1
	VUNPCKLPD Z19, Z17, Z2
	VUNPCKHPD Z19, Z17, Z3
	VUNPCKLPD Z22, Z20, Z4
	VUNPCKHPD Z22, Z20, Z5
	VUNPCKLPD Z23, Z21, Z6
	VUNPCKHPD Z23, Z21, Z7
	VUNPCKLPD Z26, Z24, Z8
	VUNPCKHPD Z26, Z24, Z9
	VUNPCKLPD Z27, Z25, Z10
	VUNPCKHPD Z27, Z25, Z11
	VUNPCKLPD Z30, Z28, Z12
	VUNPCKHPD Z30, Z28, Z13
	VUNPCKLPD Z31, Z29, Z14
	VUNPCKHPD Z31, Z29, Z15
	VSHUFF32X4 $0x88, Z4, Z0, Z16
	VSHUFF32X4 $0xdd, Z4, Z0, Z20
	VSHUFF32X4 $0x88, Z5, Z1, Z17
	VSHUFF32X4 $0xdd, Z5, Z1, Z21
	VSHUFF32X4 $0x88, Z6, Z2, Z18
	VSHUFF32X4 $0xdd, Z6, Z2, Z22
	VSHUFF32X4 $0x88, Z7, Z3, Z19
	VSHUFF32X4 $0xdd, Z7, Z3, Z23
	VSHUFF32X4 $0x88, Z12, Z8, Z24
	VSHUFF32X4 $0xdd, Z12, Z8, Z28
	VSHUFF32X4 $0x88, Z13, Z9, Z25
	VSHUFF32X4 $0xdd, Z13, Z9, Z29
	VSHUFF32X4 $0x88, Z14, Z10, Z26
	VSHUFF32X4 $0xdd, Z14, Z10, Z30
	VSHUFF32X4 $0x88, Z15, Z11, Z27
	VSHUFF32X4 $0xdd, Z15, Z11, Z31
	VSHUFF32X4 $0x88, Z24, Z16, Z0
	VSHUFF32X4 $0xdd, Z24, Z16, Z8
	VSHUFF32X4 $0x88, Z25, Z17, Z1
	VSHUFF32X4 $0xdd, Z25, Z17, Z9
	VSHUFF32X4 $0x88, Z26, Z18, Z2
	VSHUFF32X4 $0xdd, Z26, Z18, Z10
	VSHUFF32X4 $0x88, Z27, Z19, Z3
	VSHUFF32X4 $0xdd, Z27, Z19, Z11
	VSHUFF32X4 $0x88, Z28, Z20, Z4
	VSHUFF32X4 $0xdd, Z28, Z20, Z12
	VSHUFF32X4 $0x88, Z29, Z21, Z5
	VSHUFF32X4 $0xdd, Z29, Z21, Z13
	VSHUFF32X4 $0x88, Z30, Z22, Z6
	VSHUFF32X4 $0xdd, Z30, Z22, Z14
	VSHUFF32X4 $0x88, Z31, Z23, Z7
	VSHUFF32X4 $0xdd, Z31, Z23, Z15
	VMOVUPS Z0, 0(DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	VMOVUPS Z4, 256(DI)
	VMOVUPS Z5, 320(DI)
	VMOVUPS Z6, 384(DI)
	VMOVUPS Z7, 448(DI)
	VMOVUPS Z8, 512(DI)
	VMOVUPS Z9, 576(DI)
	VMOVUPS Z10, 640(DI)
	VMOVUPS Z11, 704(DI)
	VMOVUPS Z12, 768(DI)
	VMOVUPS Z13, 832(DI)
	VMOVUPS Z14, 896(DI)
	VMOVUPS Z15, 960(DI)
	ADDQ $64, SI
	ADDQ $1024, DI
	DECQ CX
	JNE  tloop

tdone:
	VZEROUPPER
	RET

// TRANSPOSE8 loads 8 rows of 8 floats (at SI plus the row offsets in
// floats at R8, 8 of them from byte offset off) and stores them transposed:
// column i of the block goes to 8 floats at DI + 64*i + half.
#define TRANSPOSE8(off, half) \
	MOVLQSX    (off+0)(R8), AX; \
	VMOVUPS    (SI)(AX*4), Y0; \
	MOVLQSX    (off+4)(R8), AX; \
	VMOVUPS    (SI)(AX*4), Y1; \
	MOVLQSX    (off+8)(R8), AX; \
	VMOVUPS    (SI)(AX*4), Y2; \
	MOVLQSX    (off+12)(R8), AX; \
	VMOVUPS    (SI)(AX*4), Y3; \
	MOVLQSX    (off+16)(R8), AX; \
	VMOVUPS    (SI)(AX*4), Y4; \
	MOVLQSX    (off+20)(R8), AX; \
	VMOVUPS    (SI)(AX*4), Y5; \
	MOVLQSX    (off+24)(R8), AX; \
	VMOVUPS    (SI)(AX*4), Y6; \
	MOVLQSX    (off+28)(R8), AX; \
	VMOVUPS    (SI)(AX*4), Y7; \
	VUNPCKLPS  Y1, Y0, Y8; \
	VUNPCKHPS  Y1, Y0, Y9; \
	VUNPCKLPS  Y3, Y2, Y10; \
	VUNPCKHPS  Y3, Y2, Y11; \
	VUNPCKLPS  Y5, Y4, Y12; \
	VUNPCKHPS  Y5, Y4, Y13; \
	VUNPCKLPS  Y7, Y6, Y14; \
	VUNPCKHPS  Y7, Y6, Y15; \
	VSHUFPS    $0x44, Y10, Y8, Y0; \
	VSHUFPS    $0xee, Y10, Y8, Y1; \
	VSHUFPS    $0x44, Y11, Y9, Y2; \
	VSHUFPS    $0xee, Y11, Y9, Y3; \
	VSHUFPS    $0x44, Y14, Y12, Y4; \
	VSHUFPS    $0xee, Y14, Y12, Y5; \
	VSHUFPS    $0x44, Y15, Y13, Y6; \
	VSHUFPS    $0xee, Y15, Y13, Y7; \
	VPERM2F128 $0x20, Y4, Y0, Y8; \
	VPERM2F128 $0x20, Y5, Y1, Y9; \
	VPERM2F128 $0x20, Y6, Y2, Y10; \
	VPERM2F128 $0x20, Y7, Y3, Y11; \
	VPERM2F128 $0x31, Y4, Y0, Y12; \
	VPERM2F128 $0x31, Y5, Y1, Y13; \
	VPERM2F128 $0x31, Y6, Y2, Y14; \
	VPERM2F128 $0x31, Y7, Y3, Y15; \
	VMOVUPS    Y8, (half+0)(DI); \
	VMOVUPS    Y9, (half+64)(DI); \
	VMOVUPS    Y10, (half+128)(DI); \
	VMOVUPS    Y11, (half+192)(DI); \
	VMOVUPS    Y12, (half+256)(DI); \
	VMOVUPS    Y13, (half+320)(DI); \
	VMOVUPS    Y14, (half+384)(DI); \
	VMOVUPS    Y15, (half+448)(DI)

// func transpose8(dst, src *float32, offs *int32, blocks int)
// For u < 8*blocks: dst[16u + t] = src[u + offs[t]], t < 16: per block of 8
// columns, two 8x8 transposes in AVX2 registers (rows 0..7, then 8..15).
TEXT ·transpose8(SB), NOSPLIT, $0-32
	MOVQ  dst+0(FP), DI
	MOVQ  src+8(FP), SI
	MOVQ  offs+16(FP), R8
	MOVQ  blocks+24(FP), CX
	TESTQ CX, CX
	JE    t8done

t8loop:
	TRANSPOSE8(0, 0)
	TRANSPOSE8(32, 32)
	ADDQ $32, SI
	ADDQ $512, DI
	DECQ CX
	JNE  t8loop

t8done:
	VZEROUPPER
	RET

// The edge kernels below compute the first 4 or 2 rows of a 6x16 tile:
// where a row count leaves 4 or 2 rows for the last 6-row panel (16 or 32
// channels), they skip the padding rows' multiplies and write straight into
// C. A is the 6-row packed panel (24 bytes a depth step), of which they read
// the first rows.

// FMA4 adds the outer product of the first 4 A values at SI and the B row in
// Y12, Y13 into Y0..Y7.
#define FMA4 \
	VBROADCASTSS (SI), Y14; \
	VFMADD231PS  Y12, Y14, Y0; \
	VFMADD231PS  Y13, Y14, Y1; \
	VBROADCASTSS 4(SI), Y15; \
	VFMADD231PS  Y12, Y15, Y2; \
	VFMADD231PS  Y13, Y15, Y3; \
	VBROADCASTSS 8(SI), Y14; \
	VFMADD231PS  Y12, Y14, Y4; \
	VFMADD231PS  Y13, Y14, Y5; \
	VBROADCASTSS 12(SI), Y15; \
	VFMADD231PS  Y12, Y15, Y6; \
	VFMADD231PS  Y13, Y15, Y7

// ZERO8 clears Y0..Y7.
#define ZERO8 \
	VXORPS Y0, Y0, Y0; \
	VXORPS Y1, Y1, Y1; \
	VXORPS Y2, Y2, Y2; \
	VXORPS Y3, Y3, Y3; \
	VXORPS Y4, Y4, Y4; \
	VXORPS Y5, Y5, Y5; \
	VXORPS Y6, Y6, Y6; \
	VXORPS Y7, Y7, Y7

// STORE4 adds Y0..Y7 into the 4 rows of C at DX, R8 bytes apart.
#define STORE4 \
	STOREROW6(Y0, Y1); \
	ADDQ R8, DX; \
	STOREROW6(Y2, Y3); \
	ADDQ R8, DX; \
	STOREROW6(Y4, Y5); \
	ADDQ R8, DX; \
	STOREROW6(Y6, Y7)

// FMA2x2 adds two depth steps for 2 rows: A values at SI, 4(SI) (step 0)
// and 24(SI), 28(SI) (step 1), B rows in Y8, Y9 (step 0) and Y10, Y11
// (step 1); step 0 into Y0..Y3, step 1 into Y4..Y7, so that eight
// independent sums hide the FMA latency.
#define FMA2x2 \
	VBROADCASTSS (SI), Y12; \
	VBROADCASTSS 4(SI), Y13; \
	VBROADCASTSS 24(SI), Y14; \
	VBROADCASTSS 28(SI), Y15; \
	VFMADD231PS  Y8, Y12, Y0; \
	VFMADD231PS  Y9, Y12, Y1; \
	VFMADD231PS  Y8, Y13, Y2; \
	VFMADD231PS  Y9, Y13, Y3; \
	VFMADD231PS  Y10, Y14, Y4; \
	VFMADD231PS  Y11, Y14, Y5; \
	VFMADD231PS  Y10, Y15, Y6; \
	VFMADD231PS  Y11, Y15, Y7

// FMA2 adds one depth step for 2 rows (A at SI, B in Y8, Y9) into Y0..Y3.
#define FMA2 \
	VBROADCASTSS (SI), Y12; \
	VBROADCASTSS 4(SI), Y13; \
	VFMADD231PS  Y8, Y12, Y0; \
	VFMADD231PS  Y9, Y12, Y1; \
	VFMADD231PS  Y8, Y13, Y2; \
	VFMADD231PS  Y9, Y13, Y3

// SET4 writes Y0..Y7 into the 4 rows of C at DX, R8 bytes apart.
#define SET4 \
	SETROW6(Y0, Y1); \
	ADDQ R8, DX; \
	SETROW6(Y2, Y3); \
	ADDQ R8, DX; \
	SETROW6(Y4, Y5); \
	ADDQ R8, DX; \
	SETROW6(Y6, Y7)

// FOLD2 adds the odd steps' sums Y4..Y7 into Y0..Y3.
#define FOLD2 \
	VADDPS Y4, Y0, Y0; \
	VADDPS Y5, Y1, Y1; \
	VADDPS Y6, Y2, Y2; \
	VADDPS Y7, Y3, Y3

// SET2 writes the 2 rows Y0..Y3 into C at DX, R8 bytes apart.
#define SET2 \
	SETROW6(Y0, Y1); \
	ADDQ R8, DX; \
	SETROW6(Y2, Y3)

// STORE2 adds the 2 rows Y0..Y3 into C at DX, R8 bytes apart.
#define STORE2 \
	STOREROW6(Y0, Y1); \
	ADDQ R8, DX; \
	STOREROW6(Y2, Y3)

// func kernel4x16(k int, a, b, c *float32, ldc, set int)
// C[4x16] += the first 4 rows of A (k x 6, packed) * B (k x 16, packed).
TEXT ·kernel4x16(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	ZERO8
	TESTQ CX, CX
	JE    store4

loop4:
	VMOVUPS (DI), Y12
	VMOVUPS 32(DI), Y13
	FMA4
	ADDQ    $24, SI
	ADDQ    $64, DI
	DECQ    CX
	JNE     loop4

store4:
	MOVQ  set+40(FP), AX
	TESTQ AX, AX
	JNE   store4set
	STORE4
	VZEROUPPER
	RET

store4set:
	SET4
	VZEROUPPER
	RET

// func kernel2x16(k int, a, b, c *float32, ldc, set int)
// C[2x16] += the first 2 rows of A (k x 6, packed) * B (k x 16, packed).
TEXT ·kernel2x16(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	ZERO8
	CMPQ CX, $2
	JLT  tail2

loop2:
	VMOVUPS (DI), Y8
	VMOVUPS 32(DI), Y9
	VMOVUPS 64(DI), Y10
	VMOVUPS 96(DI), Y11
	FMA2x2
	ADDQ    $48, SI
	ADDQ    $128, DI
	SUBQ    $2, CX
	CMPQ    CX, $2
	JGE     loop2

tail2:
	TESTQ   CX, CX
	JE      store2
	VMOVUPS (DI), Y8
	VMOVUPS 32(DI), Y9
	FMA2

store2:
	FOLD2
	MOVQ  set+40(FP), AX
	TESTQ AX, AX
	JNE   store2set
	STORE2
	VZEROUPPER
	RET

store2set:
	SET2
	VZEROUPPER
	RET

// func kernel4x16ind(k int, a, b *float32, offs *int32, c *float32, ldc, segs, dist, set int)
// kernel4x16 reading B in place as kernel6x16ind does.
TEXT ·kernel4x16ind(SB), NOSPLIT, $0-72
	IND_ARGS
	ZERO8
	TESTQ CX, CX
	JE    store4i
	CMPQ  BX, $2
	JEQ   loop4i2
	JGT   loop4i4

loop4i:
	STEPI(LOADB1(Y12, Y13), FMA4)
	DECQ CX
	JNE  loop4i
	JMP  store4i

loop4i2:
	STEPI(LOADB2(Y12, Y13), FMA4)
	DECQ CX
	JNE  loop4i2
	JMP  store4i

loop4i4:
	STEPI(LOADB4(Y12, Y13, X12, X13), FMA4)
	DECQ CX
	JNE  loop4i4

store4i:
	MOVQ  set+64(FP), AX
	TESTQ AX, AX
	JNE   store4iset
	STORE4
	VZEROUPPER
	RET

store4iset:
	SET4
	VZEROUPPER
	RET

// func kernel2x16ind(k int, a, b *float32, offs *int32, c *float32, ldc, segs, dist, set int)
// kernel2x16 reading B in place as kernel6x16ind does.
TEXT ·kernel2x16ind(SB), NOSPLIT, $0-72
	IND_ARGS
	ZERO8
	CMPQ BX, $2
	JEQ  pairs2i2
	JGT  pairs2i4

pairs2i:
	CMPQ CX, $2
	JLT  tail2i
	PAIRI(LOADB1(Y8, Y9), LOADB1(Y10, Y11))
	JMP  pairs2i

tail2i:
	TESTQ CX, CX
	JE    store2i
	STEPI(LOADB1(Y8, Y9), FMA2)
	JMP   store2i

pairs2i2:
	CMPQ CX, $2
	JLT  tail2i2
	PAIRI(LOADB2(Y8, Y9), LOADB2(Y10, Y11))
	JMP  pairs2i2

tail2i2:
	TESTQ CX, CX
	JE    store2i
	STEPI(LOADB2(Y8, Y9), FMA2)
	JMP   store2i

pairs2i4:
	CMPQ CX, $2
	JLT  tail2i4
	PAIRI(LOADB4(Y8, Y9, X8, X9), LOADB4(Y10, Y11, X10, X11))
	JMP  pairs2i4

tail2i4:
	TESTQ CX, CX
	JE    store2i
	STEPI(LOADB4(Y8, Y9, X8, X9), FMA2)

store2i:
	FOLD2
	MOVQ  set+64(FP), AX
	TESTQ AX, AX
	JNE   store2iset
	STORE2
	VZEROUPPER
	RET

store2iset:
	SET2
	VZEROUPPER
	RET
