package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestToBF16: rounding to nearest with ties to even, worked by hand on the
// bits (bf16 keeps the upper 16 bits of a float32).
func TestToBF16(t *testing.T) {
	for _, c := range []struct {
		in   uint32
		want uint16
	}{
		{0x3f800000, 0x3f80}, // 1
		{0x3f808000, 0x3f80}, // 1 + 2^-8: a tie, the even neighbour is 1
		{0x3f818000, 0x3f82}, // 1 + 3·2^-8: a tie, the even neighbour is above
		{0x3f808001, 0x3f81}, // just past the tie: up
		{0x3f807fff, 0x3f80}, // just below it: down
		{0xbf808001, 0xbf81}, // the same below zero
		{0x7f7fffff, 0x7f80}, // the largest float32 rounds to +Inf
		{0x7f800000, 0x7f80}, // +Inf
		{0xff800000, 0xff80}, // -Inf
		{0x7f800001, 0x7fc0}, // a NaN whose payload is all below bit 16 stays a NaN
		{0xffc00000, 0xffc0}, // a quiet negative NaN
		{0x00000001, 0x0000}, // the smallest denormal rounds to zero
		{0x00008000, 0x0000}, // a tie at zero: even
		{0x00018000, 0x0002}, // a denormal tie rounding up to even
	} {
		assert.Equal(t, c.want, ToBF16(math.Float32frombits(c.in)), "%#08x", c.in)
	}
	assert.Equal(t, float32(-2.5), FromBF16(0xc020))
}

// specials are values whose rounding has a rule of its own.
var specials = []uint32{0x7f800001, 0xff800000, 0x7f7fffff, 0x00000001, 0x80008000, 0x3f808000, 0x3f818000, 0x7fc00000, 0}

// TestPairRowsAgree: the AVX-512 pairing writes the words of the portable
// one, bit for bit, for even and odd depths, special values included, and
// in place.
func TestPairRowsAgree(t *testing.T) {
	if !hasAVX512 {
		t.Skip("no AVX-512: pairRows is pairRowsGo here")
	}
	rng := rand.New(rand.NewPCG(4, 4))
	for _, k := range []int{1, 2, 7, 64, 257} {
		src := randSlice(rng, k*nr)
		for i, b := range specials {
			src[(i*37)%len(src)] = math.Float32frombits(b)
		}
		want := make([]uint32, (k+1)/2*nr)
		pairRowsGo(want, src, nr, k)
		got := make([]uint32, len(want))
		pairRows(got, src, nr, k)
		require.Equal(t, want, got, "k %d", k)
		inPlace := append([]float32(nil), src...)
		pairRows(words(inPlace), inPlace, nr, k)
		require.Equal(t, want, words(inPlace)[:len(want)], "k %d in place", k)
	}
}

// TestPairGather: gathering rows in place and pairing them in one pass
// writes the words of packing the same rows (indexed here by hand) and
// pairing them with pairRowsGo, for 1, 2 and 4 runs a row, even and odd
// depths and special values, on the assembly path where there is one and
// on the portable one; reads outside src panic.
func TestPairGather(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	src := randSlice(rng, 4096)
	for i, b := range specials {
		src[(i*331)%len(src)] = math.Float32frombits(b)
	}
	const base = 5
	for _, seg := range []Segments{{N: 1}, {N: 2, Dist: 40}, {N: 4, Dist: 33}} {
		run := nr / seg.N
		for _, k := range []int{1, 2, 7, 64, 257} {
			offs := make([]int32, k)
			packed := make([]float32, k*nr)
			for p := range offs {
				offs[p] = int32(rng.IntN(len(src) - base - 3*seg.Dist - nr))
				for t := range nr {
					packed[p*nr+t] = src[base+int(offs[p])+(t/run)*seg.Dist+t%run]
				}
			}
			want := make([]uint32, (k+1)/2*nr)
			pairRowsGo(want, packed, nr, k)
			got := make([]float32, k*nr)
			PairGather(got, src, base, NewOffsets(offs), seg)
			require.Equal(t, want, words(got)[:len(want)], "segs %d k %d", seg.N, k)
			portable := make([]uint32, len(want))
			pairGatherGo(portable, src[base:], offs, seg)
			require.Equal(t, want, portable, "portable, segs %d k %d", seg.N, k)
		}
	}
	assert.Panics(t, func() { PairGather(make([]float32, nr), src, len(src)-8, NewOffsets([]int32{0}), Segments{N: 1}) })
	assert.Panics(t, func() { PairGather(make([]float32, nr), src, 0, NewOffsets([]int32{3, -1}), Segments{N: 1}) })
	assert.Panics(t, func() { PairGather(make([]float32, nr), src, 0, NewOffsets([]int32{0}), Segments{N: 3}) })
}

