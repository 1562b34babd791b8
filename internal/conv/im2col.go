package conv

import (
	"github.com/advbench/advbench/internal/gemm"
	"github.com/advbench/advbench/internal/parallel"
	"github.com/advbench/advbench/internal/vec"
)

// The im2col path: each pass materialises the patch matrix of a chunk of
// images (im2col), multiplies it with gemm.Mul, and for the input gradient
// adds the product back into the images (col2im). It runs in both element
// types: float64 always (gradient checks), float32 where sgemm has no
// assembly kernel; the fast float32 path of fast.go is checked against it.

// im2col writes the (C·k·k) × (Ho·Wo) patch matrix of one image into col,
// row r at col[r*ld+off : r*ld+off+Ho·Wo] (ld ≥ Ho·Wo lets several images sit
// side by side).
func im2col[T vec.Float](x []T, g Geom, col []T, ld, off int) {
	ho, wo := g.OutH(), g.OutW()
	for c := 0; c < g.C; c++ {
		plane := x[c*g.H*g.W : (c+1)*g.H*g.W]
		for ky := 0; ky < g.K; ky++ {
			for kx := 0; kx < g.K; kx++ {
				row := col[((c*g.K+ky)*g.K+kx)*ld+off:][:ho*wo]
				for oy := 0; oy < ho; oy++ {
					iy := oy*g.Stride - g.Pad + ky
					dst := row[oy*wo : (oy+1)*wo]
					if iy < 0 || iy >= g.H {
						clear(dst)
						continue
					}
					src := plane[iy*g.W : (iy+1)*g.W]
					if g.Stride == 1 {
						// Output columns [lo, hi) read src[lo-pad+kx ...] contiguously.
						lo, hi := max(0, g.Pad-kx), min(wo, g.W+g.Pad-kx)
						clear(dst[:lo])
						copy(dst[lo:hi], src[lo-g.Pad+kx:])
						clear(dst[hi:])
						continue
					}
					for ox := range dst {
						ix := ox*g.Stride - g.Pad + kx
						if ix < 0 || ix >= g.W {
							dst[ox] = 0
						} else {
							dst[ox] = src[ix]
						}
					}
				}
			}
		}
	}
}

// col2im adds a patch matrix laid out as in im2col back into one image's
// gradient (dx += ...).
func col2im[T vec.Float](col []T, g Geom, dx []T, ld, off int) {
	ho, wo := g.OutH(), g.OutW()
	for c := 0; c < g.C; c++ {
		plane := dx[c*g.H*g.W : (c+1)*g.H*g.W]
		for ky := 0; ky < g.K; ky++ {
			for kx := 0; kx < g.K; kx++ {
				row := col[((c*g.K+ky)*g.K+kx)*ld+off:][:ho*wo]
				for oy := 0; oy < ho; oy++ {
					iy := oy*g.Stride - g.Pad + ky
					if iy < 0 || iy >= g.H {
						continue
					}
					dst := plane[iy*g.W : (iy+1)*g.W]
					src := row[oy*wo : (oy+1)*wo]
					if g.Stride == 1 {
						lo, hi := max(0, g.Pad-kx), min(wo, g.W+g.Pad-kx)
						out := dst[lo-g.Pad+kx:]
						for j, v := range src[lo:hi] {
							out[j] += v
						}
						continue
					}
					for ox, v := range src {
						ix := ox*g.Stride - g.Pad + kx
						if ix >= 0 && ix < g.W {
							dst[ix] += v
						}
					}
				}
			}
		}
	}
}

// forwardIm2col computes y = conv(x, w) for n images, a chunk of images per GEMM.
func forwardIm2col[T vec.Float](x, w, y []T, n int, g Geom) {
	in, p := g.C*g.H*g.W, g.colCols()
	size, count := chunks(n, p)
	parallel.For(count, func(lo, hi int) {
		col := make([]T, g.colRows()*size*p)
		out := make([]T, g.Cout*size*p)
		for ch := lo; ch < hi; ch++ {
			i0, i1 := ch*size, min(n, (ch+1)*size)
			cols := (i1 - i0) * p
			for i := i0; i < i1; i++ {
				im2col(x[i*in:(i+1)*in], g, col, cols, (i-i0)*p)
			}
			gemm.Mul(false, false, g.Cout, cols, g.colRows(), 1, w, col[:g.colRows()*cols], 0, out[:g.Cout*cols])
			planes(y, out, i0, i1, g.Cout, p, false)
		}
	})
}

// backwardDataIm2col computes dx from w and dy.
func backwardDataIm2col[T vec.Float](w, dy, dx []T, n int, g Geom) {
	in, p := g.C*g.H*g.W, g.colCols()
	size, count := chunks(n, p)
	parallel.For(count, func(lo, hi int) {
		col := make([]T, g.colRows()*size*p)
		dyc := make([]T, g.Cout*size*p)
		for ch := lo; ch < hi; ch++ {
			i0, i1 := ch*size, min(n, (ch+1)*size)
			cols := (i1 - i0) * p
			planes(dy, dyc, i0, i1, g.Cout, p, true)
			gemm.Mul(true, false, g.colRows(), cols, g.Cout, 1, w, dyc[:g.Cout*cols], 0, col[:g.colRows()*cols])
			for i := i0; i < i1; i++ {
				dst := dx[i*in : (i+1)*in]
				clear(dst)
				col2im(col, g, dst, cols, (i-i0)*p)
			}
		}
	})
}

// backwardWeightIm2col computes dw = Σ_chunks dy_chunk · col_chunkᵀ.
func backwardWeightIm2col[T vec.Float](x, dy, dw []T, n int, g Geom) {
	in, p := g.C*g.H*g.W, g.colCols()
	size, count := chunks(n, p)
	parallel.Sum(dw, count, func(lo, hi int, acc []T) {
		col := make([]T, g.colRows()*size*p)
		dyc := make([]T, g.Cout*size*p)
		for ch := lo; ch < hi; ch++ {
			i0, i1 := ch*size, min(n, (ch+1)*size)
			cols := (i1 - i0) * p
			for i := i0; i < i1; i++ {
				im2col(x[i*in:(i+1)*in], g, col, cols, (i-i0)*p)
			}
			planes(dy, dyc, i0, i1, g.Cout, p, true)
			gemm.Mul(false, true, g.Cout, g.colRows(), cols, 1, dyc[:g.Cout*cols], col[:g.colRows()*cols], 1, acc)
		}
	})
}
