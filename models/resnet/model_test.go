package resnet

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/advbench/advbench/internal/classify"
	"github.com/advbench/advbench/internal/gradcheck"
	"github.com/advbench/advbench/nn"
	"github.com/advbench/advbench/norms"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestParameterCountWidth1(t *testing.T) {
	m, err := New(Config{})
	require.NoError(t, err)
	assert.Equal(t, 11_171_146, m.NumParams(), "reference PreAct ResNet-18, 10 classes")
	ps, bs := m.State()
	assert.Equal(t, "conv1.weight", ps[0].Name)
	assert.Equal(t, "layer1.0.bn1.weight", ps[1].Name)
	assert.Equal(t, "linear.bias", ps[len(ps)-1].Name)
	assert.Equal(t, "layer1.0.bn1.running_mean", bs[0].Name)
	names := map[string]bool{}
	for _, v := range append(ps, bs...) {
		assert.False(t, names[v.Name], "duplicate %s", v.Name)
		names[v.Name] = true
	}
	for _, want := range []string{"layer2.0.shortcut.0.weight", "layer4.1.conv2.weight", "layer3.1.bn2.running_var"} {
		assert.True(t, names[want], want)
	}
	assert.False(t, names["layer1.0.shortcut.0.weight"], "no shortcut where the shape is kept")
}

func TestWidthRounding(t *testing.T) {
	assert.Equal(t, 4, channels(64, 1.0/16))
	assert.Equal(t, 1, channels(64, 0.001))
	assert.Equal(t, 16, channels(64, 0.25))
	_, err := New(Config{Width: -1})
	assert.ErrorContains(t, err, "width -1")
	_, err = New(Config{Norm: "nope"})
	assert.ErrorContains(t, err, `unknown norm "nope"`)
}

// TestNetworkGradients checks the whole network at width 1/16 in float64,
// training mode, for every norm and branch: the input gradient and a sample
// of parameter gradients (stem, first and last norm slot, a shortcut, the
// last conv, the classifier) against fourth-order central differences of
// the cross-entropy loss; max relative error ≤ 1e-6. Images are 16x16 to
// keep it quick (the pool is global, so the network accepts them). ReLU
// kinks inside the stencil are detected and re-differenced (gradcheck).
func TestNetworkGradients(t *testing.T) {
	if testing.Short() {
		t.Skip("whole-network gradient check skipped in -short")
	}
	for _, name := range norms.Names() {
		for _, b := range []nn.Branch{nn.Clean, nn.Adv} {
			t.Run(fmt.Sprintf("%s/%s", name, b), func(t *testing.T) {
				m, err := New(Config{Norm: name, Width: 1.0 / 16, Dtype: tensor.Float64, Seed: 3})
				require.NoError(t, err)
				if b == nn.Adv && m.Branches() < 2 {
					t.Skip("one network: the adversarial branch runs the clean branch's code and parameters")
				}
				rng := rand.New(rand.NewPCG(4, uint64(b)))
				perturbParams(m, rng)
				g := nn.NewGraph()
				// Each image gets its own brightness and contrast so that
				// per-sample statistics (ModeNorm's gates) differ.
				xd := make([]float64, 3*3*16*16)
				for i := range xd {
					n := i / (3 * 16 * 16)
					xd[i] = 0.2*float64(n) + (0.2+0.3*float64(n))*rng.Float64()
				}
				x := gorgonia.NodeFromAny(g.G, tensor.New(tensor.WithShape(3, 3, 16, 16), tensor.WithBacking(xd)), gorgonia.WithName("x"))
				logits, err := m.Forward(g, x, b, nn.Train)
				require.NoError(t, err)
				labels := gorgonia.NodeFromAny(g.G, tensor.New(tensor.WithShape(3), tensor.WithBacking([]float64{1, 7, 3})), gorgonia.WithName("labels"))
				loss, err := nn.CrossEntropy(logits, labels)
				require.NoError(t, err)
				params, _ := m.State()
				pick := map[string]bool{"conv1.weight": true, "layer2.0.shortcut.0.weight": true, "layer4.1.conv2.weight": true, "linear.weight": true, "linear.bias": true}
				first, last := m.blocks[0].n1, m.blocks[len(m.blocks)-1].n2
				for _, s := range []norms.Norm{first, last} {
					ps, _ := s.State()
					for _, p := range ps {
						pick[p.Name] = true
					}
				}
				bound := map[*nn.Var]bool{}
				for _, v := range g.Bound() {
					bound[v] = true
				}
				wrt := []*gorgonia.Node{x}
				for _, p := range params {
					if pick[p.Name] && bound[p] { // the other branch's parameters are not in this graph
						wrt = append(wrt, g.Node(p))
					}
				}
				res, err := gradcheck.Check(g.G, loss, wrt, gradcheck.Options{H: 1e-5, Sample: 12, Rand: rng, Kinks: true})
				require.NoError(t, err)
				// 1e-10: the finite-difference noise of a loss near 2 at h = 1e-5
				// (ModeNorm gate biases have true gradients near 5e-5).
				gradcheck.AssertFloor(t, res, 1e-6, 1e-10)
			})
		}
	}
}

