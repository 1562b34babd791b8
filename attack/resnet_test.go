package attack_test

import (
	"testing"

	"github.com/advbench/advbench/attack"
	"github.com/advbench/advbench/data/cifar"
	"github.com/advbench/advbench/data/loader"
	"github.com/advbench/advbench/data/synth"
	"github.com/advbench/advbench/models/resnet"
	"github.com/advbench/advbench/nn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var _ attack.Model = (*resnet.Model)(nil)

// batchesOf serves a dataset in order, batch by batch.
func batchesOf(t testing.TB, d *cifar.Dataset, batch int) attack.Batches {
	l, err := loader.New(d, loader.Config{BatchSize: batch})
	require.NoError(t, err)
	return func(fn func(x []float32, y []int) error) error {
		return l.Epoch(0, 0, func(_ int, b *loader.Batch) error { return fn(b.X, b.Y) })
	}
}

// TestResNetSanity: a tiny ResNet with random weights on the built-in data,
// attacked on the adversarial branch of saauxbn in eval mode: every sanity
// check holds and eps 0 gives RA == SA exactly.
func TestResNetSanity(t *testing.T) {
	m, err := resnet.New(resnet.Config{Norm: "saauxbn", Width: 1.0 / 16, Seed: 1})
	require.NoError(t, err)
	// Give the running statistics data-like values with a few training-mode passes.
	train, err := synth.Split(synth.Config{NTrain: 64}, cifar.Train)
	require.NoError(t, err)
	require.NoError(t, batchesOf(t, train, 32)(func(x []float32, y []int) error {
		_, err := m.AdvProp(x, x, y)
		return err
	}))
	test, err := synth.Split(synth.Config{NTest: 48}, cifar.Test)
	require.NoError(t, err)

	zero := attack.DefaultOptions()
	zero.Eps = 0
	var attacks []attack.Attack
	// The PGD family and APGD-CE (the slower AutoAttack attacks have tests
	// of their own on the linear model and in TestPrunedFlagsUnchanged).
	for _, name := range []string{"apgd-ce", "fgsm", "pgd-10", "pgd-20"} {
		a, err := attack.New(name, attack.DefaultOptions())
		require.NoError(t, err)
		attacks = append(attacks, a)
	}
	attacks = append(attacks, attack.NewPGD(3, zero))
	res, err := attack.Evaluate(m, batchesOf(t, test, 32), attacks, attack.EvalConfig{
		Setting: attack.Setting{Branch: nn.Adv, Mode: nn.Eval}, Seed: 3, Model: "tiny random saauxbn", Data: "builtin synth"})
	require.NoError(t, err)
	assert.Equal(t, 48, res.Examples)
	for _, c := range res.Checks {
		assert.True(t, c.OK, "%s: %s", c.Name, c.Detail)
	}
	assert.Empty(t, res.Warnings)
	assert.Equal(t, res.SA, res.Attacks[len(attacks)-1].RA, "eps 0 reproduces SA exactly")
	assert.Equal(t, res.PerExample.CleanCorrect, res.PerExample.Robust["pgd-3"])
	for _, a := range res.Attacks[:4] {
		assert.LessOrEqual(t, a.MaxDelta, 8.0/255+1e-6)
		t.Logf("%s: RA %.3f (SA %.3f), max delta %.5f", a.Name, a.RA, res.SA, a.MaxDelta)
	}
}

// counting counts the examples a model is asked to differentiate.
type counting struct {
	attack.TargetedModel
	examples int
}

func (c *counting) LossGrad(x []float32, y []int, l nn.Loss, b nn.Branch, m nn.Mode) (float64, []float32, []float32, error) {
	c.examples += len(y)
	return c.TargetedModel.LossGrad(x, y, l, b, m)
}

func (c *counting) TargetedLossGrad(x []float32, y, t []int, l nn.Loss, b nn.Branch, m nn.Mode) (float64, []float32, []float32, error) {
	c.examples += len(y)
	return c.TargetedModel.TargetedLossGrad(x, y, t, l, b, m)
}

// TestPrunedFlagsUnchanged: the AutoAttack suite (shortened: fewer
// iterations, targets and queries) on a tiny ResNet gives the same
// per-example robust flags whether each attack runs only on the points
// still robust (re-packed into smaller batches) or on every clean-correct
// point, while differentiating fewer examples; PGD-10 beside it keeps its
// flags. The cumulative RA falls attack by attack.
func TestPrunedFlagsUnchanged(t *testing.T) {
	if testing.Short() {
		t.Skip("tiny ResNet evaluated twice with four attacks")
	}
	m, err := resnet.New(resnet.Config{Norm: "saauxbn", Width: 1.0 / 16, Seed: 1})
	require.NoError(t, err)
	train, err := synth.Split(synth.Config{NTrain: 64}, cifar.Train)
	require.NoError(t, err)
	require.NoError(t, batchesOf(t, train, 32)(func(x []float32, y []int) error {
		_, err := m.AdvProp(x, x, y)
		return err
	}))
	test, err := synth.Split(synth.Config{NTest: 40}, cifar.Test)
	require.NoError(t, err)
	o := attack.DefaultOptions()
	o.Eps = 2.0 / 255
	var attacks []attack.Attack
	for _, name := range append([]string{"pgd-10"}, attack.Suite("aa")...) {
		a, err := attack.New(name, o)
		require.NoError(t, err)
		switch a := a.(type) {
		case *attack.APGD:
			a.Iterations, a.Targets = 10, min(a.Targets, 3)
		case *attack.FAB:
			a.Iterations, a.Targets = 10, 3
		case *attack.Square:
			a.Queries = 60
		}
		attacks = append(attacks, a)
	}
	// Labelled by the model itself, so that every example is attacked.
	own := func(fn func(x []float32, y []int) error) error {
		return batchesOf(t, test, 16)(func(x []float32, _ []int) error {
			z, err := m.Logits(x, nn.Clean, nn.Eval)
			if err != nil {
				return err
			}
			y := make([]int, len(x)/(3*32*32))
			for i := range y {
				for j := 1; j < 10; j++ {
					if z[i*10+j] > z[i*10+y[i]] {
						y[i] = j
					}
				}
			}
			return fn(x, y)
		})
	}
	run := func(unpruned bool) (*attack.Result, int) {
		c := &counting{TargetedModel: m}
		res, err := attack.Evaluate(c, own, attacks, attack.EvalConfig{
			Setting: attack.Setting{Branch: nn.Clean, Mode: nn.Eval}, Seed: 5, Unpruned: unpruned})
		require.NoError(t, err)
		return res, c.examples
	}
	pruned, np := run(false)
	full, nf := run(true)
	assert.Equal(t, full.PerExample, pruned.PerExample)
	assert.Less(t, np, nf, "pruning differentiates fewer examples")
	prev := pruned.SA
	for _, a := range pruned.Attacks[1:] {
		assert.LessOrEqual(t, a.RA, prev, "%s: cumulative", a.Name)
		prev = a.RA
		t.Logf("%s: cumulative RA %.3f", a.Name, a.RA)
	}
	require.Less(t, pruned.Attacks[len(pruned.Attacks)-1].RA, pruned.SA, "the suite fools some examples")
	require.Positive(t, pruned.Attacks[len(pruned.Attacks)-1].RA, "and leaves some robust")
	t.Logf("SA %.3f, examples differentiated: pruned %d, unpruned %d", pruned.SA, np, nf)
}
