package conv

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestFloat64MatchesDefinition holds the float64 passes (the im2col path)
// to the convolution's definition written as plain loops:
// y[i][o][oy][ox] = Σ_c,ky,kx w[o][c][ky][kx]·x[i][c][oy·s-p+ky][ox·s-p+kx]
// (zero outside the image), dx and dw the same sum read backwards. The
// geometries cover strides 1 and 2, no, one and two pixels of padding, 1x1,
// even and 3x3 kernels, odd sizes, and (15x15 outputs, 4 images) chunks of
// 3 images with a last chunk of 1.
func TestFloat64MatchesDefinition(t *testing.T) {
	geoms := []Geom{
		{C: 2, H: 5, W: 5, Cout: 3, K: 3, Stride: 1, Pad: 1},
		{C: 2, H: 6, W: 7, Cout: 3, K: 3, Stride: 2, Pad: 1},
		{C: 3, H: 6, W: 6, Cout: 2, K: 1, Stride: 2, Pad: 0},
		{C: 2, H: 5, W: 4, Cout: 2, K: 2, Stride: 1, Pad: 2},
		{C: 1, H: 7, W: 7, Cout: 2, K: 3, Stride: 1, Pad: 0},
		{C: 2, H: 15, W: 15, Cout: 2, K: 3, Stride: 1, Pad: 1},
	}
	rng := rand.New(rand.NewPCG(4, 2))
	random := func(n int) []float64 {
		s := make([]float64, n)
		for i := range s {
			s[i] = rng.NormFloat64()
		}
		return s
	}
	for _, g := range geoms {
		t.Run(g.String(), func(t *testing.T) {
			const n = 4
			ho, wo := g.OutH(), g.OutW()
			x, w := random(n*g.C*g.H*g.W), random(g.Cout*g.C*g.K*g.K)
			dy := random(n * g.Cout * ho * wo)
			wantY, wantDx, wantDw := make([]float64, len(dy)), make([]float64, len(x)), make([]float64, len(w))
			for i := 0; i < n; i++ {
				for o := 0; o < g.Cout; o++ {
					for oy := 0; oy < ho; oy++ {
						for ox := 0; ox < wo; ox++ {
							yi := ((i*g.Cout+o)*ho+oy)*wo + ox
							for c := 0; c < g.C; c++ {
								for ky := 0; ky < g.K; ky++ {
									for kx := 0; kx < g.K; kx++ {
										iy, ix := oy*g.Stride-g.Pad+ky, ox*g.Stride-g.Pad+kx
										if iy < 0 || iy >= g.H || ix < 0 || ix >= g.W {
											continue
										}
										xi := ((i*g.C+c)*g.H+iy)*g.W + ix
										wi := ((o*g.C+c)*g.K+ky)*g.K + kx
										wantY[yi] += w[wi] * x[xi]
										wantDx[xi] += w[wi] * dy[yi]
										wantDw[wi] += x[xi] * dy[yi]
									}
								}
							}
						}
					}
				}
			}
			garbage := func(n int) []float64 { return random(n) } // every element must be overwritten
			y, dx, dw := garbage(len(wantY)), garbage(len(wantDx)), garbage(len(wantDw))
			Forward(x, w, y, n, g)
			BackwardData(w, dy, dx, n, g)
			BackwardWeight(x, dy, dw, n, g)
			for _, c := range []struct {
				name      string
				want, got []float64
			}{{"forward", wantY, y}, {"input gradient", wantDx, dx}, {"weight gradient", wantDw, dw}} {
				assert.InDeltaSlice(t, c.want, c.got, 1e-12, fmt.Sprintf("%s (%s)", c.name, g))
			}
		})
	}
}
