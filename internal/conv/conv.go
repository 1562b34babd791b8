package conv

import (
	"fmt"

	"github.com/advbench/advbench/internal/sgemm"
	"github.com/advbench/advbench/internal/vec"
)

// Geom is the geometry of one convolution, per image: C input channels of
// H x W pixels, Cout output channels, a square K x K kernel moved by Stride,
// and Pad zero pixels on every side of the input. Every function of this
// package expects OutH and OutW ≥ 1, Stride ≥ 1 and Pad ≥ 0.
type Geom struct{ C, H, W, Cout, K, Stride, Pad int }

// OutH returns the output height, (H + 2·Pad - K)/Stride + 1.
func (g Geom) OutH() int { return (g.H+2*g.Pad-g.K)/g.Stride + 1 }

// OutW returns the output width, (W + 2·Pad - K)/Stride + 1.
func (g Geom) OutW() int { return (g.W+2*g.Pad-g.K)/g.Stride + 1 }

// rows and cols of one image's im2col matrix.
func (g Geom) colRows() int { return g.C * g.K * g.K }
func (g Geom) colCols() int { return g.OutH() * g.OutW() }

// String spells the geometry as "CxHxW->Cout kK sStride pPad".
func (g Geom) String() string {
	return fmt.Sprintf("%dx%dx%d->%d k%d s%d p%d", g.C, g.H, g.W, g.Cout, g.K, g.Stride, g.Pad)
}

// Forward computes y = conv(x, w) for n images: x is (n, C, H, W), w
// (Cout, C, K, K), y (n, Cout, OutH, OutW); every element of y is written.
func Forward[T vec.Float](x, w, y []T, n int, g Geom) {
	if x32, ok := any(x).([]float32); ok && sgemm.Fast() {
		forwardFast(x32, any(w).([]float32), any(y).([]float32), n, g, FP32)
		return
	}
	forwardIm2col(x, w, y, n, g)
}

// BackwardData computes the input gradient dx (n, C, H, W) from the weights
// w and the output gradient dy (n, Cout, OutH, OutW); every element of dx is
// written.
func BackwardData[T vec.Float](w, dy, dx []T, n int, g Geom) {
	if w32, ok := any(w).([]float32); ok && sgemm.Fast() {
		backwardDataFast(w32, any(dy).([]float32), any(dx).([]float32), n, g, FP32)
		return
	}
	backwardDataIm2col(w, dy, dx, n, g)
}

// Precision is the arithmetic of a convolution's products: FP32, or BF16
// (both operands rounded to bfloat16, products summed in float32:
// sgemm.GemmBF16, on AVX512_BF16 where the CPU has it, else its portable
// kernel).
type Precision uint8

const (
	FP32 Precision = iota
	BF16
)

// gemmSet is sgemm.GemmSet in precision p.
func (p Precision) gemmSet(m, n, k int, a sgemm.AOperand, b sgemm.BOperand, c []float32, ldc int, off func(int) int) {
	if p == BF16 {
		sgemm.GemmSetBF16(m, n, k, a, b, c, ldc, off)
		return
	}
	sgemm.GemmSet(m, n, k, a, b, c, ldc, off)
}

// ForwardBF16 is Forward for float32 in BF16 precision.
func ForwardBF16(x, w, y []float32, n int, g Geom) { forwardFast(x, w, y, n, g, BF16) }

// BackwardDataBF16 is BackwardData for float32 in BF16 precision.
func BackwardDataBF16(w, dy, dx []float32, n int, g Geom) { backwardDataFast(w, dy, dx, n, g, BF16) }

// BackwardWeight computes the weight gradient dw (Cout, C, K, K), summed
// over the n images, from the input x and the output gradient dy; every
// element of dw is written. The sum is taken in the same order on every run
// with the same GOMAXPROCS (parallel.Sum).
func BackwardWeight[T vec.Float](x, dy, dw []T, n int, g Geom) {
	if x32, ok := any(x).([]float32); ok && sgemm.Fast() {
		backwardWeightFast(x32, any(dy).([]float32), any(dw).([]float32), n, g)
		return
	}
	backwardWeightIm2col(x, dy, dw, n, g)
}

// chunkColumns is the least number of GEMM columns a convolution gathers
// images for: layers with few output positions (4x4 in the last stage) would
// otherwise repack the whole weight matrix for every image.
const chunkColumns = 512

// chunks splits n images into groups of enough images to make chunkColumns
// columns of p output positions each.
func chunks(n, p int) (size, count int) {
	size = min(n, max(1, (chunkColumns+p-1)/p))
	return size, (n + size - 1) / size
}

// planes copies between a batch tensor (images, c planes of p values) and a
// chunk matrix (c rows of cols = images·p values): toMatrix gathers images
// [i0, i1) into m, otherwise m is scattered back.
func planes[T vec.Float](t []T, m []T, i0, i1, c, p int, toMatrix bool) {
	cols := (i1 - i0) * p
	for i := i0; i < i1; i++ {
		for ch := 0; ch < c; ch++ {
			ts := t[(i*c+ch)*p : (i*c+ch+1)*p]
			ms := m[ch*cols+(i-i0)*p : ch*cols+(i-i0+1)*p]
			if toMatrix {
				copy(ms, ts)
			} else {
				copy(ts, ms)
			}
		}
	}
}
