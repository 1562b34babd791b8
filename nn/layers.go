package nn

import (
	"fmt"
	"hash"

	"github.com/advbench/advbench/internal/gemm"
	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ---- global average pool: (N, C, H, W) -> (N, C) ----

// GlobalAvgPool averages each (n, c) plane (the reference's 4x4 average pool
// on a 4x4 map). Gorgonia's own GlobalAveragePool2D cannot be differentiated
// and its interior-axis means are wrong (GORGONIA.md traps 1 and 5).
func GlobalAvgPool(x *gorgonia.Node) (*gorgonia.Node, error) {
	if x.Dims() != 4 {
		return nil, fmt.Errorf("nn: global average pool: want (N,C,H,W), got %v", x.Shape())
	}
	s := x.Shape()
	return gorgonia.ApplyOp(&poolOp{c: s[1], h: s[2], w: s[3]}, x)
}

type poolOp struct {
	PureOp
	c, h, w int
}

func (op *poolOp) Arity() int { return 1 }
func (op *poolOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(gorgonia.TensorType{Dims: 4, Of: a}, gorgonia.TensorType{Dims: 2, Of: a})
}
func (op *poolOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{in[0].(tensor.Shape)[0], op.c}, nil
}
func (op *poolOp) String() string        { return fmt.Sprintf("avgpool(%dx%dx%d)", op.c, op.h, op.w) }
func (op *poolOp) WriteHash(h hash.Hash) { hashOp(op, h) }
func (op *poolOp) Hashcode() uint32      { return Hashcode(op) }
func (op *poolOp) DiffWRT(int) []bool    { return []bool{true} }
func (op *poolOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	x := vals[0].(tensor.Tensor)
	n, hw := x.Shape()[0], op.h*op.w
	y := NewLike(x, n, op.c)
	switch xd := x.Data().(type) {
	case []float32:
		poolForward(xd, y.Data().([]float32), hw)
	case []float64:
		poolForward(xd, y.Data().([]float64), hw)
	}
	return y, nil
}
func (op *poolOp) SymDiff(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	dx, err := gorgonia.ApplyOp(&poolGradOp{poolOp: *op}, grad)
	return gorgonia.Nodes{dx}, err
}

func poolForward[T Float](x, y []T, hw int) {
	for p := range y {
		s := 0.0
		for _, v := range x[p*hw : (p+1)*hw] {
			s += float64(v)
		}
		y[p] = T(s / float64(hw))
	}
}

// poolGradOp spreads dy (N, C) evenly over each plane.
type poolGradOp struct{ poolOp }

func (op *poolGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(gorgonia.TensorType{Dims: 2, Of: a}, gorgonia.TensorType{Dims: 4, Of: a})
}
func (op *poolGradOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{in[0].(tensor.Shape)[0], op.c, op.h, op.w}, nil
}
func (op *poolGradOp) String() string        { return "avgpool-grad" + op.poolOp.String() }
func (op *poolGradOp) WriteHash(h hash.Hash) { hashOp(op, h) }
func (op *poolGradOp) Hashcode() uint32      { return Hashcode(op) }
func (op *poolGradOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	dy := vals[0].(tensor.Tensor)
	n, hw := dy.Shape()[0], op.h*op.w
	dx := NewLike(dy, n, op.c, op.h, op.w)
	switch d := dy.Data().(type) {
	case []float32:
		poolBackward(d, dx.Data().([]float32), hw)
	case []float64:
		poolBackward(d, dx.Data().([]float64), hw)
	}
	return dx, nil
}

func poolBackward[T Float](dy, dx []T, hw int) {
	for p, g := range dy {
		v := g / T(hw)
		for i := range dx[p*hw : (p+1)*hw] {
			dx[p*hw+i] = v
		}
	}
}

// ---- linear: y = x·Wᵀ + b, x (N, in), W (out, in), b (out) ----

// Linear is PyTorch's nn.Linear.
func Linear(x, w, b *gorgonia.Node) (*gorgonia.Node, error) {
	if x.Dims() != 2 || w.Dims() != 2 || b.Dims() != 1 || x.Shape()[1] != w.Shape()[1] || b.Shape()[0] != w.Shape()[0] {
		return nil, fmt.Errorf("nn: linear: shapes x %v, weight %v, bias %v do not fit", x.Shape(), w.Shape(), b.Shape())
	}
	return gorgonia.ApplyOp(&linearOp{in: w.Shape()[1], out: w.Shape()[0]}, x, w, b)
}

// linearPart says which output a linear op computes.
type linearPart int

const (
	linY  linearPart = iota // (x, W, b) -> y
	linDx                   // (W, dy) -> dx = dy·W
	linDw                   // (x, dy) -> dW = dyᵀ·x
	linDb                   // (dy) -> db = Σ_n dy
)

type linearOp struct {
	PureOp
	in, out int
	part    linearPart
}

func (op *linearOp) Arity() int {
	return [...]int{3, 2, 2, 1}[op.part]
}
func (op *linearOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	m, v := gorgonia.TensorType{Dims: 2, Of: a}, gorgonia.TensorType{Dims: 1, Of: a}
	switch op.part {
	case linY:
		return hm.NewFnType(m, m, v, m)
	case linDb:
		return hm.NewFnType(m, v)
	}
	return hm.NewFnType(m, m, m)
}
func (op *linearOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	switch op.part {
	case linY:
		return tensor.Shape{in[0].(tensor.Shape)[0], op.out}, nil
	case linDx:
		return tensor.Shape{in[1].(tensor.Shape)[0], op.in}, nil
	case linDw:
		return tensor.Shape{op.out, op.in}, nil
	}
	return tensor.Shape{op.out}, nil
}
func (op *linearOp) String() string        { return fmt.Sprintf("linear-%d(%d->%d)", op.part, op.in, op.out) }
func (op *linearOp) WriteHash(h hash.Hash) { hashOp(op, h) }
func (op *linearOp) Hashcode() uint32      { return Hashcode(op) }
func (op *linearOp) DiffWRT(int) []bool    { return []bool{true, true, true} }
func (op *linearOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	switch vals[0].Dtype() {
	case tensor.Float32:
		return linearDo[float32](op, vals)
	case tensor.Float64:
		return linearDo[float64](op, vals)
	}
	return nil, fmt.Errorf("nn: %s: unsupported dtype %v", op, vals[0].Dtype())
}

func linearDo[T Float](op *linearOp, vals []gorgonia.Value) (gorgonia.Value, error) {
	data := func(i int) []T { return vals[i].Data().([]T) }
	switch op.part {
	case linY:
		n := vals[0].Shape()[0]
		y := make([]T, n*op.out)
		b := data(2)
		for i := 0; i < n; i++ {
			copy(y[i*op.out:(i+1)*op.out], b)
		}
		gemm.Mul(false, true, n, op.out, op.in, 1, data(0), data(1), 1, y)
		return tensor.New(tensor.WithShape(n, op.out), tensor.WithBacking(y)), nil
	case linDx:
		n := vals[1].Shape()[0]
		dx := make([]T, n*op.in)
		gemm.Mul(false, false, n, op.in, op.out, 1, data(1), data(0), 0, dx)
		return tensor.New(tensor.WithShape(n, op.in), tensor.WithBacking(dx)), nil
	case linDw:
		n := vals[0].Shape()[0]
		dw := make([]T, op.out*op.in)
		gemm.Mul(true, false, op.out, op.in, n, 1, data(1), data(0), 0, dw)
		return tensor.New(tensor.WithShape(op.out, op.in), tensor.WithBacking(dw)), nil
	}
	dy := data(0)
	db := make([]T, op.out)
	for i, v := range dy {
		db[i%op.out] += v
	}
	return tensor.New(tensor.WithShape(op.out), tensor.WithBacking(db)), nil
}

func (op *linearOp) SymDiff(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	part := func(p linearPart, args ...*gorgonia.Node) (*gorgonia.Node, error) {
		return gorgonia.ApplyOp(&linearOp{in: op.in, out: op.out, part: p}, args...)
	}
	dx, err := part(linDx, in[1], grad)
	if err != nil {
		return nil, err
	}
	dw, err := part(linDw, in[0], grad)
	if err != nil {
		return nil, err
	}
	db, err := part(linDb, grad)
	if err != nil {
		return nil, err
	}
	return gorgonia.Nodes{dx, dw, db}, nil
}

// ---- per-channel input normalisation with constants ----

// Standardize returns (x - mean_c) / std_c for constant per-channel mean and
// std: the model's built-in input normalisation (attacks work in [0,1]).
func Standardize(x *gorgonia.Node, mean, std []float64) (*gorgonia.Node, error) {
	if x.Dims() != 4 || x.Shape()[1] != len(mean) || len(std) != len(mean) {
		return nil, fmt.Errorf("nn: standardize: input %v does not have %d channels", x.Shape(), len(mean))
	}
	return gorgonia.ApplyOp(&standardizeOp{mean: mean, std: std}, x)
}

type standardizeOp struct {
	PureOp
	mean, std []float64
	grad      bool // the backward: dx = dy / std
}

func (op *standardizeOp) Arity() int { return 1 }
func (op *standardizeOp) Type() hm.Type {
	t := gorgonia.TensorType{Dims: 4, Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t)
}
func (op *standardizeOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}
func (op *standardizeOp) String() string {
	return fmt.Sprintf("standardize(grad=%v,%v,%v)", op.grad, op.mean, op.std)
}
func (op *standardizeOp) WriteHash(h hash.Hash) { hashOp(op, h) }
func (op *standardizeOp) Hashcode() uint32      { return Hashcode(op) }
func (op *standardizeOp) DiffWRT(int) []bool    { return []bool{true} }
func (op *standardizeOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	x := vals[0].(tensor.Tensor)
	s := x.Shape()
	y := NewLike(x, s...)
	c, hw := s[1], s[2]*s[3]
	switch xd := x.Data().(type) {
	case []float32:
		standardize(xd, y.Data().([]float32), c, hw, op.mean, op.std, op.grad)
	case []float64:
		standardize(xd, y.Data().([]float64), c, hw, op.mean, op.std, op.grad)
	}
	return y, nil
}
func (op *standardizeOp) SymDiff(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	dx, err := gorgonia.ApplyOp(&standardizeOp{mean: op.mean, std: op.std, grad: true}, grad)
	return gorgonia.Nodes{dx}, err
}

func standardize[T Float](x, y []T, c, hw int, mean, std []float64, grad bool) {
	for p := 0; p < len(x)/hw; p++ {
		ch := p % c
		scale, shift := T(1/std[ch]), T(-mean[ch]/std[ch])
		if grad {
			shift = 0
		}
		for i, v := range x[p*hw : (p+1)*hw] {
			y[p*hw+i] = v*scale + shift
		}
	}
}

func scalarOf[T Float](v gorgonia.Value) T {
	switch d := v.Data().(type) {
	case float32:
		return T(d)
	case float64:
		return T(d)
	case []float32:
		return T(d[0])
	case []float64:
		return T(d[0])
	}
	panic(fmt.Sprintf("nn: not a scalar: %T", v.Data()))
}

func scalarValue[T Float](v T) gorgonia.Value {
	switch x := any(v).(type) {
	case float32:
		return gorgonia.NewF32(x)
	case float64:
		return gorgonia.NewF64(x)
	}
	panic("unreachable")
}
