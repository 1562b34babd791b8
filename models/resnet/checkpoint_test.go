package resnet

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/advbench/advbench/nn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"
)

// TestCheckpointRoundTrip: a trained-looking model (parameters moved, running
// statistics updated) saved and reloaded gives bit-identical logits on both
// branches, and the optimizer tensors and metadata come back.
func TestCheckpointRoundTrip(t *testing.T) {
	m, err := New(Config{Norm: "saauxbn", Width: 1.0 / 16, Seed: 11})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 1))
	perturbParams(m, rng)
	x := randImages(rng, 6)
	for i := 0; i < 3; i++ { // update running statistics
		_, err := m.AdvProp(x, randImages(rng, 6), []int{0, 1, 2, 3, 4, 5})
		require.NoError(t, err)
	}
	mom := nn.NewVar(OptimizerPrefix+"momentum.conv1.weight", tensor.Float32, 4, 3, 3, 3)
	momentum := make([]float64, 108)
	for i := range momentum {
		momentum[i] = float64(i)/64 - 0.75 // values that say whether they came back
	}
	mom.SetFloat64s(momentum)
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	require.NoError(t, m.Save(path, []*nn.Var{mom}, map[string]string{"epoch": "7"}))

	back, f, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, "7", f.Meta["epoch"])
	e, ok := f.Entry(OptimizerPrefix + "momentum.conv1.weight")
	require.True(t, ok, "the optimizer tensor is stored")
	assert.Equal(t, momentum, e.Float64s(), "with its values")
	assert.Equal(t, m.Config(), back.Config())
	for _, b := range []nn.Branch{nn.Clean, nn.Adv} {
		want, err := m.Logits(x, b, nn.Eval)
		require.NoError(t, err)
		got, err := back.Logits(x, b, nn.Eval)
		require.NoError(t, err)
		assert.Equal(t, want, got, "bit-identical logits on branch %s", b)
	}
}

func TestCheckpointRefusals(t *testing.T) {
	dir := t.TempDir()
	m, err := New(Config{Norm: "saauxbn", Width: 1.0 / 16})
	require.NoError(t, err)
	path := filepath.Join(dir, "ck.safetensors")
	require.NoError(t, m.Save(path, nil, nil))

	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	trunc := filepath.Join(dir, "trunc.safetensors")
	require.NoError(t, os.WriteFile(trunc, raw[:len(raw)/2], 0o644))
	_, _, err = Load(trunc)
	assert.ErrorContains(t, err, "trunc.safetensors: truncated")

	// Into a model of another norm: the first mismatching tensor is named.
	other, err := New(Config{Norm: "bn", Width: 1.0 / 16})
	require.NoError(t, err)
	_, f, err := Load(path)
	require.NoError(t, err)
	err = other.LoadState(f)
	assert.ErrorContains(t, err, "tensor layer1.0.bn1.weight (shape [4]) is not in the checkpoint")

	// Into a model of another width: both shapes are named.
	wide, err := New(Config{Norm: "saauxbn", Width: 1.0 / 8})
	require.NoError(t, err)
	err = wide.LoadState(f)
	assert.ErrorContains(t, err, "tensor conv1.weight: the model has float32 [8 3 3 3], the checkpoint float32 [4 3 3 3]")

	assert.ErrorContains(t, m.Save(path, []*nn.Var{nn.NewVar("momentum", tensor.Float32, 1)}, nil), "must be named optimizer.")
}
