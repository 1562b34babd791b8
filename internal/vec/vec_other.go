//go:build !amd64

package vec

var level = goLoops

func available() []isa { return []isa{goLoops} }

func sumBlocks(x *float32, n int) float64                               { panic("vec: no assembly") }
func sumSqDevBlocks(x *float32, n int, m float64) float64               { panic("vec: no assembly") }
func scaleShiftBlocks(dst, x *float32, n int, a, b float32, r bool)     { panic("vec: no assembly") }
func gradSumsBlocks(x, gy, y *float32, n int, m float64) (a, b float64) { panic("vec: no assembly") }
func inputGradBlocks(dst, x, gy, y *float32, n int, k *[3]float32)      { panic("vec: no assembly") }
func addBlocksOf16(dst, a, b *float32, n int)                           { panic("vec: no assembly") }

func sum16(x *float32, n int) float64                               { panic("vec: no assembly") }
func sumSqDev16(x *float32, n int, m float64) float64               { panic("vec: no assembly") }
func scaleShift16(dst, x *float32, n int, a, b float32, relu bool)  { panic("vec: no assembly") }
func gradSums16(x, gy, y *float32, n int, m float64) (a, b float64) { panic("vec: no assembly") }
func inputGrad16(dst, x, gy, y *float32, n int, k *[3]float32)      { panic("vec: no assembly") }

func add16(dst, a, b *float32, n int) { panic("vec: no assembly") }

func addBlocks16(dst, src *float32, n int, dOffs, sOffs *int32, count int) {
	panic("vec: no assembly")
}

func copyRows16(dst *float32, ldd int, src *float32, lds, rows, n int) {
	panic("vec: no assembly")
}

func interleave16(even *float32, lde int, odd *float32, ldo int, row *float32, ldr, rows, pairs int, join bool) {
	panic("vec: no assembly")
}

func addBlocksAsm(dst, src *float32, n int, dOffs, sOffs *int32, count int) {
	panic("vec: no assembly")
}

func copyRowsAsm(dst *float32, ldd int, src *float32, lds, rows, n int) { panic("vec: no assembly") }

func interleaveAsm(even *float32, lde int, odd *float32, ldo int, row *float32, ldr, rows, pairs int, join bool) {
	panic("vec: no assembly")
}