// TestPairWord: a word holds the even depth's bf16 in its low half.
func TestPairWord(t *testing.T) {
	assert.Equal(t, uint32(0xc0203f80), pairWord(1, -2.5))
	dst := make([]uint32, 4)
	pairRowsGo(dst, []float32{1, 2, 3, 4, 5, 6}, 2, 3) // rows (1, 2), (3, 4), (5, 6)
	assert.Equal(t, []uint32{0x40403f80, 0x40804000, 0x000040a0, 0x000040c0}, dst, "the odd last row pairs with zero")
}

// TestDotPair: one VDPBF16PS lane, by hand: (1.5, 2) · (2, -0.25) added to
// 1 is 1 + 2·(-0.25) + 1.5·2 = 3.5, and the cases that flush to zero, as
// measured on a Zen 4 (a denormal bf16 input, a denormal product sum, a
// denormal accumulator).
func TestDotPair(t *testing.T) {
	assert.Equal(t, float32(3.5), dotPair(1, pairWord(1.5, 2), pairWord(2, -0.25)))
	denormal := math.Float32frombits(0x00010000) // a bf16 denormal
	assert.Equal(t, float32(0), dotPair(0, pairWord(denormal, 0), pairWord(0x1p100, 0)), "input read as zero")
	assert.Equal(t, float32(0), dotPair(0, pairWord(0x1p-70, 0), pairWord(0x1p-60, 0)), "result flushed")
	assert.Equal(t, float32(0), dotPair(math.Float32frombits(0x100), 0, 0), "accumulator read as zero")
	assert.Equal(t, float32(0), dotPair(0x1p-125, pairWord(-1.5, 0), pairWord(0x1p-126, 0)), "a difference below the normal range")
}

// bf16Reference is the product of the operands rounded to bf16, in
// float64, and the sum of |a|·|b| per element (the rounding error scale).
func bf16Reference(m, n, k int, a, b []float32) (ref, scale []float64) {
	r := func(v float32) float64 { return float64(FromBF16(ToBF16(v))) }
	ref, scale = make([]float64, m*n), make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			for p := 0; p < k; p++ {
				x, y := r(a[i*k+p]), r(b[p*n+j])
				ref[i*n+j] += x * y
				scale[i*n+j] += math.Abs(x * y)
			}
		}
	}
	return ref, scale
}

