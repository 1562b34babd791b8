package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/advbench/advbench/internal/sgemm"
	"github.com/stretchr/testify/require"
)

// TestFastConvMatchesIm2col compares the packed-patch float32 path with the
// im2col path on geometries that exercise every case of the panel packer:
// one run per panel (32-wide rows), several rows per panel (8- and 4-wide;
// with the AVX-512 kernel these three are read in place as 1, 2 and 4 runs),
// runs that cross images (49 positions, not a multiple of 16, which also
// takes the scatter path), stride 2 (read from phase planes; 16-, 8- and
// 4-wide output rows, an odd input size, the 1x1 shortcut; the input
// gradient as four parity-phase products at even input sizes, added back
// along the same runs at odd ones), no padding (transposed padding 2) and an
// even kernel; the weight gradient also with one image per chunk.
func TestFastConvMatchesIm2col(t *testing.T) {
	if !sgemm.Fast() {
		t.Skip("no assembly GEMM kernel on this CPU: the packed-patch path is not used")
	}
	geoms := []convGeom{
		{c: 3, h: 32, w: 32, cout: 16, k: 3, stride: 1, pad: 1},
		{c: 8, h: 8, w: 8, cout: 20, k: 3, stride: 1, pad: 1},
		{c: 16, h: 4, w: 4, cout: 8, k: 3, stride: 1, pad: 1},
		{c: 5, h: 7, w: 7, cout: 6, k: 3, stride: 1, pad: 1},
		{c: 8, h: 16, w: 16, cout: 8, k: 3, stride: 2, pad: 1},
		{c: 3, h: 32, w: 32, cout: 17, k: 3, stride: 2, pad: 1},
		{c: 4, h: 8, w: 8, cout: 16, k: 3, stride: 2, pad: 1},
		{c: 3, h: 7, w: 7, cout: 5, k: 3, stride: 2, pad: 1},
		{c: 8, h: 8, w: 8, cout: 16, k: 1, stride: 2, pad: 0},
		{c: 6, h: 9, w: 9, cout: 4, k: 1, stride: 2, pad: 0},
		{c: 4, h: 6, w: 6, cout: 5, k: 3, stride: 1, pad: 0},
		{c: 3, h: 5, w: 5, cout: 4, k: 2, stride: 1, pad: 1},
		{c: 300, h: 4, w: 4, cout: 40, k: 3, stride: 1, pad: 1}, // depth beyond one packed block
		// 16-wide rows (weight gradient from sgemm.DotTile): partial tiles
		// of output channels (6, 17) and of taps (7 taps, 27 taps).
		{c: 8, h: 16, w: 16, cout: 12, k: 3, stride: 1, pad: 1},
		{c: 7, h: 32, w: 32, cout: 6, k: 1, stride: 2, pad: 0},
	}
	rng := rand.New(rand.NewPCG(9, 9))
	random := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(rng.NormFloat64())
		}
		return s
	}
	for _, g := range geoms {
		t.Run(g.String(), func(t *testing.T) {
			const n = 5
			x := random(n * g.c * g.h * g.w)
			w := random(g.cout * g.colRows())
			out := n * g.cout * g.colCols()
			want, got := make([]float32, out), random(out) // garbage: must be overwritten
			convForward(x, w, want, n, g)
			convForwardFast(x, w, got, n, g)
			requireClose(t, want, got, "forward")

			dy := random(out)
			wantDx, gotDx := make([]float32, len(x)), random(len(x))
			convBackwardData(w, dy, wantDx, n, g)
			convBackwardDataFast(w, dy, gotDx, n, g)
			requireClose(t, wantDx, gotDx, "input gradient")

			wantDw, gotDw := make([]float32, len(w)), random(len(w))
			convBackwardWeight(x, dy, wantDw, n, g)
			convBackwardWeightFast(x, dy, gotDw, n, g)
			requireClose(t, wantDw, gotDw, "weight gradient")

			// One image per chunk: chunks summed across both workers.
			defer func(b int) { dotChunkBytes = b }(dotChunkBytes)
			dotChunkBytes = 1
			gotDw = random(len(w))
			convBackwardWeightFast(x, dy, gotDw, n, g)
			requireClose(t, wantDw, gotDw, "weight gradient, one image per chunk")
		})
	}
}

func requireClose(t *testing.T, want, got []float32, what string) {
	t.Helper()
	scale := 0.0
	for _, v := range want {
		scale = max(scale, float64(v), -float64(v))
	}
	for i := range want {
		d := float64(want[i]) - float64(got[i])
		require.LessOrEqual(t, max(d, -d), 1e-5*scale, fmt.Sprintf("%s: element %d: want %g, got %g", what, i, want[i], got[i]))
	}
}
