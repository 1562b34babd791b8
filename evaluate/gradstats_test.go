package evaluate

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/advbench/advbench/attack"
	"github.com/advbench/advbench/data/cifar"
	"github.com/advbench/advbench/data/source"
	"github.com/advbench/advbench/models/resnet"
	"github.com/advbench/advbench/nn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCompareByHand: norms, their standard deviation and the cosine of two
// small vectors worked out by hand.
func TestCompareByHand(t *testing.T) {
	s := compare([]float64{3, 4}, []float64{0, 5})
	assert.InDelta(t, 5, s.CleanNorm, 1e-15)
	assert.InDelta(t, 5, s.AdvNorm, 1e-15)
	assert.InDelta(t, 0, s.NormStd, 1e-15)
	assert.InDelta(t, 0.8, s.Cosine, 1e-15) // (3·0 + 4·5) / (5·5)
	s = compare([]float64{1, 0, 0}, []float64{0, -2, 0})
	assert.InDelta(t, 0.5, s.NormStd, 1e-15) // std of {1, 2}
	assert.InDelta(t, 0, s.Cosine, 1e-15)
	s = compare([]float64{1, 1}, []float64{-2, -2})
	assert.InDelta(t, -1, s.Cosine, 1e-15)
	assert.Zero(t, compare([]float64{0, 0}, []float64{1, 0}).Cosine, "a zero gradient has no direction")
}

// TestGradStatsTinyNetwork recomputes the statistics of a width-1/16
// network by hand: per batch, from the checkpoint's state, the PGD input on
// the adversarial branch, the two training-mode gradients of each stage's
// last convolution, their norms, standard deviation and cosine; then mean
// and std over the batches.
func TestGradStatsTinyNetwork(t *testing.T) {
	ckpt := checkpointOf(t, "saauxbn")
	spec := GradSpec{Target: ckpt, Data: "builtin", N: 12, Batch: 6, Steps: 2, Seed: 4, Out: filepath.Join(t.TempDir(), "g.json")}
	oc, err := GradStats(context.Background(), spec, Options{})
	require.NoError(t, err)
	got := oc.File
	require.Len(t, got.Stages, 4)
	assert.Equal(t, 2, got.Batches)
	assert.Equal(t, "train", got.AttackMode)

	test, err := source.Load(source.Spec{}, cifar.Test)
	require.NoError(t, err)
	var cleanNorms, advNorms, stds, cosines [4][]float64
	for k := 0; k < 2; k++ {
		m, _, err := resnet.Load(ckpt) // every batch from the checkpoint's state
		require.NoError(t, err)
		x := make([]float32, 6*cifar.ImageBytes)
		y := make([]int, 6)
		for i := 0; i < 6; i++ {
			test.Float32(k*6+i, x[i*cifar.ImageBytes:(i+1)*cifar.ImageBytes])
			y[i] = int(test.Labels[k*6+i])
		}
		xAdv, err := attack.NewPGD(2, attack.DefaultOptions()).Run(m, x, y, attack.Setting{Branch: nn.Adv, Mode: nn.Train}, rand.New(rand.NewPCG(4, gradStream|uint64(k))))
		require.NoError(t, err)
		rc, err := m.Train(x, y, nn.Clean)
		require.NoError(t, err)
		cg := map[string][]float64{}
		for _, g := range rc.Grads {
			cg[g.Param.Name] = g.Float64s()
		}
		ra, err := m.Train(xAdv, y, nn.Adv)
		require.NoError(t, err)
		for _, g := range ra.Grads {
			for s, name := range StageParams {
				if g.Param.Name != name {
					continue
				}
				a, b := cg[name], g.Float64s()
				var aa, bb, ab float64
				for i := range a {
					aa, bb, ab = aa+a[i]*a[i], bb+b[i]*b[i], ab+a[i]*b[i]
				}
				cleanNorms[s] = append(cleanNorms[s], math.Sqrt(aa))
				advNorms[s] = append(advNorms[s], math.Sqrt(bb))
				stds[s] = append(stds[s], math.Abs(math.Sqrt(aa)-math.Sqrt(bb))/2)
				cosines[s] = append(cosines[s], ab/math.Sqrt(aa*bb))
			}
		}
	}
	mean := func(v []float64) float64 { return (v[0] + v[1]) / 2 }
	sd := func(v []float64) float64 { return math.Abs(v[0]-v[1]) / math.Sqrt2 }
	for s, st := range got.Stages {
		assert.Equal(t, s+1, st.Stage)
		assert.Equal(t, StageParams[s], st.Param)
		require.Len(t, st.PerBatch, 2)
		assert.InDelta(t, mean(cleanNorms[s]), st.CleanNorm.Mean, 1e-6*mean(cleanNorms[s]))
		assert.InDelta(t, mean(advNorms[s]), st.AdvNorm.Mean, 1e-6*mean(advNorms[s]))
		assert.InDelta(t, mean(stds[s]), st.NormStd.Mean, 1e-6*mean(cleanNorms[s]))
		assert.InDelta(t, sd(stds[s]), st.NormStd.Std, 1e-6*mean(cleanNorms[s]))
		assert.InDelta(t, mean(cosines[s]), st.Cosine.Mean, 1e-6)
		assert.Greater(t, st.CleanNorm.Mean, 0.0)
		assert.NotEqual(t, st.CleanNorm.Mean, st.AdvNorm.Mean, "the two losses differ")
	}
	again, err := GradStats(context.Background(), spec, Options{Force: true})
	require.NoError(t, err)
	assert.False(t, again.Reused, "computed again")
	assert.Equal(t, got, again.File, "deterministic: batches do not depend on each other or on earlier runs")
}
