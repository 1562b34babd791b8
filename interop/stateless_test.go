package interop

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advbench/advbench/checkpoint"
	"github.com/advbench/advbench/models/resnet"
	"github.com/advbench/advbench/nn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExportStatelessNorms: a none, gn, ln or in model exports the
// reference's tensors for its norm (none: no norm tensor; gn, ln, in:
// weight and bias, no statistics and no num_batches_tracked counter, as
// PyTorch's GroupNorm and InstanceNorm2d(track_running_stats=False)
// have), GuessNorm names the kind from the names, and the export imports
// back to the same logits; a wrong --norm gets the hint.
func TestExportStatelessNorms(t *testing.T) {
	for _, tc := range []struct{ norm, guess string }{
		{"none", "none"}, {"gn", "gn, ln or in"}, {"ln", "gn, ln or in"}, {"in", "gn, ln or in"},
	} {
		t.Run(tc.norm, func(t *testing.T) {
			m, err := resnet.New(resnet.Config{Norm: tc.norm, Width: 1.0 / 16, Seed: 5})
			require.NoError(t, err)
			path := filepath.Join(t.TempDir(), tc.norm+".safetensors")
			require.NoError(t, Export(m, path, nil))
			f, err := checkpoint.Read(path)
			require.NoError(t, err)
			var normTensors []string
			for _, e := range f.Entries {
				if strings.Contains(e.Name, ".bn") {
					normTensors = append(normTensors, e.Name)
				}
			}
			if tc.norm == "none" {
				assert.Empty(t, normTensors)
			} else {
				// 16 slots, weight and bias each.
				assert.Len(t, normTensors, 32)
				assert.Contains(t, normTensors, "layer1.0.bn1.weight")
				assert.Contains(t, normTensors, "layer4.1.bn2.bias")
			}
			assert.False(t, f.Has("layer1.0.bn1.num_batches_tracked"), "no statistics, no counter")

			sd, err := Read(path)
			require.NoError(t, err)
			assert.Equal(t, tc.guess, sd.GuessNorm())
			back, err := Load(sd, resnet.Config{Norm: tc.norm, Width: 1.0 / 16})
			require.NoError(t, err)
			rng := rand.New(rand.NewPCG(1, 1))
			x := make([]float32, 2*3*32*32)
			for i := range x {
				x[i] = rng.Float32()
			}
			want, err := m.Logits(x, nn.Clean, nn.Eval)
			require.NoError(t, err)
			got, err := back.Logits(x, nn.Clean, nn.Eval)
			require.NoError(t, err)
			assert.Equal(t, want, got)

			_, err = Load(sd, resnet.Config{Norm: "bn", Width: 1.0 / 16})
			assert.ErrorContains(t, err, "(the names look like a "+tc.guess+" model, not bn)")
		})
	}
	// A gn file loads as ln or in too (the same tensors), without a wrong hint.
	m, err := resnet.New(resnet.Config{Norm: "gn", Width: 1.0 / 16})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "gn.safetensors")
	require.NoError(t, Export(m, path, nil))
	sd, err := Read(path)
	require.NoError(t, err)
	_, err = Load(sd, resnet.Config{Norm: "gn", Width: 0.125})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "look like", "gn is among the guessed kinds")
}
