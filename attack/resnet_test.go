package attack_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/advbench/advbench/attack"
	"github.com/advbench/advbench/data/cifar"
	"github.com/advbench/advbench/data/loader"
	"github.com/advbench/advbench/data/synth"
	"github.com/advbench/advbench/models/resnet"
	"github.com/advbench/advbench/nn"
	"github.com/advbench/advbench/results"
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
	m, test := tinyTrained(t, 48)

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
	m, test := tinyTrained(t, 40)
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
	own := ownLabels(t, m, batchesOf(t, test, 16), false)
	pruned, np, nf := prunedAndFull(t, m, own, attacks, 5)
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

// TestPrunedPGDFlagsUnchanged: PGD with restarts in an evaluation attacks
// only the clean-correct examples and runs a restart only on those no
// earlier restart fooled, with the random starts of the whole batch; every
// per-example flag is the same as attacking every example with every
// restart, on batches of 16 and a last one of 8 (true labels: a tiny model
// misclassifies many), with fewer examples differentiated.
func TestPrunedPGDFlagsUnchanged(t *testing.T) {
	if testing.Short() {
		t.Skip("tiny ResNet evaluated twice")
	}
	m, test := tinyTrained(t, 40)
	o := attack.DefaultOptions()
	// Two short steps from the random start: the start decides the outcome.
	o.Eps, o.Step, o.Restarts = 2.0/255, 0.25/255, 3
	a, err := attack.New("pgd-10", o)
	require.NoError(t, err)
	pgd := a.(*attack.PGD)
	pgd.Steps = 2
	pruned, np, nf := prunedAndFull(t, m, ownLabels(t, m, batchesOf(t, test, 16), true), []attack.Attack{pgd}, 9)
	ra := pruned.Attacks[0].RA
	require.Less(t, pruned.SA, 1.0, "some examples misclassified clean")
	require.Less(t, ra, pruned.SA, "some fooled")
	require.Positive(t, ra, "some robust")
	t.Logf("SA %.3f, RA %.3f; examples differentiated: pruned %d, unpruned %d", pruned.SA, ra, np, nf)
}

// prunedAndFull evaluates the attacks on the clean branch in eval mode
// twice, pruned and unpruned, asserts that every per-example flag is the
// same and that pruning differentiated fewer examples, and returns the
// pruned result and both counts.
func prunedAndFull(t *testing.T, m *resnet.Model, batches attack.Batches, attacks []attack.Attack, seed uint64) (*attack.Result, int, int) {
	t.Helper()
	run := func(unpruned bool) (*attack.Result, int) {
		c := &counting{TargetedModel: m}
		res, err := attack.Evaluate(c, batches, attacks, attack.EvalConfig{
			Setting: attack.Setting{Branch: nn.Clean, Mode: nn.Eval}, Seed: seed, Unpruned: unpruned})
		require.NoError(t, err)
		return res, c.examples
	}
	pruned, np := run(false)
	full, nf := run(true)
	assert.Equal(t, full.PerExample, pruned.PerExample)
	// The check attacks on the first examples run on the examples they
	// count only: every count is the same. (Sums over the attacked examples,
	// the loss-raised count and loss trace, differ by design.)
	assert.Equal(t, subsetChecks(full), subsetChecks(pruned), "the check attacks count the same examples the same way")
	assert.Less(t, np, nf, "pruning differentiates fewer examples")
	return pruned, np, nf
}

// subsetChecks are the checks and diagnostics of a result that the check
// attacks on the first examples decide.
func subsetChecks(r *attack.Result) []results.Check {
	var out []results.Check
	for _, c := range append(slices.Clone(r.Checks), r.Diagnostics...) {
		for _, s := range []string{"fgsm RA >= this RA", "large eps RA near 0", "unbounded attack succeeds", "doubled steps agree", "transfer weaker than white-box"} {
			if strings.HasSuffix(c.Name, ": "+s) {
				out = append(out, c)
			}
		}
	}
	return out
}

// tinyTrained is a width-1/16 SaAuxBN ResNet after two AdvProp steps on
// 64 built-in images (its running statistics take data-like values), and
// n built-in test images.
func tinyTrained(t *testing.T, n int) (*resnet.Model, *cifar.Dataset) {
	m, err := resnet.New(resnet.Config{Norm: "saauxbn", Width: 1.0 / 16, Seed: 1})
	require.NoError(t, err)
	train, err := synth.Split(synth.Config{NTrain: 64}, cifar.Train)
	require.NoError(t, err)
	require.NoError(t, batchesOf(t, train, 32)(func(x []float32, y []int) error {
		_, err := m.AdvProp(x, x, y)
		return err
	}))
	test, err := synth.Split(synth.Config{NTest: n}, cifar.Test)
	require.NoError(t, err)
	return m, test
}

// ownLabels labels the batches' examples with the model's own clean
// prediction, so that each is clean-correct; with halfWrong the odd ones
// get the next class instead, so that half are misclassified.
func ownLabels(t *testing.T, m *resnet.Model, batches attack.Batches, halfWrong bool) attack.Batches {
	return func(fn func(x []float32, y []int) error) error {
		return batches(func(x []float32, _ []int) error {
			z, err := m.Logits(x, nn.Clean, nn.Eval)
			require.NoError(t, err)
			y := make([]int, len(x)/(3*32*32))
			for i := range y {
				for j := 1; j < 10; j++ {
					if z[i*10+j] > z[i*10+y[i]] {
						y[i] = j
					}
				}
				if halfWrong && i%2 == 1 {
					y[i] = (y[i] + 1) % 10
				}
			}
			return fn(x, y)
		})
	}
}
