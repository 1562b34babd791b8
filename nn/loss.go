package nn

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Loss names a classification loss of logits and labels, averaged over the
// batch. Attacks maximise it.
type Loss int

const (
	// CE is the softmax cross-entropy −log softmax(z)[y].
	CE Loss = iota
	// CWMargin is the Carlini-Wagner margin max_{j≠y} z_j − z_y: positive
	// exactly when the example is misclassified.
	CWMargin
)

// String returns "ce" or "cw".
func (l Loss) String() string {
	if l == CWMargin {
		return "cw"
	}
	return "ce"
}

// ParseLoss parses "ce" or "cw".
func ParseLoss(s string) (Loss, error) {
	switch s {
	case "ce", "":
		return CE, nil
	case "cw":
		return CWMargin, nil
	}
	return 0, fmt.Errorf("nn: loss %q: want ce or cw", s)
}

// ApplyLoss returns the batch-mean loss of the given kind.
func ApplyLoss(kind Loss, logits, labels *gorgonia.Node) (*gorgonia.Node, error) {
	if kind == CWMargin {
		return Margin(logits, labels)
	}
	return CrossEntropy(logits, labels)
}

// Margin returns the batch mean of max_{j≠y} z_j − z_y, labels as in CrossEntropy.
func Margin(logits, labels *gorgonia.Node) (*gorgonia.Node, error) {
	if logits.Dims() != 2 || labels.Dims() != 1 || labels.Shape()[0] != logits.Shape()[0] || logits.Shape()[1] < 2 {
		return nil, fmt.Errorf("nn: margin: logits %v and labels %v do not fit", logits.Shape(), labels.Shape())
	}
	return gorgonia.ApplyOp(&marginOp{}, logits, labels)
}

type marginOp struct {
	pureOp
	grad bool // (logits, labels, dLoss) -> dlogits
}

func (op *marginOp) Arity() int {
	if op.grad {
		return 3
	}
	return 2
}
func (op *marginOp) Type() hm.Type { return (&crossEntropyOp{grad: op.grad}).Type() }
func (op *marginOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return (&crossEntropyOp{grad: op.grad}).InferShape(in...)
}
func (op *marginOp) String() string        { return fmt.Sprintf("margin(grad=%v)", op.grad) }
func (op *marginOp) WriteHash(h hash.Hash) { hashOp(op, h) }
func (op *marginOp) Hashcode() uint32      { return hash32(op) }
func (op *marginOp) DiffWRT(int) []bool    { return []bool{true, false} }
func (op *marginOp) SymDiff(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	d, err := gorgonia.ApplyOp(&marginOp{grad: true}, in[0], in[1], grad)
	return gorgonia.Nodes{d, nil}, err
}
func (op *marginOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	switch vals[0].Dtype() {
	case tensor.Float32:
		return marginDo[float32](op, vals)
	case tensor.Float64:
		return marginDo[float64](op, vals)
	}
	return nil, fmt.Errorf("nn: margin: unsupported dtype %v", vals[0].Dtype())
}

func marginDo[T Float](op *marginOp, vals []gorgonia.Value) (gorgonia.Value, error) {
	logits, labels := vals[0].Data().([]T), vals[1].Data().([]T)
	n := len(labels)
	k := len(logits) / n
	out := make([]T, len(logits))
	var dl T
	if op.grad {
		dl = scalarOf[T](vals[2])
	}
	total := 0.0
	for i := 0; i < n; i++ {
		row := logits[i*k : (i+1)*k]
		y := int(labels[i])
		if y < 0 || y >= k || float64(y) != float64(labels[i]) {
			return nil, fmt.Errorf("nn: margin: label %v of example %d not a class index 0..%d", labels[i], i, k-1)
		}
		best, bestV := -1, math.Inf(-1)
		for j, v := range row {
			if j != y && float64(v) > bestV {
				best, bestV = j, float64(v)
			}
		}
		total += bestV - float64(row[y])
		if op.grad {
			out[i*k+best] = dl / T(n)
			out[i*k+y] = -dl / T(n)
		}
	}
	if op.grad {
		return tensor.New(tensor.WithShape(n, k), tensor.WithBacking(out)), nil
	}
	return scalarValue(T(total / float64(n))), nil
}
