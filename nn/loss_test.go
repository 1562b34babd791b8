package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/advbench/advbench/internal/gradcheck"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestDLRHandExample: the DLR losses of a hand-sorted example, computed by
// hand. z = (1, 4, 2, 0.5) sorts as 4 > 2 > 1 > 0.5 (classes 1, 2, 0, 3).
func TestDLRHandExample(t *testing.T) {
	z := []float64{1, 4, 2, 0.5}
	for _, tc := range []struct {
		name string
		kind Loss
		y, t int
		want float64
	}{
		// y = 0: −(1 − 4) / (4 − 1) = 1.
		{"untargeted, true class not on top", DLR, 0, 0, 1},
		// y = 1 (on top): the runner-up is 2: −(4 − 2) / (4 − 1) = −2/3.
		{"untargeted, true class on top", DLR, 1, 0, -2.0 / 3},
		// y = 0, t = 2: −(1 − 2) / (4 − (1 + 0.5)/2) = 1/3.25.
		{"targeted", DLRTargeted, 0, 2, 1 / 3.25},
		// y = 1, t = 3: −(4 − 0.5) / 3.25.
		{"targeted, true class on top", DLRTargeted, 1, 3, -3.5 / 3.25},
		{"targeted margin", CWTargeted, 1, 3, 0.5 - 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.InDelta(t, tc.want, ExampleLoss(tc.kind, z, tc.y, tc.t, nil), 1e-11)
		})
	}
	assert.True(t, math.IsNaN(ExampleLoss(DLR, []float64{1, 2}, 0, 0, nil)), "DLR needs 3 classes")
	assert.True(t, math.IsNaN(ExampleLoss(DLRTargeted, []float64{1, 2, 3}, 0, 1, nil)), "targeted DLR needs 4")
}

// TestDLRInvariant: DLR and targeted DLR do not change when the logits are
// shifted by a constant or scaled by a positive factor (unlike CE and the
// CW margin, which the test also shows change: the check can fail).
func TestDLRInvariant(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for trial := 0; trial < 20; trial++ {
		z := make([]float64, 10)
		for i := range z {
			z[i] = 3 * rng.NormFloat64()
		}
		y, tg := rng.IntN(10), rng.IntN(10)
		for _, a := range []float64{0.5, 3, 100} {
			for _, c := range []float64{-7, 0, 42} {
				z2 := make([]float64, len(z))
				for i, v := range z {
					z2[i] = a*v + c
				}
				for _, kind := range []Loss{DLR, DLRTargeted} {
					assert.InDelta(t, ExampleLoss(kind, z, y, tg, nil), ExampleLoss(kind, z2, y, tg, nil), 1e-9, "%s, a %v, c %v", kind, a, c)
				}
				if a != 1 {
					assert.NotEqual(t, ExampleLoss(CWMargin, z, y, tg, nil), ExampleLoss(CWMargin, z2, y, tg, nil))
				}
			}
		}
	}
}

// TestDLRGradient: the DLR losses' gradients in the graph op against
// central finite differences, and the batch mean on a (N, 2) label node.
func TestDLRGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	for _, kind := range []Loss{DLR, DLRTargeted, CWTargeted} {
		t.Run(kind.String(), func(t *testing.T) {
			g := gorgonia.NewGraph()
			z := randDense(rng, 3, 5)
			logits := gorgonia.NodeFromAny(g, z, gorgonia.WithName("l"))
			lab := tensor.New(tensor.WithShape(3), tensor.WithBacking([]float64{1, 0, 4}))
			if kind.Targeted() {
				lab = tensor.New(tensor.WithShape(3, 2), tensor.WithBacking([]float64{1, 2, 0, 3, 4, 0}))
			}
			labels := gorgonia.NodeFromAny(g, lab, gorgonia.WithName("y"))
			loss, err := ApplyLoss(kind, logits, labels)
			require.NoError(t, err)
			m := gorgonia.NewTapeMachine(g)
			require.NoError(t, m.RunAll())
			m.Close()
			zs := z.Data().([]float64)
			want := 0.0
			for i, yt := range [][2]int{{1, 2}, {0, 3}, {4, 0}} {
				want += ExampleLoss(kind, zs[5*i:5*i+5], yt[0], yt[1], nil) / 3
			}
			assert.InDelta(t, want, loss.Value().Data(), 1e-12)
			res, err := gradcheck.Check(g, loss, []*gorgonia.Node{logits}, gradcheck.Options{})
			require.NoError(t, err)
			assert.LessOrEqual(t, res[0].RelErr, 1e-6)
		})
	}
	g := gorgonia.NewGraph()
	logits := gorgonia.NodeFromAny(g, randDense(rng, 2, 3), gorgonia.WithName("l"))
	labels := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{0, 1})), gorgonia.WithName("y"))
	_, err := ApplyLoss(DLRTargeted, logits, labels)
	assert.ErrorContains(t, err, "at least 4 classes")
	for _, name := range []string{"ce", "cw", "dlr", "dlr-t", "cw-t"} {
		l, err := ParseLoss(name)
		require.NoError(t, err)
		assert.Equal(t, name, l.String())
	}
}
