package conv

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/advbench/advbench/internal/sgemm"
	"github.com/stretchr/testify/require"
)

// TestFastMatchesIm2col compares the packed-patch float32 path with the
// im2col path on geometries that exercise every case of the panel packer:
// one run per panel (32-wide rows), several rows per panel (8- and 4-wide;
// with the AVX-512 kernel these three are read in place as 1, 2 and 4 runs),
// runs that cross images (49 positions, not a multiple of 16, which also
// takes the scatter path), stride 2 (read from phase planes; 16-, 8- and
// 4-wide output rows, an odd input size, the 1x1 shortcut; the input
// gradient as four parity-phase products at even input sizes, added back
// along the same runs at odd ones), no padding (transposed padding 2) and an
// even kernel; the weight gradient also with one image per chunk; the
// forward pass and input gradient also in BF16 precision.
func TestFastMatchesIm2col(t *testing.T) {
	if !sgemm.Fast() {
		t.Skip("no assembly GEMM kernel on this CPU: the packed-patch path is not used")
	}
	geoms := []Geom{
		{C: 3, H: 32, W: 32, Cout: 16, K: 3, Stride: 1, Pad: 1},
		{C: 8, H: 8, W: 8, Cout: 20, K: 3, Stride: 1, Pad: 1},
		{C: 16, H: 4, W: 4, Cout: 8, K: 3, Stride: 1, Pad: 1},
		{C: 5, H: 7, W: 7, Cout: 6, K: 3, Stride: 1, Pad: 1},
		{C: 8, H: 16, W: 16, Cout: 8, K: 3, Stride: 2, Pad: 1},
		{C: 3, H: 32, W: 32, Cout: 17, K: 3, Stride: 2, Pad: 1},
		{C: 4, H: 8, W: 8, Cout: 16, K: 3, Stride: 2, Pad: 1},
		{C: 3, H: 7, W: 7, Cout: 5, K: 3, Stride: 2, Pad: 1},
		{C: 8, H: 8, W: 8, Cout: 16, K: 1, Stride: 2, Pad: 0},
		{C: 6, H: 9, W: 9, Cout: 4, K: 1, Stride: 2, Pad: 0},
		{C: 4, H: 6, W: 6, Cout: 5, K: 3, Stride: 1, Pad: 0},
		{C: 3, H: 5, W: 5, Cout: 4, K: 2, Stride: 1, Pad: 1},
		{C: 300, H: 4, W: 4, Cout: 40, K: 3, Stride: 1, Pad: 1}, // depth beyond one packed block
		// 16-wide rows (weight gradient from sgemm.DotTile): partial tiles
		// of output channels (6, 17) and of taps (7 taps, 27 taps).
		{C: 8, H: 16, W: 16, Cout: 12, K: 3, Stride: 1, Pad: 1},
		{C: 7, H: 32, W: 32, Cout: 6, K: 1, Stride: 2, Pad: 0},
	}
	rng := rand.New(rand.NewPCG(9, 9))
	random := func(n int) []float32 { return normals(rng, n) }
	for _, g := range geoms {
		t.Run(g.String(), func(t *testing.T) {
			const n = 5
			x := random(n * g.C * g.H * g.W)
			w := random(g.Cout * g.colRows())
			out := n * g.Cout * g.colCols()
			want, got := make([]float32, out), random(out) // garbage: must be overwritten
			forwardIm2col(x, w, want, n, g)
			forwardFast(x, w, got, n, g, FP32)
			requireClose(t, want, got, "forward")

			dy := random(out)
			wantDx, gotDx := make([]float32, len(x)), random(len(x))
			backwardDataIm2col(w, dy, wantDx, n, g)
			backwardDataFast(w, dy, gotDx, n, g, FP32)
			requireClose(t, wantDx, gotDx, "input gradient")

			// BF16: the products of the operands rounded to bf16, summed
			// in float32 (a float32 product of the unrounded operands is
			// off by ~2^-9 of the scale and fails the 1e-5 bound).
			xr, wr, dyr := roundedBF16(x), roundedBF16(w), roundedBF16(dy)
			forwardIm2col(xr, wr, want, n, g)
			forwardFast(x, w, got, n, g, BF16)
			requireClose(t, want, got, "bf16 forward")
			backwardDataIm2col(wr, dyr, wantDx, n, g)
			backwardDataFast(w, dy, gotDx, n, g, BF16)
			requireClose(t, wantDx, gotDx, "bf16 input gradient")

			wantDw, gotDw := make([]float32, len(w)), random(len(w))
			backwardWeightIm2col(x, dy, wantDw, n, g)
			backwardWeightFast(x, dy, gotDw, n, g)
			requireClose(t, wantDw, gotDw, "weight gradient")

			// One image per chunk: chunks summed across both workers.
			defer func(b int) { dotChunkBytes = b }(dotChunkBytes)
			dotChunkBytes = 1
			gotDw = random(len(w))
			backwardWeightFast(x, dy, gotDw, n, g)
			requireClose(t, wantDw, gotDw, "weight gradient, one image per chunk")
		})
	}
}

