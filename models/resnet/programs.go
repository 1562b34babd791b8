package resnet

import (
	"fmt"

	"github.com/advbench/advbench/nn"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// purpose names what a compiled graph computes.
type purpose int

const (
	purposeLogits    purpose = iota // x -> logits
	purposeInputGrad                // x, y -> loss, logits, dloss/dx
	purposeTrain                    // x, y -> CE on one branch and every parameter gradient
)

type progKey struct {
	purpose purpose
	branch  nn.Branch
	mode    nn.Mode
	batch   int
	loss    nn.Loss      // purposeInputGrad only
	prec    nn.Precision // of the convolutions: purposeInputGrad only
}

// program is one compiled graph with its input buffers. Inputs are tensors
// bound to input nodes; a run copies the batch into them.
type program struct {
	g      *nn.Graph
	prog   *nn.Program
	x      *tensor.Dense
	labels *tensor.Dense

	logits     *gorgonia.Node
	loss       *gorgonia.Node
	gradX      *gorgonia.Node
	params     []*nn.Var
	paramGrads []*gorgonia.Node
	outputs    []*gorgonia.Node // what prog keeps after a run
}

func (m *Model) inputTensor(n int) *tensor.Dense {
	return tensor.New(tensor.WithShape(n, 3, 32, 32), tensor.Of(m.cfg.Dtype))
}

// program returns the compiled graph for a key, building it on first use.
func (m *Model) program(k progKey) (*program, error) {
	if p, ok := m.progs[k]; ok {
		return p, nil
	}
	p, err := m.build(k)
	if err != nil {
		return nil, err
	}
	m.progs[k] = p
	return p, nil
}

func (m *Model) build(k progKey) (*program, error) {
	g := nn.NewGraph()
	g.SetConvPrecision(k.prec)
	p := &program{g: g, x: m.inputTensor(k.batch)}
	// Input nodes need distinct names: gorgonia merges equal-named inputs.
	xn := gorgonia.NodeFromAny(g.G, p.x, gorgonia.WithName("x"))
	var err error
	forward := func(x *gorgonia.Node, b nn.Branch) (*gorgonia.Node, error) { return m.Forward(g, x, b, k.mode) }
	loss := func(logits *gorgonia.Node) (*gorgonia.Node, error) {
		if p.labels == nil {
			shape := tensor.Shape{k.batch}
			if k.loss.Targeted() {
				shape = tensor.Shape{k.batch, 2} // each example's class and target
			}
			p.labels = tensor.New(tensor.WithShape(shape...), tensor.Of(m.cfg.Dtype))
		}
		yn := gorgonia.NodeFromAny(g.G, p.labels, gorgonia.WithName("labels"))
		return nn.ApplyLoss(k.loss, logits, yn)
	}
	switch k.purpose {
	case purposeLogits:
		if p.logits, err = forward(xn, k.branch); err != nil {
			return nil, err
		}
		p.outputs = []*gorgonia.Node{p.logits}
	case purposeInputGrad:
		if p.logits, err = forward(xn, k.branch); err != nil {
			return nil, err
		}
		if p.loss, err = loss(p.logits); err != nil {
			return nil, err
		}
		grads, err := gorgonia.Grad(p.loss, xn)
		if err != nil {
			return nil, fmt.Errorf("resnet: input gradient: %w", err)
		}
		p.gradX = grads[0]
		// Only what leads to the loss, the logits and the input gradient
		// runs: Grad also adds every weight-gradient op, which attacks never
		// need.
		p.outputs = []*gorgonia.Node{p.loss, p.logits, p.gradX}
	case purposeTrain:
		if p.logits, err = forward(xn, k.branch); err != nil {
			return nil, err
		}
		if p.loss, err = loss(p.logits); err != nil {
			return nil, err
		}
		// Gradients in the model's parameter order, for the parameters this
		// graph uses (an AuxBN branch graph leaves the other branch's out).
		bound := map[*nn.Var]bool{}
		for _, v := range g.Bound() {
			bound[v] = true
		}
		for _, v := range m.Params() {
			if bound[v] {
				p.params = append(p.params, v)
			}
		}
		var wrt []*gorgonia.Node
		for _, v := range p.params {
			wrt = append(wrt, g.Node(v))
		}
		if p.paramGrads, err = gorgonia.Grad(p.loss, wrt...); err != nil {
			return nil, fmt.Errorf("resnet: parameter gradients: %w", err)
		}
		p.outputs = append([]*gorgonia.Node{p.loss, p.logits}, p.paramGrads...)
	}
	if p.prog, err = nn.NewProgramIn(m.arena, p.outputs...); err != nil {
		return nil, fmt.Errorf("resnet: %w", err)
	}
	return p, nil
}

// setImages copies a batch (N*3*32*32 values in [0,1]) into an input tensor.
func setImages(dst *tensor.Dense, x []float32) error {
	switch d := dst.Data().(type) {
	case []float32:
		if len(x) != len(d) {
			return fmt.Errorf("resnet: batch has %d values, want %d", len(x), len(d))
		}
		copy(d, x)
	case []float64:
		if len(x) != len(d) {
			return fmt.Errorf("resnet: batch has %d values, want %d", len(x), len(d))
		}
		for i, v := range x {
			d[i] = float64(v)
		}
	}
	return nil
}

// setLabels copies the labels y into dst, and for a targeted loss's
// (N, 2) labels also the targets t.
func (m *Model) setLabels(dst *tensor.Dense, y, t []int) error {
	if len(y) != dst.Shape()[0] {
		return fmt.Errorf("resnet: %d labels for a batch of %d", len(y), dst.Shape()[0])
	}
	cols := 1
	if dst.Dims() == 2 {
		cols = 2
		if len(t) != len(y) {
			return fmt.Errorf("resnet: %d targets for a batch of %d", len(t), len(y))
		}
	}
	f := make([]float64, cols*len(y))
	for i, l := range y {
		if l < 0 || l >= m.cfg.Classes {
			return fmt.Errorf("resnet: label %d of example %d out of range 0..%d", l, i, m.cfg.Classes-1)
		}
		f[i*cols] = float64(l)
		if cols == 2 {
			if t[i] < 0 || t[i] >= m.cfg.Classes {
				return fmt.Errorf("resnet: target %d of example %d out of range 0..%d", t[i], i, m.cfg.Classes-1)
			}
			f[i*cols+1] = float64(t[i])
		}
	}
	nn.FromFloat64(dst, f)
	return nil
}

func (p *program) run() error { return p.prog.Run() }

// value returns an output node's value from the last run.
func (p *program) value(n *gorgonia.Node) gorgonia.Value { return p.prog.Value(n) }

func batchOf(x []float32) (int, error) {
	const per = 3 * 32 * 32
	if len(x) == 0 || len(x)%per != 0 {
		return 0, fmt.Errorf("resnet: batch of %d values is not a whole number of 3x32x32 images", len(x))
	}
	return len(x) / per, nil
}

func float32s(v gorgonia.Value) []float32 {
	switch d := v.Data().(type) {
	case []float32:
		return append([]float32(nil), d...)
	case []float64:
		out := make([]float32, len(d))
		for i, e := range d {
			out[i] = float32(e)
		}
		return out
	}
	return nil
}

func scalar(v gorgonia.Value) float64 {
	switch d := v.Data().(type) {
	case float32:
		return float64(d)
	case float64:
		return d
	}
	return nn.ToFloat64(v.(tensor.Tensor))[0]
}

// Logits returns the logits (N x classes, row-major) of a batch x (N*3*32*32
// pixel values in [0,1]) on a branch in a mode.
func (m *Model) Logits(x []float32, b nn.Branch, mode nn.Mode) ([]float32, error) {
	n, err := batchOf(x)
	if err != nil {
		return nil, err
	}
	p, err := m.program(progKey{purpose: purposeLogits, branch: b, mode: mode, batch: n})
	if err != nil {
		return nil, err
	}
	if err := setImages(p.x, x); err != nil {
		return nil, err
	}
	if err := p.run(); err != nil {
		return nil, err
	}
	return float32s(p.value(p.logits)), nil
}

// LossGrad returns the batch-mean loss (an untargeted nn.Loss: cross-entropy,
// CW margin or DLR) of a batch on a branch in a mode, its logits, and the
// gradient of the loss with respect to the input pixels. It is what attacks
// need; in training mode it updates running statistics as the reference
// code's train-mode attack does.
func (m *Model) LossGrad(x []float32, y []int, kind nn.Loss, b nn.Branch, mode nn.Mode) (loss float64, logits, grad []float32, err error) {
	if kind.Targeted() {
		return 0, nil, nil, fmt.Errorf("resnet: loss %s is targeted: use TargetedLossGrad", kind)
	}
	return m.lossGrad(x, y, nil, kind, b, mode)
}

// TargetedLossGrad is LossGrad for a targeted loss (nn.DLRTargeted,
// nn.CWTargeted) toward the target class t[i] of each example.
func (m *Model) TargetedLossGrad(x []float32, y, t []int, kind nn.Loss, b nn.Branch, mode nn.Mode) (loss float64, logits, grad []float32, err error) {
	if !kind.Targeted() {
		return 0, nil, nil, fmt.Errorf("resnet: loss %s is not targeted: use LossGrad", kind)
	}
	return m.lossGrad(x, y, t, kind, b, mode)
}

// SetAttackPrecision sets the precision of the convolutions in the
// programs LossGrad and TargetedLossGrad run from now on, the attack steps'
// (nn.Precision; FP32 until set). Logits and training passes stay float32.
func (m *Model) SetAttackPrecision(p nn.Precision) { m.attackPrec = p }

// AttackPrecision is the precision LossGrad runs in.
func (m *Model) AttackPrecision() nn.Precision { return m.attackPrec }

func (m *Model) lossGrad(x []float32, y, t []int, kind nn.Loss, b nn.Branch, mode nn.Mode) (loss float64, logits, grad []float32, err error) {
	n, err := batchOf(x)
	if err != nil {
		return 0, nil, nil, err
	}
	p, err := m.program(progKey{purposeInputGrad, b, mode, n, kind, m.attackPrec})
	if err != nil {
		return 0, nil, nil, err
	}
	if err := setImages(p.x, x); err != nil {
		return 0, nil, nil, err
	}
	if err := m.setLabels(p.labels, y, t); err != nil {
		return 0, nil, nil, err
	}
	if err := p.run(); err != nil {
		return 0, nil, nil, err
	}
	return scalar(p.value(p.loss)), float32s(p.value(p.logits)), float32s(p.value(p.gradX)), nil
}

// Grad is one parameter's gradient from a training program's last run. Value
// is the program's own output tensor (the model's dtype), not a copy: it is
// valid until the same program runs again, so an optimiser reads it in place.
type Grad struct {
	Param *nn.Var
	Value *tensor.Dense
}

// Float64s returns a float64 copy of the gradient.
func (g Grad) Float64s() []float64 { return nn.ToFloat64(g.Value) }

// AdvPropResult is one AdvProp step's losses, logits and parameter gradients.
type AdvPropResult struct {
	Loss, CleanLoss, AdvLoss float64
	CleanLogits, AdvLogits   []float32
	// Grads holds the gradient of Loss for every parameter, in the model's
	// parameter order (views valid until the next AdvProp call).
	Grads []Grad
	// CleanGrads and AdvGrads are each pass's own gradient (of CleanLoss,
	// of AdvLoss) for the parameters its branch uses, in parameter order:
	// views valid until the next pass on that branch (Train, Gradient or
	// AdvProp).
	CleanGrads, AdvGrads []Grad
}

// AdvProp computes the AdvProp loss (CE(clean branch, x) + CE(adv branch,
// x_adv)) / 2 in training mode and the gradient of every parameter. The two
// passes run one after the other as Train does them (clean first, as the
// reference code's forward passes), each normalised by its own batch
// statistics and updating its branch's running statistics, so memory holds
// one pass's activations at a time; the gradient is the mean of the two
// passes' gradients, written into buffers the model keeps for it.
func (m *Model) AdvProp(x, xAdv []float32, y []int) (*AdvPropResult, error) {
	if len(xAdv) != len(x) {
		return nil, fmt.Errorf("resnet: adversarial batch has %d values, clean batch %d", len(xAdv), len(x))
	}
	rc, err := m.Train(x, y, nn.Clean)
	if err != nil {
		return nil, err
	}
	ra, err := m.Train(xAdv, y, nn.Adv)
	if err != nil {
		return nil, err
	}
	return &AdvPropResult{
		Loss: (rc.Loss + ra.Loss) / 2, CleanLoss: rc.Loss, AdvLoss: ra.Loss,
		CleanLogits: rc.Logits, AdvLogits: ra.Logits,
		Grads:      m.meanGrads(rc.Grads, ra.Grads),
		CleanGrads: rc.Grads, AdvGrads: ra.Grads,
	}, nil
}

// meanGrads returns, for every parameter, (a + b) / 2 where a and b are its
// gradients in the two lists (both in parameter order; a parameter missing
// from one list counts zero there), in the model's AdvProp buffers.
func (m *Model) meanGrads(a, b []Grad) []Grad {
	params := m.Params()
	if m.advGrads == nil {
		for _, p := range params {
			m.advGrads = append(m.advGrads, tensor.New(tensor.WithShape(p.Value.Shape()...), tensor.Of(m.cfg.Dtype)))
		}
	}
	out := make([]Grad, len(params))
	for i, p := range params {
		var ga, gb *tensor.Dense
		if len(a) > 0 && a[0].Param == p {
			ga, a = a[0].Value, a[1:]
		}
		if len(b) > 0 && b[0].Param == p {
			gb, b = b[0].Value, b[1:]
		}
		dst := m.advGrads[i]
		switch d := dst.Data().(type) {
		case []float32:
			halfSum(d, data32(ga), data32(gb))
		case []float64:
			halfSum(d, data64(ga), data64(gb))
		}
		out[i] = Grad{Param: p, Value: dst}
	}
	return out
}

func data32(t *tensor.Dense) []float32 {
	if t == nil {
		return nil
	}
	return t.Data().([]float32)
}

func data64(t *tensor.Dense) []float64 {
	if t == nil {
		return nil
	}
	return t.Data().([]float64)
}

// halfSum writes dst = (a + b) / 2, a nil operand counting zero.
func halfSum[T nn.Float](dst, a, b []T) {
	switch {
	case a == nil && b == nil:
		clear(dst)
	case a == nil:
		for i, v := range b {
			dst[i] = v / 2
		}
	case b == nil:
		for i, v := range a {
			dst[i] = v / 2
		}
	default:
		for i, v := range a {
			dst[i] = (v + b[i]) / 2
		}
	}
}

// grads returns the parameter gradients of the last run as views, in the
// model's parameter order.
func (p *program) grads() []Grad {
	out := make([]Grad, len(p.params))
	for i, v := range p.params {
		out[i] = Grad{Param: v, Value: p.value(p.paramGrads[i]).(*tensor.Dense)}
	}
	return out
}

// TrainResult is one single-pass training step's loss, logits and gradients.
type TrainResult struct {
	Loss   float64
	Logits []float32
	// Grads holds the gradient of Loss for every parameter the branch uses,
	// in the model's parameter order (views valid until the next Train call
	// on the same branch).
	Grads []Grad
}

// Train computes the cross-entropy of a batch on one branch in training mode
// (batch statistics, running statistics updated) and the gradient of every
// parameter that branch uses: plain or Madry-style adversarial training, and
// the train-step workload of benchmarks.
func (m *Model) Train(x []float32, y []int, b nn.Branch) (*TrainResult, error) {
	return m.Gradient(x, y, b, nn.Train)
}

// Gradient computes the cross-entropy of a batch on one branch in a mode and
// the gradient of every parameter that branch uses, as Train does in
// training mode (which updates running statistics); in evaluation mode the
// network normalises with its running statistics and changes nothing. The
// gradients are views valid until the next pass on the same branch and mode.
func (m *Model) Gradient(x []float32, y []int, b nn.Branch, mode nn.Mode) (*TrainResult, error) {
	n, err := batchOf(x)
	if err != nil {
		return nil, err
	}
	p, err := m.program(progKey{purpose: purposeTrain, branch: b, mode: mode, batch: n})
	if err != nil {
		return nil, err
	}
	if err := setImages(p.x, x); err != nil {
		return nil, err
	}
	if err := m.setLabels(p.labels, y, nil); err != nil {
		return nil, err
	}
	if err := p.run(); err != nil {
		return nil, err
	}
	return &TrainResult{Loss: scalar(p.value(p.loss)), Logits: float32s(p.value(p.logits)), Grads: p.grads()}, nil
}
