package vec

import "golang.org/x/sys/cpu"

// level is the assembly the loops use here: the AVX-512 loops
// (vec_amd64.s) where the CPU has AVX-512, else the AVX2 loops
// (vec_avx2_amd64.s) where it has AVX2 and FMA. Tests lower it.
var level = detect()

func detect() isa {
	switch {
	case cpu.X86.HasAVX512F:
		return avx512
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return avx2
	}
	return goLoops
}

// available lists the levels this CPU runs, lowest first.
func available() []isa {
	out := []isa{goLoops}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		out = append(out, avx2)
	}
	if cpu.X86.HasAVX512F {
		out = append(out, avx512)
	}
	return out
}

// asm holds the loops of each assembly level.
var asm = [...]loops{
	avx2:   {sum8, sumSqDev8, scaleShift8, gradSums8, inputGrad8, add8, addBlocks8, copyRows8, interleave8},
	avx512: {sum16, sumSqDev16, scaleShift16, gradSums16, inputGrad16, add16, addBlocks16, copyRows16, interleave16},
}

// The assembly loops (vec_amd64.s) take n, a positive multiple of 16.

//go:noescape
func sum16(x *float32, n int) float64

//go:noescape
func sumSqDev16(x *float32, n int, m float64) float64

//go:noescape
func scaleShift16(dst, x *float32, n int, a, b float32, relu bool)

// gradSums16 and inputGrad16 mask g by y > 0 unless y is nil.
//
//go:noescape
func gradSums16(x, gy, y *float32, n int, m float64) (sg, sgx float64)

//go:noescape
func inputGrad16(dst, x, gy, y *float32, n int, k *[3]float32)

//go:noescape
func add16(dst, a, b *float32, n int)

//go:noescape
func addBlocks16(dst, src *float32, n int, dOffs, sOffs *int32, count int)

//go:noescape
func copyRows16(dst *float32, ldd int, src *float32, lds, rows, n int)

// interleave16 is Deinterleave (join false) and Interleave (join true).
//
//go:noescape
func interleave16(even *float32, lde int, odd *float32, ldo int, row *float32, ldr, rows, pairs int, join bool)

// The AVX2 loops (vec_avx2_amd64.s), the same contracts on 8-lane registers.

//go:noescape
func sum8(x *float32, n int) float64

//go:noescape
func sumSqDev8(x *float32, n int, m float64) float64

//go:noescape
func scaleShift8(dst, x *float32, n int, a, b float32, relu bool)

//go:noescape
func gradSums8(x, gy, y *float32, n int, m float64) (sg, sgx float64)

//go:noescape
func inputGrad8(dst, x, gy, y *float32, n int, k *[3]float32)

//go:noescape
func add8(dst, a, b *float32, n int)

//go:noescape
func addBlocks8(dst, src *float32, n int, dOffs, sOffs *int32, count int)

//go:noescape
func copyRows8(dst *float32, ldd int, src *float32, lds, rows, n int)

//go:noescape
func interleave8(even *float32, lde int, odd *float32, ldo int, row *float32, ldr, rows, pairs int, join bool)