// TestGemmBF16: GemmBF16 is the product of the bf16-rounded operands up to
// float32 accumulation (k+1 roundings of at most 2^-24 of the running sum
// of |products| each), on shapes with ragged edges in every dimension, in
// both modes. A float32 product (operands not rounded) is off by about
// 2^-9 of the scale and fails the bound.
func TestGemmBF16(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, s := range [][3]int{{16, 16, 2}, {33, 50, 7}, {16, 2048 + 17, 300}, {300, 40, 513}, {5, 3, 1}} {
		m, n, k := s[0], s[1], s[2]
		a, b := randSlice(rng, m*k), randSlice(rng, k*n)
		ref, scale := bf16Reference(m, n, k, a, b)
		for _, set := range []bool{false, true} {
			c := randSlice(rng, m*n)
			base := append([]float32(nil), c...)
			if set {
				GemmSetBF16(m, n, k, Strided{A: a, LD: k, Alpha: 1}, StridedB{B: b, LD: n}, c, n, nil)
			} else {
				GemmBF16(m, n, k, Strided{A: a, LD: k, Alpha: 1}, StridedB{B: b, LD: n}, c, n, nil)
			}
			worst := 0.0
			for i := range c {
				want := ref[i]
				if !set {
					want += float64(base[i])
				}
				bound := float64(k+2)*0x1p-24*(scale[i]+math.Abs(want)) + 1e-30
				worst = math.Max(worst, math.Abs(float64(c[i])-want)/bound)
			}
			assert.LessOrEqual(t, worst, 1.0, "%dx%dx%d set %v: error in bounds", m, n, k, set)
		}
	}
}

// TestBF16KernelsAgree: on a CPU with AVX512_BF16 the assembly kernel and
// the portable one give the same floats, through gemm's packing, on
// ragged shapes, adding and setting, with Packed and in-place operands.
func TestBF16KernelsAgree(t *testing.T) {
	hw := BF16Kernel()
	if hw.Name == "bf16-go" {
		t.Skipf("no AVX512_BF16 here (or the float32 kernel's panels are %d rows): only the portable kernel runs", Active.MR)
	}
	portable := Kernel{Name: "bf16-go", MR: hw.MR, fn: kernelBF16Go(hw.MR), pairs: true}
	rng := rand.New(rand.NewPCG(6, 6))
	for _, s := range [][3]int{{16, 16, 2}, {33, 50, 7}, {64, 4096 + 16, 577}, {272, 48, 300}} {
		m, n, k := s[0], s[1], s[2]
		a, b := randSlice(rng, m*k), randSlice(rng, k*n)
		for i, v := range specials[1:6] {
			b[(i*101)%len(b)] = math.Float32frombits(v) // ±Inf, huge, denormals, ties
		}
		c0 := randSlice(rng, m*n)
		for _, set := range []bool{false, true} {
			for _, packed := range []bool{false, true} {
				var op AOperand = Strided{A: a, LD: k, Alpha: 1}
				if packed {
					op = Pack(false, m, k, a, k, 1)
				}
				got, want := append([]float32(nil), c0...), append([]float32(nil), c0...)
				gemm(hw, m, n, k, op, StridedB{B: b, LD: n}, got, n, nil, set)
				gemm(portable, m, n, k, op, StridedB{B: b, LD: n}, want, n, nil, set)
				name := fmt.Sprintf("%dx%dx%d set %v packed %v", m, n, k, set, packed)
				for i := range got {
					if got[i] != want[i] && !(math.IsNaN(float64(got[i])) && math.IsNaN(float64(want[i]))) {
						t.Fatalf("%s: element %d: assembly %g, portable %g", name, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// BenchmarkGemmBF16 times GemmBF16 against the float32 Gemm on the
// products of a width-1 ResNet-18's convolutions at batch 128 (m output
// channels, k input channels x 9, n a chunk of output positions).
func BenchmarkGemmBF16(b *testing.B) {
	for _, s := range [][3]int{{64, 4096, 576}, {128, 2048, 1152}, {256, 2048, 2304}, {512, 2048, 4608}} {
		m, n, k := s[0], s[1], s[2]
		rng := rand.New(rand.NewPCG(7, 7))
		x, y, z := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
		flops := 2 * float64(m*n*k)
		for _, kern := range []Kernel{Active, BF16Kernel()} {
			b.Run(fmt.Sprintf("%s/%dx%dx%d", kern.Name, m, n, k), func(b *testing.B) {
				for b.Loop() {
					gemm(kern, m, n, k, Strided{A: x, LD: k, Alpha: 1}, StridedB{B: y, LD: n}, z, n, nil, true)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
