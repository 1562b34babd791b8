package sgemm

import (
	"math"
	"unsafe"
)

// bfloat16 products. GemmBF16 rounds both operands to bfloat16 (the upper
// half of a float32: 8 exponent bits, 7 mantissa bits) and sums their
// products in float32, as AVX512_BF16's VDPBF16PS does: both operands are
// packed as pairs of depths (one 32-bit word holds a row's or a column's
// bf16 values at depths 2p and 2p+1, the even one in the low half), and
// each instruction adds, per lane, the odd depth's product and then the
// even one's, each sum rounded to float32 (nearest even), bf16 inputs
// below the normal range read as zero and float32 results below it
// flushed to zero. The products of two bf16 values are exact in float32,
// so those two roundings are the only ones. The portable kernel does the
// same in that order, so the two agree bit for bit (TestBF16KernelsAgree;
// measured on a Zen 4 over 3.2 million random lanes before relying on it).

// ToBF16 rounds f to bfloat16, to nearest with ties to even; a NaN stays a
// NaN (quieted), values past the largest bf16 round to ±Inf.
func ToBF16(f float32) uint16 {
	return uint16(roundBF16(math.Float32bits(f)) >> 16)
}

// FromBF16 is the float32 a bfloat16 stands for (exact).
func FromBF16(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// roundBF16 rounds the float32 bits b to bf16 in place of the upper half:
// the result's low 16 bits are the carry's garbage, its upper 16 the bf16.
// The assembly pairing (pairRows16) computes the same.
func roundBF16(b uint32) uint32 {
	if b&0x7fffffff > 0x7f800000 {
		return b | 0x00400000 // quiet NaN: rounding must not carry it into Inf
	}
	return b + 0x7fff + (b>>16)&1
}

// pairWord packs two float32 as one word of bf16 pairs: lo's bf16 in the
// low half, hi's in the high half.
func pairWord(lo, hi float32) uint32 {
	return roundBF16(math.Float32bits(hi))&0xffff0000 | roundBF16(math.Float32bits(lo))>>16
}

// pairRowsGo writes kp = ⌈k/2⌉ pair rows of width words from k rows of
// width floats in src (row p at src[p·width:]): pair row q holds rows 2q
// and 2q+1 (a zero row past k). dst may be src itself: pair row q is
// written only after rows 2q and 2q+1 are read, and lies before them.
func pairRowsGo(dst []uint32, src []float32, width, k int) {
	for q := 0; 2*q < k; q++ {
		lo := src[2*q*width : 2*q*width+width]
		var hi []float32
		if 2*q+1 < k {
			hi = src[(2*q+1)*width : (2*q+1)*width+width]
		}
		out := dst[q*width : q*width+width]
		for j := range out {
			h := float32(0)
			if hi != nil {
				h = hi[j]
			}
			out[j] = pairWord(lo[j], h)
		}
	}
}

// PairRows pairs the k rows of one packed 16-column panel in place:
// panel's first ⌈k/2⌉·16 floats become the words of its pair rows
// (pairRowsGo), what the bf16 kernel reads.
func PairRows(panel []float32, k int) {
	if k > 0 {
		pairRows(words(panel), panel[:k*nr], nr, k)
	}
}

// Offsets is a table of row offsets (offs[p]: where row p starts) with
// its range, made once for the many PairGather calls that read it.
type Offsets struct {
	offs   []int32
	lo, hi int32
}

// NewOffsets returns offs with its range.
func NewOffsets(offs []int32) Offsets {
	o := Offsets{offs: offs}
	if len(offs) > 0 {
		o.lo, o.hi = offs[0], offs[0]
	}
	for _, v := range offs {
		o.lo, o.hi = min(o.lo, v), max(o.hi, v)
	}
	return o
}

// PairGather writes into dst, as words of bf16 pairs over its floats
// (PairRows's layout: pair row q from rows 2q and 2q+1, a zero row past
// the last), the rows of 16 floats that lie in src at base+offs[p]: 16
// contiguous floats (seg.N 1), or seg.N runs of 16/seg.N floats seg.Dist
// apart (N 2 or 4). It is the packing of one panel of an operand read in
// place (IndirectB) and its pairing in one pass. It panics if a read falls
// outside src or the pairs outside dst.
func PairGather(dst, src []float32, base int, offs Offsets, seg Segments) {
	k := len(offs.offs)
	if k == 0 {
		return
	}
	if seg.N != 1 && seg.N != 2 && seg.N != 4 || seg.Dist < 0 {
		panic("sgemm: PairGather needs 1, 2 or 4 runs a row, a distance >= 0")
	}
	_ = dst[(k+1)/2*nr-1]
	if base+int(offs.lo) < 0 || base+int(offs.hi)+(seg.N-1)*seg.Dist+nr/seg.N > len(src) {
		panic("sgemm: PairGather index out of range")
	}
	pairGather(words(dst), src[base:], offs.offs, seg)
}

// pairGatherGo is PairGather's portable body (src already at base).
func pairGatherGo(dst []uint32, src []float32, offs []int32, seg Segments) {
	run := nr / seg.N
	load := func(row *[nr]float32, off int32) {
		for s := 0; s < seg.N; s++ {
			copy(row[s*run:(s+1)*run], src[int(off)+s*seg.Dist:])
		}
	}
	for q := 0; 2*q < len(offs); q++ {
		var lo, hi [nr]float32
		load(&lo, offs[2*q])
		if 2*q+1 < len(offs) {
			load(&hi, offs[2*q+1])
		}
		for j := range nr {
			dst[q*nr+j] = pairWord(lo[j], hi[j])
		}
	}
}

// words is s seen as the words it stores (bf16 pairs written over floats).
func words(s []float32) []uint32 {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*uint32)(unsafe.Pointer(&s[0])), len(s))
}

