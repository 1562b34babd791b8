package train

import (
	"fmt"

	"github.com/advbench/advbench/models/resnet"
	"github.com/advbench/advbench/nn"
)

// MomentumPrefix starts the checkpoint names of SGD's momentum buffers:
// "optimizer.momentum.<parameter name>".
const MomentumPrefix = resnet.OptimizerPrefix + "momentum."

// SGD is torch.optim.SGD without dampening or Nesterov: for a parameter w
// with gradient g, d = g + wd·w, buf = momentum·buf + d, w −= lr·buf. PyTorch
// starts buf at d on a parameter's first step, which is what a zero buffer
// gives. Parameters without a gradient in a step (the other branch of a
// two-branch norm under a one-branch objective) are left alone, weight decay
// and momentum included, as PyTorch skips parameters whose grad is None.
// Updates are made in place on the parameters' tensors, in their dtype.
type SGD struct {
	Momentum, WeightDecay float64
	bufs                  map[*nn.Var]*nn.Var
	order                 []*nn.Var
}

// NewSGD returns an optimiser for params with zero momentum buffers.
func NewSGD(params []*nn.Var, momentum, weightDecay float64) *SGD {
	o := &SGD{Momentum: momentum, WeightDecay: weightDecay, bufs: map[*nn.Var]*nn.Var{}}
	for _, p := range params {
		b := nn.NewVar(MomentumPrefix+p.Name, p.Value.Dtype(), p.Value.Shape()...)
		o.bufs[p] = b
		o.order = append(o.order, b)
	}
	return o
}

// Buffers returns the momentum buffers in parameter order, named for a
// checkpoint (they are the optimiser's whole state).
func (o *SGD) Buffers() []*nn.Var { return o.order }

// Step applies one update with learning rate lr.
func (o *SGD) Step(grads []resnet.Grad, lr float64) error {
	for _, g := range grads {
		b, ok := o.bufs[g.Param]
		if !ok {
			return fmt.Errorf("train: sgd: gradient for %s, which the optimiser does not hold", g.Param.Name)
		}
		switch w := g.Param.Value.Data().(type) {
		case []float32:
			sgdUpdate(w, g.Value.Data().([]float32), b.Value.Data().([]float32), float32(lr), float32(o.Momentum), float32(o.WeightDecay))
		case []float64:
			sgdUpdate(w, g.Value.Data().([]float64), b.Value.Data().([]float64), lr, o.Momentum, o.WeightDecay)
		default:
			return fmt.Errorf("train: sgd: %s has dtype %v", g.Param.Name, g.Param.Value.Dtype())
		}
	}
	return nil
}

func sgdUpdate[T nn.Float](w, g, buf []T, lr, momentum, wd T) {
	for i := range w {
		d := g[i] + wd*w[i]
		b := momentum*buf[i] + d
		buf[i] = b
		w[i] -= lr * b
	}
}
