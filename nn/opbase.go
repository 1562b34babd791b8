package nn

import (
	"fmt"
	"hash"
	"hash/fnv"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// pureOp holds the methods every advbench op shares: it returns a fresh
// value (no pointer into an input), overwrites nothing and calls no extern.
type pureOp struct{}

func (pureOp) ReturnsPtr() bool     { return false }
func (pureOp) CallsExtern() bool    { return false }
func (pureOp) OverwritesInput() int { return -1 }

// hashOp hashes an op by its String(), which must identify it fully.
func hashOp(op fmt.Stringer, h hash.Hash) { fmt.Fprint(h, op.String()) }

func hash32(op fmt.Stringer) uint32 {
	h := fnv.New32a()
	hashOp(op, h)
	return h.Sum32()
}

// dense returns v as a *tensor.Dense or an error naming the op.
func dense(op string, v gorgonia.Value) (*tensor.Dense, error) {
	d, ok := v.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("nn: %s: want *tensor.Dense, got %T", op, v)
	}
	return d, nil
}

// newLike returns a zero tensor of the given shape and the dtype of t.
func newLike(t tensor.Tensor, shape ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.Of(t.Dtype()))
}

// Preallocated returns prealloc (the buffer an executor offers an op's
// UsePreallocDo) as a dense tensor of the given dtype and shape, or an
// error naming the op.
func Preallocated(op string, prealloc gorgonia.Value, dt tensor.Dtype, shape tensor.Shape) (*tensor.Dense, error) {
	d, ok := prealloc.(*tensor.Dense)
	if !ok || d.Dtype() != dt || !d.Shape().Eq(shape) {
		return nil, fmt.Errorf("%s: preallocated value %v does not fit %v %v", op, prealloc.Shape(), dt, shape)
	}
	return d, nil
}
