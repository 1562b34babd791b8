package norms

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/advbench/advbench/internal/gradcheck"
	"github.com/advbench/advbench/nn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestDefaultGroups: 32 groups where 32 divides C, C groups below 32, and
// the largest divisor up to 32 otherwise, worked out by hand.
func TestDefaultGroups(t *testing.T) {
	for _, tc := range []struct{ c, want int }{
		{1, 1}, {3, 3}, {4, 4}, {16, 16}, {32, 32}, {64, 32}, {128, 32}, {512, 32},
		{48, 24}, {40, 20}, {96, 32}, {33, 11}, {37, 1}, {80, 20},
	} {
		assert.Equal(t, tc.want, DefaultGroups(tc.c), "C = %d", tc.c)
	}
}

// newGroupTestNorm builds a float64 gn with explicit groups and randomised
// affine parameters.
func newGroupTestNorm(t testing.TB, c, groups int, seed uint64) Norm {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	n, err := New("gn", Config{Prefix: "l", Channels: c, Groups: groups, Dtype: tensor.Float64, Rand: rng})
	require.NoError(t, err)
	params, _ := n.State()
	for _, p := range params {
		d := p.Float64s()
		for i := range d {
			d[i] += 0.3 * rng.NormFloat64()
		}
		p.SetFloat64s(d)
	}
	return n
}

// TestGroupNormGroups: gn with 1, 2, 3 and 6 groups of 6 channels matches
// the loop-by-loop definition in both modes (the registry-wide tests use 3
// or 4 channels, where the default grouping is one channel per group);
// 1 group is ln's function and 6 groups in's.
func TestGroupNormGroups(t *testing.T) {
	const C = 6
	for _, groups := range []int{1, 2, 3, 6} {
		t.Run(fmt.Sprint(groups), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(groups), 1))
			n := newGroupTestNorm(t, C, groups, 3)
			st := readState(n)
			x := randInput(rng, 3, C, 3, 2)
			want := naiveGroupNorm(x.Data().([]float64), 3, C, 6, groups, st["weight"], st["bias"])
			for _, m := range []nn.Mode{nn.Train, nn.Eval} {
				assertClose(t, want, run(t, n, x, nn.Clean, m), 1e-12, "mode %s", m)
			}
			var same string
			switch groups {
			case 1:
				same = "ln"
			case C:
				same = "in"
			default:
				return
			}
			other, err := New(same, Config{Prefix: "l", Channels: C, Dtype: tensor.Float64})
			require.NoError(t, err)
			copyState(n, other)
			assertClose(t, want, run(t, other, x, nn.Clean, nn.Train), 1e-12, "%s", same)
		})
	}
}

// TestGroupNormGradients: float64 gradient checks of gn with groups of
// several channels (TestGradients covers one channel per group).
func TestGroupNormGradients(t *testing.T) {
	for _, groups := range []int{2, 3} {
		t.Run(fmt.Sprint(groups), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(11, uint64(groups)))
			n := newGroupTestNorm(t, 6, groups, 5)
			g := nn.NewGraph()
			x := gorgonia.NodeFromAny(g.G, randInput(rng, 3, 6, 3, 2), gorgonia.WithName("x"))
			y, err := ApplyReLU(n, g, x, nn.Adv, nn.Train)
			require.NoError(t, err)
			loss, _, err := gradcheck.WeightedSum(g.G, y, rng)
			require.NoError(t, err)
			wrt := []*gorgonia.Node{x}
			for _, v := range g.Bound() {
				wrt = append(wrt, g.Node(v))
			}
			res, err := gradcheck.Check(g.G, loss, wrt, gradcheck.Options{Kinks: true})
			require.NoError(t, err)
			gradcheck.Assert(t, res, 1e-6)
		})
	}
}

func TestGroupNormBadGroups(t *testing.T) {
	for _, groups := range []int{-1, 4, 7} {
		_, err := New("gn", Config{Prefix: "layer1.0.bn1", Channels: 6, Groups: groups})
		assert.ErrorContains(t, err, fmt.Sprintf("norms: layer1.0.bn1: groups %d must divide channels 6", groups))
	}
}
