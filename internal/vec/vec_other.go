//go:build !amd64

package vec

var level = goLoops

func available() []isa { return []isa{goLoops} }

// loops are the assembly loops of one level: none on this architecture.
type loops struct {
	sum        func(x *float32, n int) float64
	sumSqDev   func(x *float32, n int, m float64) float64
	scaleShift func(dst, x *float32, n int, a, b float32, relu bool)
	gradSums   func(x, gy, y *float32, n int, m float64) (sg, sgx float64)
	inputGrad  func(dst, x, gy, y *float32, n int, k *[3]float32)
	add        func(dst, a, b *float32, n int)
	addBlocks  func(dst, src *float32, n int, dOffs, sOffs *int32, count int)
	copyRows   func(dst *float32, ldd int, src *float32, lds, rows, n int)
	interleave func(even *float32, lde int, odd *float32, ldo int, row *float32, ldr, rows, pairs int, join bool)
}

// asm is indexed by level; level never leaves goLoops here.
var asm [avx512 + 1]loops
