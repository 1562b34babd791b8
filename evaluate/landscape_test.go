package evaluate

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/advbench/advbench/attack"
	"github.com/advbench/advbench/data/cifar"
	"github.com/advbench/advbench/data/source"
	"github.com/advbench/advbench/landscape"
	"github.com/advbench/advbench/models/resnet"
	"github.com/advbench/advbench/nn"
	"github.com/advbench/advbench/train"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withoutSeconds returns lines without their wall times.
func withoutSeconds(lines []landscape.Line) []landscape.Line {
	out := append([]landscape.Line(nil), lines...)
	for i := range out {
		out[i].Seconds = 0
	}
	return out
}

// TestLandscapeOfCheckpoint: a checkpoint outside a run is probed on the
// first test images, both passes, at the default learning rate; each
// line's losses at w are the training-mode cross-entropy of its batch
// computed afresh (the adversarial one on x_adv from PGD seeded by the
// batch), the untrained checkpoint is at its initial weights (regenerated
// from its seed: distance 0), the file is left as it was, an existing
// output is refused without Force, and a forced rerun gives the same lines.
func TestLandscapeOfCheckpoint(t *testing.T) {
	ckpt := checkpointOf(t, "saauxbn")
	before, err := os.ReadFile(ckpt)
	require.NoError(t, err)
	out := filepath.Join(t.TempDir(), "l.jsonl")
	spec := LandscapeSpec{Target: ckpt, Data: "builtin", Batches: 2, Batch: 6, Steps: 2, Seed: 4, Out: out}
	oc, err := Landscape(context.Background(), spec, Options{})
	require.NoError(t, err)
	assert.Equal(t, out, oc.Path)
	require.Len(t, oc.File, 2)
	after, err := os.ReadFile(ckpt)
	require.NoError(t, err)
	assert.Equal(t, before, after)

	test, err := source.Load(source.Spec{}, cifar.Test)
	require.NoError(t, err)
	for k, l := range oc.File {
		assert.Equal(t, k+1, l.Batch)
		assert.Equal(t, DefaultLandscapeLR, l.LR)
		assert.Equal(t, landscape.AllStages, l.Distance[len(l.Distance)-1].Stage)
		assert.Zero(t, l.Distance[len(l.Distance)-1].Distance, "an untrained checkpoint is its seed's initial weights")
		require.Len(t, l.Probes, 2)
		m, _, err := resnet.Load(ckpt)
		require.NoError(t, err)
		x := make([]float32, 6*cifar.ImageBytes)
		y := make([]int, 6)
		for i := 0; i < 6; i++ {
			test.Float32(k*6+i, x[i*cifar.ImageBytes:(i+1)*cifar.ImageBytes])
			y[i] = int(test.Labels[k*6+i])
		}
		xAdv, err := attack.NewPGD(2, attack.DefaultOptions()).Run(m, x, y, attack.Setting{Branch: nn.Adv, Mode: nn.Train}, rand.New(rand.NewPCG(4, landscapeStream|uint64(k))))
		require.NoError(t, err)
		lc, _, _, err := m.LossGrad(x, y, nn.CE, nn.Clean, nn.Train)
		require.NoError(t, err)
		la, _, _, err := m.LossGrad(xAdv, y, nn.CE, nn.Adv, nn.Train)
		require.NoError(t, err)
		assert.InDelta(t, lc, l.Probes[0].Loss, 1e-6, "batch %d clean", k+1)
		assert.InDelta(t, la, l.Probes[1].Loss, 1e-6, "batch %d adversarial", k+1)
		assert.Equal(t, "adversarial", l.Probes[1].Input)
	}
	read, err := landscape.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, oc.File, read)

	_, err = Landscape(context.Background(), spec, Options{})
	var exists *ExistsError
	require.ErrorAs(t, err, &exists)
	assert.Equal(t, out, exists.Path)
	again, err := Landscape(context.Background(), spec, Options{Force: true})
	require.NoError(t, err)
	assert.Equal(t, withoutSeconds(oc.File), withoutSeconds(again.File))
}

// TestLandscapeOfRun: a run's checkpoint is probed on the passes of the
// run's objective (the clean objective: the clean pass only), at the run's
// learning rate at the checkpoint's position, into the run's results.
func TestLandscapeOfRun(t *testing.T) {
	c, err := train.Preset("smoke")
	require.NoError(t, err)
	c.Objective, c.Epochs, c.Milestones, c.TrainN, c.ValN, c.TestN = "clean", 1, nil, 128, 16, 32
	dir := filepath.Join(t.TempDir(), "run")
	_, err = train.Start(context.Background(), c, dir, train.Options{})
	require.NoError(t, err)
	oc, err := Landscape(context.Background(), LandscapeSpec{Target: dir, Batches: 1, Batch: 8}, Options{})
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "results", "landscape-last.jsonl"), oc.Path)
	require.Len(t, oc.File, 1)
	l := oc.File[0]
	assert.Equal(t, []int{1, 0, 2}, []int{l.Epoch, l.Step, l.GlobalStep}, "after epoch 0's two steps of 64")
	assert.Equal(t, c.LR, l.LR, "past the 4-iteration warm-up")
	require.Len(t, l.Probes, 1)
	assert.Equal(t, "clean", l.Probes[0].Input)
	assert.Positive(t, l.Distance[len(l.Distance)-1].Distance, "trained weights moved")
	assert.Len(t, l.Probes[0].Shift, len(landscape.DefaultLayers))
}
