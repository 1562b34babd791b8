package norms

import (
	"testing"

	"github.com/advbench/advbench/nn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestNone: the identity adds nothing to the graph (its output is its input
// node) on either branch and in either mode, has no state, and refuses what
// every norm refuses.
func TestNone(t *testing.T) {
	n, err := New("none", Config{Prefix: "layer1.0.bn1", Channels: 4})
	require.NoError(t, err)
	params, buffers := n.State()
	assert.Empty(t, params)
	assert.Empty(t, buffers)
	assert.Equal(t, 1, n.Branches())
	g := nn.NewGraph()
	x := gorgonia.NewTensor(g.G, tensor.Float32, 4, gorgonia.WithShape(2, 4, 3, 3), gorgonia.WithName("x"))
	for _, b := range []nn.Branch{nn.Clean, nn.Adv} {
		for _, m := range []nn.Mode{nn.Train, nn.Eval} {
			y, err := n.Apply(g, x, b, m)
			require.NoError(t, err)
			assert.Same(t, x, y, "branch %s, mode %s", b, m)
		}
	}
	_, err = n.Apply(g, x, nn.Branch(-1), nn.Train)
	assert.ErrorContains(t, err, "norms: layer1.0.bn1: branch -1 out of range")
	flat := gorgonia.NewMatrix(g.G, tensor.Float32, gorgonia.WithShape(2, 4), gorgonia.WithName("flat"))
	_, err = n.Apply(g, flat, nn.Clean, nn.Train)
	assert.ErrorContains(t, err, "norms: layer1.0.bn1/none: input must be (N,C,H,W), got shape (2, 4)")
}