// perturbParams moves every parameter off its initial value so that no
// gradient is special: convolutions and the classifier by 0.05, norm
// parameters by 0.3 (ModeNorm's modes must differ for its gates to matter).
func perturbParams(m *Model, rng *rand.Rand) {
	normParams := map[*nn.Var]bool{}
	for _, s := range m.slots {
		ps, _ := s.State()
		for _, p := range ps {
			normParams[p] = true
		}
	}
	for _, p := range m.Params() {
		scale := 0.05
		if normParams[p] {
			scale = 0.3
		}
		d := p.Float64s()
		for i := range d {
			d[i] += scale * rng.NormFloat64()
		}
		p.SetFloat64s(d)
	}
}

func randImages(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n*3*32*32)
	for i := range x {
		x[i] = rng.Float32()
	}
	return x
}

// TestProgramsShareVariables: an SGD step made with AdvProp's gradients is
// seen by the already built logits and input-gradient programs, and the
// AdvProp loss goes down.
func TestProgramsShareVariables(t *testing.T) {
	m, err := New(Config{Norm: "saauxbn", Width: 1.0 / 16, Seed: 1})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(2, 2))
	x, xa := randImages(rng, 8), randImages(rng, 8)
	y := []int{0, 1, 2, 3, 4, 5, 6, 7}
	before, err := m.Logits(x, nn.Clean, nn.Eval)
	require.NoError(t, err)
	_, lgBefore, _, err := m.LossGrad(x, y, nn.CE, nn.Clean, nn.Eval)
	require.NoError(t, err)
	assert.Equal(t, before, lgBefore, "logits and input-gradient programs agree")

	r0, err := m.AdvProp(x, xa, y)
	require.NoError(t, err)
	require.Len(t, r0.Grads, len(m.Params()))
	for i, p := range m.Params() {
		require.Same(t, p, r0.Grads[i].Param, "gradients come in parameter order")
		d, g := p.Float64s(), r0.Grads[i].Float64s()
		for i := range d {
			d[i] -= 0.05 * g[i]
		}
		p.SetFloat64s(d)
	}
	r1, err := m.AdvProp(x, xa, y)
	require.NoError(t, err)
	assert.Less(t, r1.Loss, r0.Loss, "a gradient step lowers the loss")

	after, err := m.Logits(x, nn.Clean, nn.Eval)
	require.NoError(t, err)
	assert.NotEqual(t, before, after, "the logits program sees the update")
	_, lgAfter, _, err := m.LossGrad(x, y, nn.CE, nn.Clean, nn.Eval)
	require.NoError(t, err)
	assert.Equal(t, after, lgAfter, "so does the input-gradient program")
	assert.Len(t, m.progs, 4, "logits, input gradient and a training pass per branch, reused")
}

// TestEvalModeIsPerExample: in evaluation mode an example's logits do not
// depend on the rest of the batch; in training mode they do.
func TestEvalModeIsPerExample(t *testing.T) {
	m, err := New(Config{Norm: "auxbn", Width: 1.0 / 16, Seed: 5})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(6, 6))
	x := randImages(rng, 4)
	full, err := m.Logits(x, nn.Adv, nn.Eval)
	require.NoError(t, err)
	one, err := m.Logits(x[:3*32*32], nn.Adv, nn.Eval)
	require.NoError(t, err)
	for i := range one {
		assert.InDelta(t, full[i], one[i], 1e-5)
	}
	trainFull, err := m.Logits(x, nn.Adv, nn.Train)
	require.NoError(t, err)
	trainPart, err := m.Logits(x[:2*3*32*32], nn.Adv, nn.Train)
	require.NoError(t, err)
	diff := 0.0
	for i := range trainPart {
		diff = math.Max(diff, math.Abs(float64(trainFull[i]-trainPart[i])))
	}
	assert.Greater(t, diff, 1e-4, "batch statistics couple the examples")
}

