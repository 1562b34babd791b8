package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/advbench/advbench/internal/parallel"
)

// stages are the 3x3 stride-1 convolutions of a width-0.25 ResNet-18, one
// per stage, the stride-2 one entering stage 2 and its 1x1 shortcut, and
// the stem.
var stages = []convGeom{
	{c: 16, h: 32, w: 32, cout: 16, k: 3, stride: 1, pad: 1},
	{c: 32, h: 16, w: 16, cout: 32, k: 3, stride: 1, pad: 1},
	{c: 64, h: 8, w: 8, cout: 64, k: 3, stride: 1, pad: 1},
	{c: 128, h: 4, w: 4, cout: 128, k: 3, stride: 1, pad: 1},
	{c: 16, h: 32, w: 32, cout: 32, k: 3, stride: 2, pad: 1},
	{c: 16, h: 32, w: 32, cout: 32, k: 1, stride: 2, pad: 0},
	{c: 3, h: 32, w: 32, cout: 16, k: 3, stride: 1, pad: 1},
}

// BenchmarkConv runs the float32 convolution's three passes (forward,
// input gradient, weight gradient; the weight gradient also on the packed
// GEMM where it would take sgemm.DotTile) on each of stages, batch 128
// (images/s reported).
func BenchmarkConv(b *testing.B) {
	passes := []struct {
		name string
		run  func(x, w, y []float32, n int, g convGeom)
	}{
		{"forward", convForwardFast},
		{"dx", func(x, w, y []float32, n int, g convGeom) { convBackwardDataFast(w, y, x, n, g) }},
		{"dw", func(x, w, y []float32, n int, g convGeom) { convBackwardWeightFast(x, y, w, n, g) }},
		{"dw-gemm", func(x, w, y []float32, n int, g convGeom) {
			defer func(d bool) { dotWeightGrad = d }(dotWeightGrad)
			dotWeightGrad = false
			convBackwardWeightFast(x, y, w, n, g)
		}},
	}
	for _, g := range stages {
		for _, pass := range passes {
			b.Run(fmt.Sprintf("%s/%dx%d/k%ds%d", pass.name, g.c, g.h, g.k, g.stride), func(b *testing.B) {
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
				for i := range y {
					y[i] = float32(rng.NormFloat64())
				}
				for b.Loop() {
					pass.run(x, w, y, n, g)
				}
				b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "images/s")
			})
		}
	}
}

// BenchmarkPatchesLoad copies a batch of 128 into padded chunks (phase
// planes at stride 2), as each convolution pass does first (input bytes/s
// reported).
func BenchmarkPatchesLoad(b *testing.B) {
	for _, g := range stages {
		b.Run(fmt.Sprintf("%dx%d/k%ds%d", g.c, g.h, g.k, g.stride), func(b *testing.B) {
			const n = 128
			x := make([]float32, n*g.c*g.h*g.w)
			rows := patchRows(g)
			size, count := chunks(n, g.colCols())
			for b.Loop() {
				parallel.For(count, func(lo, hi int) {
					pt := newPatches(g, rows)
					defer pt.done()
					for ch := lo; ch < hi; ch++ {
						pt.load(x, ch*size, min(n, (ch+1)*size))
					}
				})
			}
			b.ReportMetric(float64(len(x)*4*b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}
