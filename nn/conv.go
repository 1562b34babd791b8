package nn

import (
	"fmt"
	"hash"

	"github.com/advbench/advbench/internal/conv"
	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Conv2d is the one convolution of advbench: x (N, C, H, W) convolved with
// w (Cout, C, k, k), square kernel, the given stride and zero padding, no
// bias, as PyTorch's Conv2d. The op checks shapes and builds its backward
// graph; the three passes (forward, input and weight gradient) are package
// internal/conv's kernels: in float32 on an assembly GEMM kernel, packed
// weights times patches read in place from padded images (the input
// gradient as convolutions of the output gradient, one per pixel parity at
// stride 2), otherwise im2col and GEMM.
func Conv2d(x, w *gorgonia.Node, stride, pad int) (*gorgonia.Node, error) {
	return conv2d(x, w, stride, pad, false)
}

// conv2d is Conv2d, its forward pass and input gradient in BF16 precision
// when bf16.
func conv2d(x, w *gorgonia.Node, stride, pad int, bf16 bool) (*gorgonia.Node, error) {
	if x.Dims() != 4 || w.Dims() != 4 {
		return nil, fmt.Errorf("nn: conv2d: want x (N,C,H,W) and w (Cout,C,k,k), got %v and %v", x.Shape(), w.Shape())
	}
	xs, ws := x.Shape(), w.Shape()
	if ws[1] != xs[1] || ws[2] != ws[3] {
		return nil, fmt.Errorf("nn: conv2d: weight %v does not fit input %v", ws, xs)
	}
	g := conv.Geom{C: xs[1], H: xs[2], W: xs[3], Cout: ws[0], K: ws[2], Stride: stride, Pad: pad}
	if stride < 1 || pad < 0 || g.OutH() < 1 || g.OutW() < 1 { // stride first: OutH divides by it
		return nil, fmt.Errorf("nn: conv2d: kernel %d stride %d pad %d does not fit %dx%d input", g.K, stride, pad, g.H, g.W)
	}
	return gorgonia.ApplyOp(&convOp{g: g, bf16: bf16}, x, w)
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
	PureOp
	g    conv.Geom
	part convPart
	bf16 bool // float32 forward pass and input gradient in BF16 precision
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
		return tensor.Shape{n, op.g.C, op.g.H, op.g.W}
	case convDw:
		return tensor.Shape{op.g.Cout, op.g.C, op.g.K, op.g.K}
	}
	return tensor.Shape{n, op.g.Cout, op.g.OutH(), op.g.OutW()}
}

func (op *convOp) String() string {
	name := [...]string{"conv2d", "conv2d-dx", "conv2d-dw"}[op.part]
	if op.bf16 {
		name += "-bf16"
	}
	return name + "(" + op.g.String() + ")"
}
func (op *convOp) WriteHash(h hash.Hash) { hashOp(op, h) }
func (op *convOp) Hashcode() uint32      { return Hashcode(op) }
func (op *convOp) DiffWRT(int) []bool    { return []bool{true, true} }

func (op *convOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	a, err := dense(op.String(), vals[0])
	if err != nil {
		return nil, err
	}
	return op.UsePreallocDo(NewLike(a, op.outShape(vals[op.batchInput()].Shape()[0])...), vals...)
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
		if op.bf16 && op.part == convY {
			conv.ForwardBF16(ad, b.Data().([]float32), out.Data().([]float32), n, op.g)
		} else if op.bf16 && op.part == convDx {
			conv.BackwardDataBF16(ad, b.Data().([]float32), out.Data().([]float32), n, op.g)
		} else {
			convDo(op, ad, b.Data().([]float32), out.Data().([]float32), n)
		}
	case []float64:
		convDo(op, ad, b.Data().([]float64), out.Data().([]float64), n)
	default:
		return nil, fmt.Errorf("nn: %s: unsupported dtype %v", op, a.Dtype())
	}
	return out, nil
}

// convDo runs the op's pass on inputs a, b into out, for n images.
func convDo[T Float](op *convOp, a, b, out []T, n int) {
	switch op.part {
	case convY:
		conv.Forward(a, b, out, n, op.g)
	case convDx:
		conv.BackwardData(a, b, out, n, op.g)
	case convDw:
		conv.BackwardWeight(a, b, out, n, op.g)
	}
}

func (op *convOp) SymDiff(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	dx, err := gorgonia.ApplyOp(&convOp{g: op.g, part: convDx, bf16: op.bf16}, in[1], grad)
	if err != nil {
		return nil, err
	}
	dw, err := gorgonia.ApplyOp(&convOp{g: op.g, part: convDw}, in[0], grad)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{dx, dw}, nil
}
