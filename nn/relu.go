package nn

import (
	"fmt"
	"hash"

	"github.com/advbench/advbench/internal/parallel"
	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ReLU returns max(x, 0) elementwise. Its backward pass reads the output:
// dx = dy where y > 0, else 0 (the subgradient 0 at x = 0, as PyTorch).
func ReLU(x *gorgonia.Node) (*gorgonia.Node, error) {
	return gorgonia.ApplyOp(&reluOp{dims: x.Dims()}, x)
}

type reluOp struct {
	PureOp
	dims int
	grad bool // (y, dy) -> dx
}

func (op *reluOp) Arity() int {
	if op.grad {
		return 2
	}
	return 1
}
func (op *reluOp) Type() hm.Type {
	t := gorgonia.TensorType{Dims: op.dims, Of: hm.TypeVariable('a')}
	if op.grad {
		return hm.NewFnType(t, t, t)
	}
	return hm.NewFnType(t, t)
}
func (op *reluOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("nn: relu: cannot infer shape from %T", in[0])
	}
	return s.Clone(), nil
}
func (op *reluOp) String() string        { return fmt.Sprintf("relu(grad=%v)", op.grad) }
func (op *reluOp) WriteHash(h hash.Hash) { hashOp(op, h) }
func (op *reluOp) Hashcode() uint32      { return Hashcode(op) }
func (op *reluOp) DiffWRT(int) []bool    { return []bool{true} }
func (op *reluOp) SymDiff(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	dx, err := gorgonia.ApplyOp(&reluOp{dims: op.dims, grad: true}, out, grad)
	return gorgonia.Nodes{dx}, err
}
func (op *reluOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	x := vals[0].(tensor.Tensor)
	y := NewLike(x, x.Shape().Clone()...)
	switch xd := x.Data().(type) {
	case []float32:
		reluDo(op, xd, vals, y.Data().([]float32))
	case []float64:
		reluDo(op, xd, vals, y.Data().([]float64))
	default:
		return nil, fmt.Errorf("nn: relu: unsupported dtype %v", x.Dtype())
	}
	return y, nil
}

func reluDo[T Float](op *reluOp, first []T, vals []gorgonia.Value, out []T) {
	const block = 1 << 14
	var dy []T
	if op.grad {
		dy = vals[1].Data().([]T)
	}
	parallel.ForBlocks(len(first), block, func(lo, hi int) {
		if !op.grad {
			for i := lo; i < hi; i++ {
				out[i] = max(first[i], 0)
			}
			return
		}
		for i := lo; i < hi; i++ {
			if first[i] > 0 {
				out[i] = dy[i]
			}
		}
	})
}
