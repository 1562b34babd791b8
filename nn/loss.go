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
	// DLR is the Difference of Logits Ratio of Croce & Hein, "Reliable
	// evaluation of adversarial robustness with an ensemble of diverse
	// parameter-free attacks", ICML 2020, arXiv:2003.01690, Eq. (5): with
	// the logits sorted z_π1 ≥ z_π2 ≥ …,
	// −(z_y − max_{i≠y} z_i) / (z_π1 − z_π3 + 1e-12). It is invariant to
	// adding a constant to the logits and to scaling them by a positive
	// factor. It needs at least 3 classes.
	DLR
	// DLRTargeted is the targeted DLR of the same paper, Eq. (6), toward a
	// target class t: −(z_y − z_t) / (z_π1 − (z_π3 + z_π4)/2 + 1e-12). It
	// needs at least 4 classes and a target per example.
	DLRTargeted
	// CWTargeted is the targeted margin z_t − z_y: positive exactly when
	// the target class beats the true class. It needs a target per example.
	CWTargeted
)

var lossNames = []string{CE: "ce", CWMargin: "cw", DLR: "dlr", DLRTargeted: "dlr-t", CWTargeted: "cw-t"}

// String returns "ce", "cw", "dlr", "dlr-t" or "cw-t".
func (l Loss) String() string {
	if l < 0 || int(l) >= len(lossNames) {
		return fmt.Sprintf("loss(%d)", int(l))
	}
	return lossNames[l]
}

// Targeted says whether the loss is toward a target class per example
// (its labels carry the true class and the target).
func (l Loss) Targeted() bool { return l == DLRTargeted || l == CWTargeted }

// MinClasses is the fewest classes the loss is defined for.
func (l Loss) MinClasses() int {
	switch l {
	case DLR:
		return 3
	case DLRTargeted:
		return 4
	}
	return 2
}

// ParseLoss parses a loss name: "ce" (or ""), "cw", "dlr", "dlr-t" or
// "cw-t".
func ParseLoss(s string) (Loss, error) {
	if s == "" {
		return CE, nil
	}
	for l, name := range lossNames {
		if s == name {
			return Loss(l), nil
		}
	}
	return 0, fmt.Errorf("nn: loss %q: want one of %v", s, lossNames)
}

// ApplyLoss returns the batch-mean loss of the given kind of logits (N, K)
// and labels (not differentiated): a (N) node holding class indices as
// floats, or for a targeted loss a (N, 2) node holding each example's class
// and target.
func ApplyLoss(kind Loss, logits, labels *gorgonia.Node) (*gorgonia.Node, error) {
	cols := 1
	if kind.Targeted() {
		cols = 2
	}
	fits := logits.Dims() == 2 && labels.Shape()[0] == logits.Shape()[0] && logits.Shape()[1] >= kind.MinClasses()
	if cols == 1 {
		fits = fits && labels.Dims() == 1
	} else {
		fits = fits && labels.Dims() == 2 && labels.Shape()[1] == 2
	}
	if !fits {
		return nil, fmt.Errorf("nn: %s loss: logits %v and labels %v do not fit (the loss needs at least %d classes and %d label column(s))", kind, logits.Shape(), labels.Shape(), kind.MinClasses(), cols)
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
	if op.kind.Targeted() {
		v = gorgonia.TensorType{Dims: 2, Of: a}
	}
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
	cols := 1
	if op.kind.Targeted() {
		cols = 2
	}
	n := len(labels) / cols
	k := len(logits) / n
	var dl T
	var out []T
	if op.grad {
		dl = scalarOf[T](vals[2])
		out = make([]T, len(logits))
	}
	row := make([]float64, k)
	var dz []float64
	if op.grad {
		dz = make([]float64, k)
	}
	total := 0.0
	for i := 0; i < n; i++ {
		var yt [2]int
		for c := 0; c < cols; c++ {
			v := labels[i*cols+c]
			yt[c] = int(v)
			if yt[c] < 0 || yt[c] >= k || float64(yt[c]) != float64(v) {
				return nil, fmt.Errorf("nn: %s: label %v of example %d not a class index 0..%d", op.kind, v, i, k-1)
			}
		}
		for j := range row {
			row[j] = float64(logits[i*k+j])
		}
		l := ExampleLoss(op.kind, row, yt[0], yt[1], dz)
		total += l
		if op.grad {
			for j, g := range dz {
				out[i*k+j] = T(g/float64(n)) * dl
			}
		}
	}
	if op.grad {
		return tensor.New(tensor.WithShape(n, k), tensor.WithBacking(out)), nil
	}
	return scalarValue(T(total / float64(n))), nil
}

// ExampleLoss returns one example's loss of the given kind from its logits
// z, its class y and (for a targeted loss) its target t; when dz is not nil
// it receives the gradient of that loss with respect to z (len(z) values).
// With fewer classes than kind.MinClasses() the loss is NaN.
func ExampleLoss(kind Loss, z []float64, y, t int, dz []float64) float64 {
	if len(z) < kind.MinClasses() {
		for j := range dz {
			dz[j] = math.NaN()
		}
		return math.NaN()
	}
	if dz != nil {
		clear(dz)
	}
	switch kind {
	case CWMargin:
		best := -1
		for j := range z {
			if j != y && (best < 0 || z[j] > z[best]) {
				best = j
			}
		}
		if dz != nil {
			dz[best], dz[y] = 1, -1
		}
		return z[best] - z[y]
	case CWTargeted:
		if dz != nil {
			dz[t], dz[y] = 1, -1
		}
		return z[t] - z[y]
	case DLR, DLRTargeted:
		return dlr(kind, z, y, t, dz)
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
	if dz != nil {
		for j, v := range z {
			dz[j] = math.Exp(v - lse)
		}
		dz[y]--
	}
	return lse - z[y]
}

// dlr is the untargeted or targeted DLR loss −num/den (see DLR and
// DLRTargeted) and its gradient −(∂num)/den + num/den² · ∂den.
func dlr(kind Loss, z []float64, y, t int, dz []float64) float64 {
	// The indices of the four largest logits, largest first (ties: lower index first).
	var top [4]int
	for r := range top {
		best := -1
		for j, v := range z {
			taken := false
			for _, p := range top[:r] {
				taken = taken || p == j
			}
			if !taken && (best < 0 || v > z[best]) {
				best = j
			}
		}
		top[r] = best
	}
	other := t // the logit the true class is compared with
	if kind == DLR {
		other = top[0]
		if other == y {
			other = top[1]
		}
	}
	num := z[y] - z[other]
	var den float64
	// ∂den/∂z: +1 on π1 and −1 on π3 (untargeted), −1/2 on π3 and π4 (targeted).
	dden := map[int]float64{}
	if kind == DLR {
		den = z[top[0]] - z[top[2]] + 1e-12
		dden[top[0]] += 1
		dden[top[2]] -= 1
	} else {
		den = z[top[0]] - (z[top[2]]+z[top[3]])/2 + 1e-12
		dden[top[0]] += 1
		dden[top[2]] -= 0.5
		dden[top[3]] -= 0.5
	}
	if dz != nil {
		dz[y] -= 1 / den
		dz[other] += 1 / den
		for j, d := range dden {
			dz[j] += num / (den * den) * d
		}
	}
	return -num / den
}
