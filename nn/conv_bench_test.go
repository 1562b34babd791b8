package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkConvForward runs the float32 forward convolution of the 3x3
// stride-1 layers of a width-0.25 ResNet-18 stage by stage, batch 128
// (images/s reported).
func BenchmarkConvForward(b *testing.B) {
	for _, g := range []convGeom{
		{c: 16, h: 32, w: 32, cout: 16, k: 3, stride: 1, pad: 1},
		{c: 32, h: 16, w: 16, cout: 32, k: 3, stride: 1, pad: 1},
		{c: 64, h: 8, w: 8, cout: 64, k: 3, stride: 1, pad: 1},
		{c: 128, h: 4, w: 4, cout: 128, k: 3, stride: 1, pad: 1},
	} {
		b.Run(fmt.Sprintf("%dx%d", g.c, g.h), func(b *testing.B) {
			const n = 128
			rng := rand.New(rand.NewPCG(1, 1))
			x := make([]float32, n*g.c*g.h*g.w)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			w := make([]float32, g.cout*g.colRows())
			for i := range w {
				w[i] = float32(rng.NormFloat64())
			}
			y := make([]float32, n*g.cout*g.colCols())
			for b.Loop() {
				convForwardFast(x, w, y, n, g)
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
