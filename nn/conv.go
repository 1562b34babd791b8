package nn

import (
	"fmt"
	"hash"

	"github.com/advbench/advbench/internal/gemm"
	"github.com/advbench/advbench/internal/parallel"
	"github.com/advbench/advbench/internal/sgemm"
	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Conv2d is the one convolution of advbench: x (N, C, H, W) convolved with
// w (Cout, C, k, k), square kernel, the given stride and zero padding, no
// bias, as PyTorch's Conv2d. Forward and both backward passes are im2col +
// GEMM over chunks of images (at least chunkColumns output positions per
// GEMM), chunks in parallel. A faster kernel replaces it here.
func Conv2d(x, w *gorgonia.Node, stride, pad int) (*gorgonia.Node, error) {
	if x.Dims() != 4 || w.Dims() != 4 {
		return nil, fmt.Errorf("nn: conv2d: want x (N,C,H,W) and w (Cout,C,k,k), got %v and %v", x.Shape(), w.Shape())
	}
	xs, ws := x.Shape(), w.Shape()
	if ws[1] != xs[1] || ws[2] != ws[3] {
		return nil, fmt.Errorf("nn: conv2d: weight %v does not fit input %v", ws, xs)
	}
	g := convGeom{c: xs[1], h: xs[2], w: xs[3], cout: ws[0], k: ws[2], stride: stride, pad: pad}
	if g.outH() < 1 || g.outW() < 1 || stride < 1 || pad < 0 {
		return nil, fmt.Errorf("nn: conv2d: kernel %d stride %d pad %d does not fit %dx%d input", g.k, stride, pad, g.h, g.w)
	}
	return gorgonia.ApplyOp(&convOp{g: g}, x, w)
}

// convGeom is the geometry of one convolution (per image).
type convGeom struct{ c, h, w, cout, k, stride, pad int }

func (g convGeom) outH() int { return (g.h+2*g.pad-g.k)/g.stride + 1 }
func (g convGeom) outW() int { return (g.w+2*g.pad-g.k)/g.stride + 1 }

// rows and cols of one image's im2col matrix.
func (g convGeom) colRows() int { return g.c * g.k * g.k }
func (g convGeom) colCols() int { return g.outH() * g.outW() }

func (g convGeom) String() string {
	return fmt.Sprintf("%dx%dx%d->%d k%d s%d p%d", g.c, g.h, g.w, g.cout, g.k, g.stride, g.pad)
}

// im2col writes the (C·k·k) × (Ho·Wo) patch matrix of one image into col,
// row r at col[r*ld+off : r*ld+off+Ho·Wo] (ld ≥ Ho·Wo lets several images sit
// side by side).
func im2col[T Float](x []T, g convGeom, col []T, ld, off int) {
	ho, wo := g.outH(), g.outW()
	for c := 0; c < g.c; c++ {
		plane := x[c*g.h*g.w : (c+1)*g.h*g.w]
		for ky := 0; ky < g.k; ky++ {
			for kx := 0; kx < g.k; kx++ {
				row := col[((c*g.k+ky)*g.k+kx)*ld+off:][:ho*wo]
				for oy := 0; oy < ho; oy++ {
					iy := oy*g.stride - g.pad + ky
					dst := row[oy*wo : (oy+1)*wo]
					if iy < 0 || iy >= g.h {
						clear(dst)
						continue
					}
					src := plane[iy*g.w : (iy+1)*g.w]
					if g.stride == 1 {
						// Output columns [lo, hi) read src[lo-pad+kx ...] contiguously.
						lo, hi := max(0, g.pad-kx), min(wo, g.w+g.pad-kx)
						clear(dst[:lo])
						copy(dst[lo:hi], src[lo-g.pad+kx:])
						clear(dst[hi:])
						continue
					}
					for ox := range dst {
						ix := ox*g.stride - g.pad + kx
						if ix < 0 || ix >= g.w {
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
func col2im[T Float](col []T, g convGeom, dx []T, ld, off int) {
	ho, wo := g.outH(), g.outW()
	for c := 0; c < g.c; c++ {
		plane := dx[c*g.h*g.w : (c+1)*g.h*g.w]
		for ky := 0; ky < g.k; ky++ {
			for kx := 0; kx < g.k; kx++ {
				row := col[((c*g.k+ky)*g.k+kx)*ld+off:][:ho*wo]
				for oy := 0; oy < ho; oy++ {
					iy := oy*g.stride - g.pad + ky
					if iy < 0 || iy >= g.h {
						continue
					}
					dst := plane[iy*g.w : (iy+1)*g.w]
					src := row[oy*wo : (oy+1)*wo]
					if g.stride == 1 {
						lo, hi := max(0, g.pad-kx), min(wo, g.w+g.pad-kx)
						out := dst[lo-g.pad+kx:]
						for j, v := range src[lo:hi] {
							out[j] += v
						}
						continue
					}
					for ox, v := range src {
						ix := ox*g.stride - g.pad + kx
						if ix >= 0 && ix < g.w {
							dst[ix] += v
						}
					}
				}
			}
		}
	}
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
func planes[T Float](t []T, m []T, i0, i1, c, p int, toMatrix bool) {
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

// convForward computes y = conv(x, w) for n images, a chunk of images per GEMM.
func convForward[T Float](x, w, y []T, n int, g convGeom) {
	in, p := g.c*g.h*g.w, g.colCols()
	size, count := chunks(n, p)
	parallel.For(count, func(lo, hi int) {
		col := make([]T, g.colRows()*size*p)
		out := make([]T, g.cout*size*p)
		for ch := lo; ch < hi; ch++ {
			i0, i1 := ch*size, min(n, (ch+1)*size)
			cols := (i1 - i0) * p
			for i := i0; i < i1; i++ {
				im2col(x[i*in:(i+1)*in], g, col, cols, (i-i0)*p)
			}
			gemm.Mul(false, false, g.cout, cols, g.colRows(), 1, w, col[:g.colRows()*cols], 0, out[:g.cout*cols])
			planes(y, out, i0, i1, g.cout, p, false)
		}
	})
}

// convBackwardData computes dx from w and dy.
func convBackwardData[T Float](w, dy, dx []T, n int, g convGeom) {
	in, p := g.c*g.h*g.w, g.colCols()
	size, count := chunks(n, p)
	parallel.For(count, func(lo, hi int) {
		col := make([]T, g.colRows()*size*p)
		dyc := make([]T, g.cout*size*p)
		for ch := lo; ch < hi; ch++ {
			i0, i1 := ch*size, min(n, (ch+1)*size)
			cols := (i1 - i0) * p
			planes(dy, dyc, i0, i1, g.cout, p, true)
			gemm.Mul(true, false, g.colRows(), cols, g.cout, 1, w, dyc[:g.cout*cols], 0, col[:g.colRows()*cols])
			for i := i0; i < i1; i++ {
				dst := dx[i*in : (i+1)*in]
				clear(dst)
				col2im(col, g, dst, cols, (i-i0)*p)
			}
		}
	})
}

// convBackwardWeight computes dw = Σ_chunks dy_chunk · col_chunkᵀ.
func convBackwardWeight[T Float](x, dy, dw []T, n int, g convGeom) {
	in, p := g.c*g.h*g.w, g.colCols()
	size, count := chunks(n, p)
	parallel.Sum(dw, count, func(lo, hi int, acc []T) {
		col := make([]T, g.colRows()*size*p)
		dyc := make([]T, g.cout*size*p)
		for ch := lo; ch < hi; ch++ {
			i0, i1 := ch*size, min(n, (ch+1)*size)
			cols := (i1 - i0) * p
			for i := i0; i < i1; i++ {
				im2col(x[i*in:(i+1)*in], g, col, cols, (i-i0)*p)
			}
			planes(dy, dyc, i0, i1, g.cout, p, true)
			gemm.Mul(false, true, g.cout, g.colRows(), cols, 1, dyc[:g.cout*cols], col[:g.colRows()*cols], 1, acc)
		}
	})
}

// convPart says which of the convolution's three computations an op does.
type convPart int

const (
	convY  convPart = iota // (x, w) -> y
	convDx                 // (w, dy) -> dx
	convDw                 // (x, dy) -> dw
)

// convOp is one of the convolution's computations; all take two 4-D inputs.
type convOp struct {
	pureOp
	g    convGeom
	part convPart
}

func (op *convOp) Arity() int { return 2 }
func (op *convOp) Type() hm.Type {
	t := gorgonia.TensorType{Dims: 4, Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t, t)
}
func (op *convOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, ok := in[op.batchInput()].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("nn: %s: cannot infer shape from %T", op, in[op.batchInput()])
	}
	return op.outShape(s[0]), nil
}

// batchInput is the input whose first dimension is the batch.
func (op *convOp) batchInput() int {
	if op.part == convDx {
		return 1
	}
	return 0
}

func (op *convOp) outShape(n int) tensor.Shape {
	switch op.part {
	case convDx:
		return tensor.Shape{n, op.g.c, op.g.h, op.g.w}
	case convDw:
		return tensor.Shape{op.g.cout, op.g.c, op.g.k, op.g.k}
	}
	return tensor.Shape{n, op.g.cout, op.g.outH(), op.g.outW()}
}

func (op *convOp) String() string {
	return [...]string{"conv2d", "conv2d-dx", "conv2d-dw"}[op.part] + "(" + op.g.String() + ")"
}
func (op *convOp) WriteHash(h hash.Hash) { hashOp(op, h) }
func (op *convOp) Hashcode() uint32      { return hash32(op) }
func (op *convOp) DiffWRT(int) []bool    { return []bool{true, true} }

func (op *convOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	a, err := dense(op.String(), vals[0])
	if err != nil {
		return nil, err
	}
	return op.UsePreallocDo(newLike(a, op.outShape(vals[op.batchInput()].Shape()[0])...), vals...)
}

// UsePreallocDo writes the result into prealloc (any contents: every element
// is overwritten).
func (op *convOp) UsePreallocDo(prealloc gorgonia.Value, vals ...gorgonia.Value) (gorgonia.Value, error) {
	a, err := dense(op.String(), vals[0])
	if err != nil {
		return nil, err
	}
	b, err := dense(op.String(), vals[1])
	if err != nil {
		return nil, err
	}
	n := vals[op.batchInput()].Shape()[0]
	out, err := Preallocated("nn: "+op.String(), prealloc, a.Dtype(), op.outShape(n))
	if err != nil {
		return nil, err
	}
	switch ad := a.Data().(type) {
	case []float32:
		convDo(op, ad, b.Data().([]float32), out.Data().([]float32), n)
	case []float64:
		convDo(op, ad, b.Data().([]float64), out.Data().([]float64), n)
	default:
		return nil, fmt.Errorf("nn: %s: unsupported dtype %v", op, a.Dtype())
	}
	return out, nil
}

func convDo[T Float](op *convOp, a, b, out []T, n int) {
	if a32, ok := any(a).([]float32); ok && sgemm.Fast() {
		b32, out32 := any(b).([]float32), any(out).([]float32)
		switch op.part {
		case convY:
			convForwardFast(a32, b32, out32, n, op.g)
			return
		case convDx:
			convBackwardDataFast(a32, b32, out32, n, op.g)
			return
		case convDw:
			convBackwardWeightFast(a32, b32, out32, n, op.g)
			return
		}
	}
	switch op.part {
	case convY:
		convForward(a, b, out, n, op.g)
	case convDx:
		convBackwardData(a, b, out, n, op.g)
	case convDw:
		convBackwardWeight(a, b, out, n, op.g)
	}
}

func (op *convOp) SymDiff(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	dx, err := gorgonia.ApplyOp(&convOp{g: op.g, part: convDx}, in[1], grad)
	if err != nil {
		return nil, err
	}
	dw, err := gorgonia.ApplyOp(&convOp{g: op.g, part: convDw}, in[0], grad)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{dx, dw}, nil
}