// flushBF16 is what VDPBF16PS does to a float32 below the normal range:
// it reads and writes zero.
func flushBF16(f float32) float32 {
	if math.Float32bits(f)&0x7f800000 == 0 {
		return 0
	}
	return f
}

// dotPair is one lane of VDPBF16PS: acc plus the odd depths' product, then
// plus the even depths', from two words of bf16 pairs.
func dotPair(acc float32, a, b uint32) float32 {
	hi := flushBF16(math.Float32frombits(a&0xffff0000)) * flushBF16(math.Float32frombits(b&0xffff0000))
	lo := flushBF16(math.Float32frombits(a<<16)) * flushBF16(math.Float32frombits(b<<16))
	acc = flushBF16(flushBF16(acc) + hi)
	return flushBF16(acc + lo)
}

// kernelBF16Go is the portable bf16 kernel for mr-row panels: a and b hold
// pair rows (pairRowsGo) of a k-deep panel in the first ⌈k/2⌉·mr and
// ⌈k/2⌉·16 words of each panel's k·mr (k·16) floats.
func kernelBF16Go(mr int) kernelFunc {
	return func(k, panels int, a, b, c []float32, ldc int, set bool) {
		kp := (k + 1) / 2
		bw := words(b)
		acc := make([]float32, mr*nr)
		for q := 0; q < panels; q++ {
			aw := words(a[q*k*mr:])
			clear(acc)
			for p := 0; p < kp; p++ {
				bp := bw[p*nr : p*nr+nr]
				for i, av := range aw[p*mr : p*mr+mr] {
					row := acc[i*nr : i*nr+nr]
					for j, bv := range bp {
						row[j] = dotPair(row[j], av, bv)
					}
				}
			}
			storeTile(c[q*mr*ldc:], acc, mr, ldc, set)
		}
	}
}

// BF16Kernel is the kernel GemmBF16 uses: VDPBF16PS assembly where the CPU
// has AVX512_BF16 and the float32 kernel's panels are 16 rows (so operands
// packed by Pack serve both), the portable one otherwise.
func BF16Kernel() Kernel {
	if bf16Asm.fn != nil && Active.MR == bf16Asm.MR {
		return bf16Asm
	}
	return Kernel{Name: "bf16-go", MR: Active.MR, fn: kernelBF16Go(Active.MR), pairs: true}
}

// bf16Asm is the assembly bf16 kernel, made once (fn nil where the CPU has
// none).
var bf16Asm, _ = asmBF16Kernel()

// HasBF16 says whether GemmBF16 runs on the CPU's bf16 instructions here.
func HasBF16() bool { return BF16Kernel().Name != "bf16-go" }

// GemmBF16 is Gemm with both operands rounded to bfloat16 and the products
// summed in float32 (VDPBF16PS's arithmetic, on its assembly kernel where
// the CPU has one, else on the portable kernel, bit for bit the same).
func GemmBF16(m, n, k int, a AOperand, b BOperand, c []float32, ldc int, off func(j int) int) {
	gemm(BF16Kernel(), m, n, k, a, b, c, ldc, off, false)
}

// GemmSetBF16 is GemmBF16 writing C over what it held (GemmSet).
func GemmSetBF16(m, n, k int, a AOperand, b BOperand, c []float32, ldc int, off func(j int) int) {
	if k == 0 {
		GemmSet(m, n, k, a, b, c, ldc, off)
		return
	}
	gemm(BF16Kernel(), m, n, k, a, b, c, ldc, off, true)
}