// TestInputGradientMatchesFiniteDifference checks the float32 input-gradient
// program attacks use (LossGrad), cross-entropy on a single-branch norm and
// the CW margin on a two-branch norm's adversarial branch, in eval mode, against fourth-order central differences of
// the loss of the same network in float64 (a float64 model holding the
// float32 one's weights and running statistics): relative error (infinity
// norm over a sample of pixels) ≤ 1e-4. The pixel gradients of a batch-mean
// loss are small (1e-6 to 1e-2 here), so the error is relative to the
// largest one: a zeroed, negated or rescaled gradient is off by 0.5 or more.
// Pixels are multiples of 2⁻¹² and the steps 2⁻¹² and 2⁻¹⁵ (ReLU kinks
// inside the stencil are re-differenced), so every perturbed input is exact
// in the float32 batch LossGrad takes.
func TestInputGradientMatchesFiniteDifference(t *testing.T) {
	for _, tc := range []struct {
		norm   string
		branch nn.Branch
		loss   nn.Loss
	}{{"bn", nn.Clean, nn.CE}, {"saauxbn", nn.Adv, nn.CWMargin}, {"bn", nn.Clean, nn.DLR}} {
		t.Run(fmt.Sprintf("%s/%s/%s", tc.norm, tc.branch, tc.loss), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(8, 8))
			m32, err := New(Config{Norm: tc.norm, Width: 1.0 / 16, Seed: 7})
			require.NoError(t, err)
			perturbParams(m32, rng)
			y := []int{3, 9}
			for k := 0; k < 2; k++ { // running statistics of their own
				_, err := m32.AdvProp(randImages(rng, 2), randImages(rng, 2), y)
				require.NoError(t, err)
			}
			m64, err := New(Config{Norm: tc.norm, Width: 1.0 / 16, Seed: 7, Dtype: tensor.Float64})
			require.NoError(t, err)
			p32, b32 := m32.State()
			p64, b64 := m64.State()
			dst := append(p64, b64...)
			for i, v := range append(p32, b32...) {
				require.Equal(t, v.Name, dst[i].Name)
				dst[i].SetFloat64s(v.Float64s())
			}

			x := make([]float64, 2*3*32*32)
			for i := range x {
				x[i] = float64(rng.IntN(4097)) / 4096
			}
			batch := func() []float32 {
				out := make([]float32, len(x))
				for i, v := range x {
					out[i] = float32(v)
				}
				return out
			}
			_, _, grad, err := m32.LossGrad(batch(), y, tc.loss, tc.branch, nn.Eval)
			require.NoError(t, err)
			analytic := make([]float64, len(grad))
			for i, g := range grad {
				analytic[i] = float64(g)
			}
			loss := func() (float64, error) {
				l, _, _, err := m64.LossGrad(batch(), y, tc.loss, tc.branch, nn.Eval)
				return l, err
			}
			res, err := gradcheck.CheckFunc(loss, []gradcheck.Tensor{{Name: "x", Data: x, Grad: analytic}},
				gradcheck.Options{H: 1.0 / 4096, Sample: 12, Kinks: true, Rand: rng})
			require.NoError(t, err)
			require.Greater(t, res[0].MaxGrad, 0.0, "the sampled pixels have a gradient")
			gradcheck.Assert(t, res, 1e-4)
		})
	}
}

func TestBadBatches(t *testing.T) {
	m, err := New(Config{Width: 1.0 / 16})
	require.NoError(t, err)
	_, err = m.Logits(make([]float32, 100), nn.Clean, nn.Eval)
	assert.ErrorContains(t, err, "not a whole number of 3x32x32 images")
	_, _, _, err = m.LossGrad(make([]float32, 3072), []int{10}, nn.CE, nn.Clean, nn.Eval)
	assert.ErrorContains(t, err, "label 10 of example 0 out of range 0..9")
	_, err = m.AdvProp(make([]float32, 3072), make([]float32, 6144), []int{1})
	assert.ErrorContains(t, err, "adversarial batch")
}

func TestSummary(t *testing.T) {
	m, err := New(Config{})
	require.NoError(t, err)
	layers := m.Summary()
	total := 0
	for _, l := range layers {
		total += l.Params
	}
	assert.Equal(t, m.NumParams(), total, "the summary accounts for every parameter")
	assert.InDelta(t, 555e6, float64(m.MACs()), 2e6, "about 555 M MACs per image at width 1")
	assert.Equal(t, "conv1", layers[0].Name)
	assert.Equal(t, []int{64, 32, 32}, layers[0].Shape)
	assert.Equal(t, []int{512, 4, 4}, layers[len(layers)-3].Shape)
	assert.Equal(t, []int{10}, layers[len(layers)-1].Shape)

	q, err := New(Config{Width: 0.25})
	require.NoError(t, err)
	assert.InDelta(t, float64(m.MACs())/16, float64(q.MACs()), float64(m.MACs())/16*0.01, "MACs scale with width²")
}

