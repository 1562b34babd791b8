package nn

import (
	"fmt"
	"hash"
	"hash/fnv"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// PureOp holds the gorgonia.Op methods every advbench op shares (embed it):
// the op returns a fresh value (no pointer into an input), overwrites no
// input and calls no extern.
type PureOp struct{}

// ReturnsPtr reports false: the result is a value of its own.
func (PureOp) ReturnsPtr() bool { return false }

// CallsExtern reports false: the op runs in Go.
func (PureOp) CallsExtern() bool { return false }

// OverwritesInput reports -1: no input is written.
func (PureOp) OverwritesInput() int { return -1 }

// hashOp hashes an op by its String(), which must identify it fully.
func hashOp(op fmt.Stringer, h hash.Hash) { fmt.Fprint(h, op.String()) }

// Hashcode returns the 32-bit FNV-1a hash of what op's WriteHash writes:
// the Hashcode of every advbench op.
func Hashcode(op interface{ WriteHash(hash.Hash) }) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
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

// NewLike returns a zero tensor of the given shape and the dtype of t.
func NewLike(t tensor.Tensor, shape ...int) *tensor.Dense {
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
