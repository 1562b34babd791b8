package train

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEstimateCell checks the cost model against arithmetic done by hand:
// 2 epochs of 1000 training images at 10 img/s = 200 s; per epoch 2
// branches x 100 validation images + 50 test images, each 2 forwards at
// 100 img/s and 5 PGD steps at 50 img/s (0.12 s), = 2 x 250 x 0.12 = 60 s;
// the final evaluation of 2 x 200 images at 3/100 + 30/50 s = 0.63 s each,
// 252 s.
func TestEstimateCell(t *testing.T) {
	c, err := Preset("smoke")
	require.NoError(t, err)
	c.TrainN, c.ValN, c.TestN, c.Epochs, c.EvalSteps = 1000, 100, 50, 2, 5
	e, err := EstimateCell(c, 200, Rates{Forward: 100, PGDStep: 50, AdvPropIter: 10})
	require.NoError(t, err)
	assert.InDelta(t, 200.0/3600, e.Train, 1e-12)
	assert.InDelta(t, 60.0/3600, e.EpochEval, 1e-12)
	assert.InDelta(t, 252.0/3600, e.FinalEval, 1e-12)
	assert.InDelta(t, 512.0/3600, e.Hours(), 1e-12)
	// 0 means all of CIFAR-10: 45,000 / 5,000 / 10,000.
	c.TrainN, c.ValN, c.TestN, c.Epochs = 0, 0, 0, 1
	e, err = EstimateCell(c, 0, Rates{Forward: 1, PGDStep: 1, AdvPropIter: 1})
	require.NoError(t, err)
	assert.InDelta(t, 45000.0/3600, e.Train, 1e-9)
	assert.InDelta(t, (2*5000+10000)*7.0/3600, e.EpochEval, 1e-9)
	assert.InDelta(t, 2*10000*33.0/3600, e.FinalEval, 1e-9)
	_, err = EstimateCell(c, 0, Rates{})
	assert.ErrorContains(t, err, "rates must be positive")
}

// TestPresetTable: every preset is complete in the one table: a valid
// training configuration named after its key, evaluation sizes, and a cost
// that says where it comes from.
func TestPresetTable(t *testing.T) {
	require.ElementsMatch(t, []string{"smoke", "ci", "quick", "landscape", "paper"}, PresetNames())
	for _, name := range PresetNames() {
		p, err := LookupPreset(name)
		require.NoError(t, err)
		assert.Equal(t, name, p.Config.Preset, name)
		assert.NoError(t, p.Config.Validate(), name)
		assert.GreaterOrEqual(t, p.EvalN, 0, name)
		assert.Positive(t, p.GradN, name)
		assert.Positive(t, p.Cost.CPUHours, name)
		assert.Positive(t, p.Cost.CPUs, name)
		assert.Positive(t, p.Cost.MemMiB, name)
		assert.NotEmpty(t, p.Cost.Measured, name)
	}
	_, err := LookupPreset("nosuch")
	assert.ErrorContains(t, err, `unknown preset "nosuch"`)
}