// TestTrainStep: the single-pass program's loss equals the input-gradient
// program's on the same batch in training mode, and its gradients cover
// exactly the parameters the branch uses.
func TestTrainStep(t *testing.T) {
	m, err := New(Config{Norm: "auxbn", Width: 1.0 / 16, Seed: 9})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(10, 10))
	x := randImages(rng, 4)
	y := []int{1, 2, 3, 4}
	r, err := m.Train(x, y, nn.Adv)
	require.NoError(t, err)
	l, _, _, err := m.LossGrad(x, y, nn.CE, nn.Adv, nn.Train)
	require.NoError(t, err)
	assert.InDelta(t, l, r.Loss, 1e-6)
	for _, g := range r.Grads {
		assert.NotContains(t, g.Param.Name, "bn_list.0.", "the clean branch's norms are not in an adversarial-branch graph")
	}
	assert.Len(t, r.Grads, len(m.Params())-2*16, "every parameter but the clean branch's 16 (weight, bias) pairs")
}

// TestAdvPropLossFromPlainPasses: AdvProp's losses against cross-entropy
// computed by hand in float64 from the plain training-mode logits of each
// branch (the clean batch on the clean branch, the adversarial batch on the
// adversarial one), for a single-branch and a two-branch norm.
func TestAdvPropLossFromPlainPasses(t *testing.T) {
	ce := func(logits []float32, y []int) float64 {
		k, total := len(logits)/len(y), 0.0
		for i, yi := range y {
			total += classify.CrossEntropy(logits[i*k:(i+1)*k], yi)
		}
		return total / float64(len(y))
	}
	for _, name := range []string{"bn", "saauxbn"} {
		t.Run(name, func(t *testing.T) {
			m, err := New(Config{Norm: name, Width: 1.0 / 16, Seed: 3})
			require.NoError(t, err)
			rng := rand.New(rand.NewPCG(4, 4))
			perturbParams(m, rng)
			x, xa := randImages(rng, 6), randImages(rng, 6)
			y := []int{3, 1, 4, 1, 5, 9}
			lc, err := m.Logits(x, nn.Clean, nn.Train)
			require.NoError(t, err)
			la, err := m.Logits(xa, nn.Adv, nn.Train)
			require.NoError(t, err)
			wantClean, wantAdv := ce(lc, y), ce(la, y)
			require.Greater(t, math.Abs(wantClean-wantAdv), 1e-3, "the two passes differ, so a loss of one pass alone is caught")
			r, err := m.AdvProp(x, xa, y)
			require.NoError(t, err)
			assert.InDelta(t, wantClean, r.CleanLoss, 1e-4, "clean pass")
			assert.InDelta(t, wantAdv, r.AdvLoss, 1e-4, "adversarial pass")
			assert.InDelta(t, 0.5*wantClean+0.5*wantAdv, r.Loss, 1e-4, "AdvProp loss")
		})
	}
}

// TestAdvPropGradients checks AdvProp's mean gradient, assembled from two
// training passes, against fourth-order central differences of its loss in
// float64, for a single-branch norm and two two-branch ones (whose branch
// parameters appear in one pass only): a sample of the last convolution,
// the last norm slot's parameters and the classifier.
func TestAdvPropGradients(t *testing.T) {
	if testing.Short() {
		t.Skip("AdvProp gradient check skipped in -short")
	}
	for _, name := range []string{"bn", "auxbn", "saauxbn"} {
		t.Run(name, func(t *testing.T) {
			m, err := New(Config{Norm: name, Width: 1.0 / 16, Dtype: tensor.Float64, Seed: 5})
			require.NoError(t, err)
			rng := rand.New(rand.NewPCG(6, 6))
			perturbParams(m, rng)
			x, xa := randImages(rng, 3), randImages(rng, 3)
			y := []int{4, 0, 9}
			r, err := m.AdvProp(x, xa, y)
			require.NoError(t, err)
			require.Len(t, r.Grads, len(m.Params()))
			pick := map[string]bool{"layer4.1.conv2.weight": true, "linear.weight": true, "linear.bias": true}
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
			require.Len(t, ts, len(pick))
			loss := func() (float64, error) {
				r, err := m.AdvProp(x, xa, y)
				if err != nil {
					return 0, err
				}
				return r.Loss, nil
			}
			res, err := gradcheck.CheckFunc(loss, ts, gradcheck.Options{H: 1e-5, Sample: 5, Rand: rng, Kinks: true})
			require.NoError(t, err)
			gradcheck.AssertFloor(t, res, 1e-6, 1e-10)
		})
	}
}
