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

// TestAttackPrecisionBF16: with BF16 attack steps LossGrad's convolutions
// round their operands to bf16, so its gradient differs from float32's but
// keeps the signs PGD follows on most pixels (97.8% here) and stays near
// it (the largest difference 0.09 of the largest gradient), while Logits,
// never bf16, keep their float32 values bit for bit. Back at FP32, LossGrad
// is float32's again.
func TestAttackPrecisionBF16(t *testing.T) {
	m, err := New(Config{Norm: "bn", Width: 1.0 / 8, Seed: 3})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(8, 8))
	x := randImages(rng, 8)
	y := []int{0, 1, 2, 3, 4, 5, 6, 7}
	logits32, err := m.Logits(x, nn.Clean, nn.Eval)
	require.NoError(t, err)
	_, _, g32, err := m.LossGrad(x, y, nn.CE, nn.Clean, nn.Eval)
	require.NoError(t, err)
	g32 = append([]float32(nil), g32...)

	m.SetAttackPrecision(nn.BF16)
	_, _, g16, err := m.LossGrad(x, y, nn.CE, nn.Clean, nn.Eval)
	require.NoError(t, err)
	g16 = append([]float32(nil), g16...)
	logits, err := m.Logits(x, nn.Clean, nn.Eval)
	require.NoError(t, err)
	assert.Equal(t, logits32, logits, "logits stay float32")

	same, differ, scale, worst := 0, 0, 0.0, 0.0
	for i := range g32 {
		if (g32[i] > 0) == (g16[i] > 0) {
			same++
		}
		if g32[i] != g16[i] {
			differ++
		}
		scale = math.Max(scale, math.Abs(float64(g32[i])))
		worst = math.Max(worst, math.Abs(float64(g32[i]-g16[i])))
	}
	t.Logf("bf16 input gradient: %d of %d signs as float32's, %d values differ, largest difference %.3g of the largest gradient", same, len(g32), differ, worst/scale)
	assert.Greater(t, differ, len(g32)/2, "the bf16 program is not the float32 one")
	assert.Greater(t, float64(same), 0.9*float64(len(g32)), "most signs kept")
	assert.Less(t, worst/scale, 0.2, "near float32's")

	m.SetAttackPrecision(nn.FP32)
	_, _, again, err := m.LossGrad(x, y, nn.CE, nn.Clean, nn.Eval)
	require.NoError(t, err)
	assert.Equal(t, g32, again, "FP32 again: float32's gradient")
}
