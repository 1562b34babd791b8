package conv

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/advbench/advbench/internal/parallel"
)

// stages are the 3x3 stride-1 convolutions of a width-0.25 ResNet-18, one
// per stage, the stride-2 one entering stage 2 and its 1x1 shortcut, and
// the stem.
var stages = []Geom{
	{C: 16, H: 32, W: 32, Cout: 16, K: 3, Stride: 1, Pad: 1},
	{C: 32, H: 16, W: 16, Cout: 32, K: 3, Stride: 1, Pad: 1},
	{C: 64, H: 8, W: 8, Cout: 64, K: 3, Stride: 1, Pad: 1},
	{C: 128, H: 4, W: 4, Cout: 128, K: 3, Stride: 1, Pad: 1},
	{C: 16, H: 32, W: 32, Cout: 32, K: 3, Stride: 2, Pad: 1},
	{C: 16, H: 32, W: 32, Cout: 32, K: 1, Stride: 2, Pad: 0},
	{C: 3, H: 32, W: 32, Cout: 16, K: 3, Stride: 1, Pad: 1},
}

// BenchmarkConv runs the float32 convolution's three passes (forward,
// input gradient, weight gradient; the weight gradient also on the packed
// GEMM where it would take sgemm.DotTile) on each of stages, batch 128
// (images/s and GFLOP/s reported: 2 flops per multiply-add of the pass).
func BenchmarkConv(b *testing.B) {
	passes := []struct {
		name string
		run  func(x, w, y []float32, n int, g Geom)
	}{
		{"forward", func(x, w, y []float32, n int, g Geom) { forwardFast(x, w, y, n, g, FP32) }},
		{"dx", func(x, w, y []float32, n int, g Geom) { backwardDataFast(w, y, x, n, g, FP32) }},
		{"dw", func(x, w, y []float32, n int, g Geom) { backwardWeightFast(x, y, w, n, g) }},
		{"dw-gemm", func(x, w, y []float32, n int, g Geom) {
			defer func(d bool) { dotWeightGrad = d }(dotWeightGrad)
			dotWeightGrad = false
			backwardWeightFast(x, y, w, n, g)
		}},
	}
	for _, g := range stages {
		for _, pass := range passes {
			b.Run(fmt.Sprintf("%s/%dx%d/k%ds%d", pass.name, g.C, g.H, g.K, g.Stride), func(b *testing.B) {
				const n = 128
				rng := rand.New(rand.NewPCG(1, 1))
				x := make([]float32, n*g.C*g.H*g.W)
				for i := range x {
					x[i] = float32(rng.NormFloat64())
				}
				w := make([]float32, g.Cout*g.colRows())
				for i := range w {
					w[i] = float32(rng.NormFloat64())
				}
				y := make([]float32, n*g.Cout*g.colCols())
				for i := range y {
					y[i] = float32(rng.NormFloat64())
				}
				for b.Loop() {
					pass.run(x, w, y, n, g)
				}
				b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "images/s")
				flops := 2 * float64(n*g.Cout*g.colRows()*g.colCols())
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkPatchesLoad copies a batch of 128 into padded chunks (phase
// planes at stride 2), as each convolution pass does first (input bytes/s
// reported).
func BenchmarkPatchesLoad(b *testing.B) {
	for _, g := range stages {
		b.Run(fmt.Sprintf("%dx%d/k%ds%d", g.C, g.H, g.K, g.Stride), func(b *testing.B) {
			const n = 128
			x := make([]float32, n*g.C*g.H*g.W)
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
