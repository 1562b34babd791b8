package nn

import (
	"fmt"
	"hash"
	"sync"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Conv2d is the one convolution of advbench: x (N, C, H, W) convolved with
// w (Cout, C, k, k), square kernel, the given stride and zero padding, no
// bias, as PyTorch's Conv2d. Forward and both backward passes are im2col +
// GEMM per image, parallel over images. A faster kernel replaces it here.
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

// direct reports whether im2col is the identity (1x1, stride 1, no padding).
func (g convGeom) direct() bool { return g.k == 1 && g.stride == 1 && g.pad == 0 }

func (g convGeom) String() string {
	return fmt.Sprintf("%dx%dx%d->%d k%d s%d p%d", g.c, g.h, g.w, g.cout, g.k, g.stride, g.pad)
}

// im2col writes the (C·k·k) × (Ho·Wo) patch matrix of one image.
func im2col[T Float](x []T, g convGeom, col []T) {
	ho, wo := g.outH(), g.outW()
	for c := 0; c < g.c; c++ {
		plane := x[c*g.h*g.w : (c+1)*g.h*g.w]
		for ky := 0; ky < g.k; ky++ {
			for kx := 0; kx < g.k; kx++ {
				row := col[((c*g.k+ky)*g.k+kx)*ho*wo:][:ho*wo]
				for oy := 0; oy < ho; oy++ {
					iy := oy*g.stride - g.pad + ky
					dst := row[oy*wo : (oy+1)*wo]
					if iy < 0 || iy >= g.h {
						clear(dst)
						continue
					}
					src := plane[iy*g.w : (iy+1)*g.w]
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

// col2im adds the patch matrix back into one image's gradient (dx += ...).
func col2im[T Float](col []T, g convGeom, dx []T) {
	ho, wo := g.outH(), g.outW()
	for c := 0; c < g.c; c++ {
		plane := dx[c*g.h*g.w : (c+1)*g.h*g.w]
		for ky := 0; ky < g.k; ky++ {
			for kx := 0; kx < g.k; kx++ {
				row := col[((c*g.k+ky)*g.k+kx)*ho*wo:][:ho*wo]
				for oy := 0; oy < ho; oy++ {
					iy := oy*g.stride - g.pad + ky
					if iy < 0 || iy >= g.h {
						continue
					}
					dst := plane[iy*g.w : (iy+1)*g.w]
					for ox, v := range row[oy*wo : (oy+1)*wo] {
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

// convForward computes y = conv(x, w) for n images.
func convForward[T Float](x, w, y []T, n int, g convGeom) {
	in, out := g.c*g.h*g.w, g.cout*g.colCols()
	ParallelFor(n, func(lo, hi int) {
		var col []T
		if !g.direct() {
			col = make([]T, g.colRows()*g.colCols())
		}
		for i := lo; i < hi; i++ {
			src := x[i*in : (i+1)*in]
			if !g.direct() {
				im2col(src, g, col)
				src = col
			}
			gemm(false, false, g.cout, g.colCols(), g.colRows(), 1, w, src, 0, y[i*out:(i+1)*out])
		}
	})
}

// convBackwardData computes dx from w and dy.
func convBackwardData[T Float](w, dy, dx []T, n int, g convGeom) {
	in, out := g.c*g.h*g.w, g.cout*g.colCols()
	ParallelFor(n, func(lo, hi int) {
		col := make([]T, g.colRows()*g.colCols())
		for i := lo; i < hi; i++ {
			dst := dx[i*in : (i+1)*in]
			if g.direct() {
				gemm(true, false, g.colRows(), g.colCols(), g.cout, 1, w, dy[i*out:(i+1)*out], 0, dst)
				continue
			}
			gemm(true, false, g.colRows(), g.colCols(), g.cout, 1, w, dy[i*out:(i+1)*out], 0, col)
			clear(dst)
			col2im(col, g, dst)
		}
	})
}

// convBackwardWeight computes dw = Σ_images dy·colᵀ.
func convBackwardWeight[T Float](x, dy, dw []T, n int, g convGeom) {
	in, out := g.c*g.h*g.w, g.cout*g.colCols()
	var parts [][]T
	var mu sync.Mutex
	ParallelFor(n, func(lo, hi int) {
		acc := make([]T, len(dw))
		var col []T
		if !g.direct() {
			col = make([]T, g.colRows()*g.colCols())
		}
		for i := lo; i < hi; i++ {
			src := x[i*in : (i+1)*in]
			if !g.direct() {
				im2col(src, g, col)
				src = col
			}
			gemm(false, true, g.cout, g.colRows(), g.colCols(), 1, dy[i*out:(i+1)*out], src, 1, acc)
		}
		mu.Lock()
		parts = append(parts, acc)
		mu.Unlock()
	})
	clear(dw)
	for _, p := range parts {
		for i, v := range p {
			dw[i] += v
		}
	}
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
	b, err := dense(op.String(), vals[1])
	if err != nil {
		return nil, err
	}
	n := vals[op.batchInput()].Shape()[0]
	out := newLike(a, op.outShape(n)...)
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