// normals returns n standard normal values.
func normals(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

// roundedBF16 is v with every value rounded to bfloat16.
func roundedBF16(v []float32) []float32 {
	out := make([]float32, len(v))
	for i, f := range v {
		out[i] = sgemm.FromBF16(sgemm.ToBF16(f))
	}
	return out
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

// packOnly hides everything of a right operand but BPanels, so that the
// bf16 GEMM packs and then pairs its panels.
type packOnly struct{ sgemm.BOperand }

// TestPairPanelsIdentical: the bf16 product that gathers and pairs the
// patches in one pass (patches.BPairPanels) equals, bit for bit, the one
// that packs them (BPanels) and pairs the packed panels, on geometries
// whose panels are 1, 2 and 4 even runs (32-, 8- and 4-wide rows, stride
// 1 and 2) and ones that are not (7- and 5-wide rows: runs across rows
// and images, ragged last panels), with an odd depth.
func TestPairPanelsIdentical(t *testing.T) {
	geoms := []Geom{
		{C: 3, H: 32, W: 32, Cout: 16, K: 3, Stride: 1, Pad: 1},
		{C: 8, H: 8, W: 8, Cout: 20, K: 3, Stride: 1, Pad: 1},
		{C: 16, H: 4, W: 4, Cout: 8, K: 3, Stride: 1, Pad: 1},
		{C: 4, H: 16, W: 16, Cout: 16, K: 3, Stride: 2, Pad: 1},
		{C: 5, H: 7, W: 7, Cout: 6, K: 3, Stride: 1, Pad: 1},
		{C: 3, H: 9, W: 9, Cout: 5, K: 3, Stride: 2, Pad: 1},
		{C: 300, H: 4, W: 4, Cout: 40, K: 3, Stride: 1, Pad: 1},
	}
	rng := rand.New(rand.NewPCG(3, 7))
	for _, g := range geoms {
		t.Run(g.String(), func(t *testing.T) {
			const n = 3
			x, w := normals(rng, n*g.C*g.H*g.W), normals(rng, g.Cout*g.colRows())
			a := sgemm.Pack(false, g.Cout, g.colRows(), w, g.colRows(), 1)
			pt := newPatches(g, patchRows(g))
			defer pt.done()
			pt.load(x, 0, n)
			cols := n * g.colCols()
			want, got := make([]float32, g.Cout*cols), make([]float32, g.Cout*cols)
			sgemm.GemmSetBF16(g.Cout, cols, g.colRows(), a, packOnly{pt}, want, cols, nil)
			sgemm.GemmSetBF16(g.Cout, cols, g.colRows(), a, pt, got, cols, nil)
			require.Equal(t, want, got)
		})
	}
}
