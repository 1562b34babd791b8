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
