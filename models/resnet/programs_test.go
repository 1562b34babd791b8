package resnet

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/advbench/advbench/internal/gradcheck"
	"github.com/advbench/advbench/nn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestProgramMatchesTapeMachine: the model's own executor (schedule,
// liveness, recycled buffers) computes bit for bit what gorgonia's tape
// machine computes on the same graph, outputs and running statistics alike,
// over two runs (the second on recycled buffers).
func TestProgramMatchesTapeMachine(t *testing.T) {
	keys := []progKey{
		{purpose: purposeInputGrad, branch: nn.Adv, mode: nn.Eval, batch: 6, loss: nn.CWMargin},
		{purpose: purposeTrain, branch: nn.Clean, mode: nn.Train, batch: 6},
		{purpose: purposeTrain, branch: nn.Adv, mode: nn.Train, batch: 6},
	}
	for _, norm := range []string{"bn", "saauxbn", "modenorm"} {
		for _, k := range keys {
			ours, err := New(Config{Norm: norm, Width: 1.0 / 16, Seed: 3})
			require.NoError(t, err)
			theirs, err := New(Config{Norm: norm, Width: 1.0 / 16, Seed: 3})
			require.NoError(t, err)
			rng := rand.New(rand.NewPCG(4, 4))
			perturbParams(ours, rng)
			rng = rand.New(rand.NewPCG(4, 4))
			perturbParams(theirs, rng)
			po, err := ours.program(k)
			require.NoError(t, err)
			pt, err := theirs.build(k)
			require.NoError(t, err)
			vm := gorgonia.NewTapeMachine(pt.g.G.SubgraphRoots(pt.outputs...))
			for run := 0; run < 2; run++ {
				x := randImages(rng, k.batch)
				y := []int{0, 1, 2, 3, 4, run + 5}
				for _, p := range []*program{po, pt} {
					require.NoError(t, setImages(p.x, x))
					require.NoError(t, ours.setLabels(p.labels, y, nil))
				}
				require.NoError(t, po.run())
				vm.Reset()
				require.NoError(t, vm.RunAll())
				for i, n := range po.outputs {
					require.Equal(t, pt.outputs[i].Value().Data(), po.value(n).Data(), "%s %v run %d: output %v", norm, k, run, n)
				}
				_, bo := ours.State()
				_, bt := theirs.State()
				for i := range bo {
					require.Equal(t, bt[i].Value.Data(), bo[i].Value.Data(), "%s %v run %d: buffer %s", norm, k, run, bo[i].Name)
				}
			}
		}
	}
}

// TestEvalModeGradient: Gradient in evaluation mode is the gradient of the
// evaluation-mode loss (central differences in float64 of that loss) and
// leaves the running statistics as they were, bit for bit.
func TestEvalModeGradient(t *testing.T) {
	m, err := New(Config{Norm: "saauxbn", Width: 1.0 / 16, Dtype: tensor.Float64, Seed: 5})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(7, 7))
	perturbParams(m, rng)
	x := randImages(rng, 3)
	y := []int{2, 8, 5}
	// Running statistics of their own, away from the initial 0 and 1.
	_, err = m.Train(randImages(rng, 3), y, nn.Adv)
	require.NoError(t, err)
	trainLoss, _, _, err := m.LossGrad(x, y, nn.CE, nn.Adv, nn.Train)
	require.NoError(t, err)
	_, bufs := m.State()
	before := map[string][]float64{}
	for _, b := range bufs {
		before[b.Name] = b.Float64s()
	}
	r, err := m.Gradient(x, y, nn.Adv, nn.Eval)
	require.NoError(t, err)
	for _, b := range bufs {
		require.Equal(t, before[b.Name], b.Float64s(), "%s changed by an evaluation-mode pass", b.Name)
	}
	require.Greater(t, math.Abs(trainLoss-r.Loss), 1e-4, "batch and running statistics give different losses, so a training-mode pass is caught")
	pick := map[string]bool{"layer1.0.conv1.weight": true, "layer4.1.conv2.weight": true, "linear.weight": true}
	ps, _ := m.blocks[len(m.blocks)-1].n2.State()
	for _, p := range ps {
		pick[p.Name] = true
	}
	var ts []gradcheck.Tensor
	for _, g := range r.Grads {
		if pick[g.Param.Name] {
			ts = append(ts, gradcheck.Tensor{Name: g.Param.Name, Data: g.Param.Value.Data().([]float64), Grad: g.Float64s()})
		}
	}
	require.Len(t, ts, 3+1, "three weights and the adversarial branch's affine of the last slot (saauxbn shares its affine)")
	loss := func() (float64, error) {
		l, _, _, err := m.LossGrad(x, y, nn.CE, nn.Adv, nn.Eval)
		return l, err
	}
	res, err := gradcheck.CheckFunc(loss, ts, gradcheck.Options{H: 1e-5, Sample: 5, Rand: rng, Kinks: true})
	require.NoError(t, err)
	gradcheck.AssertFloor(t, res, 1e-6, 1e-10)
}

// TestAdvPropBranchGradients: AdvProp's per-pass gradients are each pass's
// own (a later single pass on the same batch gives them again), not the
// mean, and the clean pass's survive the adversarial pass.
func TestAdvPropBranchGradients(t *testing.T) {
	m, err := New(Config{Norm: "bn", Width: 1.0 / 16, Seed: 5})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(8, 8))
	x, xa := randImages(rng, 2), randImages(rng, 2)
	y := []int{1, 6}
	r, err := m.AdvProp(x, xa, y)
	require.NoError(t, err)
	copies := func(gs []Grad) map[string][]float64 {
		out := map[string][]float64{}
		for _, g := range gs {
			out[g.Param.Name] = g.Float64s()
		}
		return out
	}
	clean, adv, mean := copies(r.CleanGrads), copies(r.AdvGrads), copies(r.Grads)
	require.NotEqual(t, clean["linear.weight"], mean["linear.weight"])
	rc, err := m.Gradient(x, y, nn.Clean, nn.Train)
	require.NoError(t, err)
	assert.Equal(t, copies(rc.Grads), clean)
	ra, err := m.Gradient(xa, y, nn.Adv, nn.Train)
	require.NoError(t, err)
	assert.Equal(t, copies(ra.Grads), adv)
}
