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

// ApplyLoss returns the batch-mean loss of the given kind of logits (N, K)
// and labels, a (N) node holding class indices as floats (not differentiated).
func ApplyLoss(kind Loss, logits, labels *gorgonia.Node) (*gorgonia.Node, error) {
	if logits.Dims() != 2 || labels.Dims() != 1 || labels.Shape()[0] != logits.Shape()[0] || logits.Shape()[1] < 2 {
		return nil, fmt.Errorf("nn: %s loss: logits %v and labels %v do not fit", kind, logits.Shape(), labels.Shape())
	}
	return gorgonia.ApplyOp(&lossOp{kind: kind}, logits, labels)
}

// CrossEntropy returns the batch mean of −log softmax(logits)[y].
func CrossEntropy(logits, labels *gorgonia.Node) (*gorgonia.Node, error) {
	return ApplyLoss(CE, logits, labels)
}

// lossOp is (logits, labels) -> batch-mean loss, or with grad
// (logits, labels, dLoss) -> dlogits.
type lossOp struct {
	PureOp
	kind Loss
	grad bool
}

func (op *lossOp) Arity() int {
	if op.grad {
		return 3
	}
	return 2
}
func (op *lossOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	m, v := gorgonia.TensorType{Dims: 2, Of: a}, gorgonia.TensorType{Dims: 1, Of: a}
	if op.grad {
		return hm.NewFnType(m, v, a, m)
	}
	return hm.NewFnType(m, v, a)
}
func (op *lossOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	if op.grad {
		return in[0].(tensor.Shape).Clone(), nil
	}
	return tensor.ScalarShape(), nil
}
func (op *lossOp) String() string        { return fmt.Sprintf("%s-loss(grad=%v)", op.kind, op.grad) }
func (op *lossOp) WriteHash(h hash.Hash) { hashOp(op, h) }
func (op *lossOp) Hashcode() uint32      { return Hashcode(op) }
func (op *lossOp) DiffWRT(int) []bool    { return []bool{true, false} }
func (op *lossOp) SymDiff(in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	d, err := gorgonia.ApplyOp(&lossOp{kind: op.kind, grad: true}, in[0], in[1], grad)
	return gorgonia.Nodes{d, nil}, err
}
func (op *lossOp) Do(vals ...gorgonia.Value) (gorgonia.Value, error) {
	switch vals[0].Dtype() {
	case tensor.Float32:
		return lossDo[float32](op, vals)
	case tensor.Float64:
		return lossDo[float64](op, vals)
	}
	return nil, fmt.Errorf("nn: %s: unsupported dtype %v", op, vals[0].Dtype())
}

// lossDo computes the batch mean of the per-example loss, or its gradient
// (the per-example gradient divided by N, times dLoss).
func lossDo[T Float](op *lossOp, vals []gorgonia.Value) (gorgonia.Value, error) {
	logits, labels := vals[0].Data().([]T), vals[1].Data().([]T)
	n := len(labels)
	k := len(logits) / n
	var dl T
	var out []T
	if op.grad {
		dl = scalarOf[T](vals[2])
		out = make([]T, len(logits))
	}
	row := make([]float64, k)
	total := 0.0
	for i := 0; i < n; i++ {
		y := int(labels[i])
		if y < 0 || y >= k || float64(y) != float64(labels[i]) {
			return nil, fmt.Errorf("nn: %s: label %v of example %d not a class index 0..%d", op.kind, labels[i], i, k-1)
		}
		for j := range row {
			row[j] = float64(logits[i*k+j])
		}
		l := exampleLoss(op.kind, row, y, op.grad) // row now holds dl_i/dz when grad
		total += l
		if op.grad {
			for j, g := range row {
				out[i*k+j] = T(g/float64(n)) * dl
			}
		}
	}
	if op.grad {
		return tensor.New(tensor.WithShape(n, k), tensor.WithBacking(out)), nil
	}
	return scalarValue(T(total / float64(n))), nil
}

// exampleLoss returns one example's loss; with grad it overwrites z with the
// gradient of that loss with respect to z.
func exampleLoss(kind Loss, z []float64, y int, grad bool) float64 {
	if kind == CWMargin {
		best := -1
		for j := range z {
			if j != y && (best < 0 || z[j] > z[best]) {
				best = j
			}
		}
		l := z[best] - z[y]
		if grad {
			clear(z)
			z[best], z[y] = 1, -1
		}
		return l
	}
	mx := math.Inf(-1)
	for _, v := range z {
		mx = math.Max(mx, v)
	}
	sum := 0.0
	for _, v := range z {
		sum += math.Exp(v - mx)
	}
	lse := mx + math.Log(sum)
	l := lse - z[y]
	if grad {
		for j, v := range z {
			z[j] = math.Exp(v - lse)
		}
		z[y]--
	}
	return l
}
