package landscape

import (
	"github.com/advbench/advbench/models/resnet"
	"github.com/advbench/advbench/nn"
)

// DefaultLayers are the parameters whose gradient shift a ResNet probe
// measures: the first convolution of each stage, so that the updated
// layers before them are the stem alone, then one, two and three stages
// more.
var DefaultLayers = []string{"layer1.0.conv1.weight", "layer2.0.conv1.weight", "layer3.0.conv1.weight", "layer4.0.conv1.weight"}

// resnetModel adapts a resnet.Model to Model.
type resnetModel struct {
	m     *resnet.Model
	index map[*nn.Var]int
}

// ResNet returns m as a Model: its parameters and buffers in state-dict
// order, and resnet.Model.Gradient's cross-entropy and gradients.
func ResNet(m *resnet.Model) Model {
	r := resnetModel{m: m, index: map[*nn.Var]int{}}
	for i, p := range m.Params() {
		r.index[p] = i
	}
	return r
}

// State returns the model's parameters and buffers.
func (r resnetModel) State() (params, buffers []*nn.Var) { return r.m.State() }

// Gradient returns the cross-entropy and every parameter's gradient.
func (r resnetModel) Gradient(x []float32, y []int, b nn.Branch, mode nn.Mode) (float64, [][]float64, error) {
	res, err := r.m.Gradient(x, y, b, mode)
	if err != nil {
		return 0, nil, err
	}
	return res.Loss, r.grads(res.Grads), nil
}

// grads copies gradients into State's parameter order (nil where absent).
func (r resnetModel) grads(gs []resnet.Grad) [][]float64 {
	out := make([][]float64, len(r.index))
	for _, g := range gs {
		out[r.index[g.Param]] = g.Float64s()
	}
	return out
}

// Grads copies a resnet.Model's gradients (a training step's, say) into
// the order of m.Params(), nil for a parameter without one, as Input.Grad
// takes them.
func Grads(m *resnet.Model, gs []resnet.Grad) [][]float64 {
	return ResNet(m).(resnetModel).grads(gs)
}
