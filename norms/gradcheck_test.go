package norms

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/advbench/advbench/internal/gradcheck"
	"github.com/advbench/advbench/nn"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
)

// TestGradients checks the analytic gradient of every registered norm, for
// both branches, in training and evaluation mode, with respect to the input
// and every parameter, against float64 central differences: max relative
// error (infinity norm) ≤ 1e-6.
func TestGradients(t *testing.T) {
	for _, name := range Names() {
		for _, b := range []nn.Branch{nn.Clean, nn.Adv} {
			for _, m := range []nn.Mode{nn.Train, nn.Eval} {
				t.Run(fmt.Sprintf("%s/%s/%s", name, b, m), func(t *testing.T) {
					rng := rand.New(rand.NewPCG(7, uint64(b)))
					n := newTestNorm(t, name, 3, 11)
					if m == nn.Eval {
						// Give the running statistics values of their own.
						for k := 0; k < 3; k++ {
							run(t, n, randInput(rng, 5, 3, 3, 2), b, nn.Train)
						}
					}
					g := nn.NewGraph()
					x := gorgonia.NodeFromAny(g.G, randInput(rng, 4, 3, 3, 2), gorgonia.WithName("x"))
					y, err := n.Apply(g, x, b, m)
					require.NoError(t, err)
					loss, _, err := gradcheck.WeightedSum(g.G, y, rng)
					require.NoError(t, err)
					wrt := []*gorgonia.Node{x}
					for _, v := range g.Bound() {
						wrt = append(wrt, g.Node(v))
					}
					res, err := gradcheck.Check(g.G, loss, wrt, gradcheck.Options{})
					require.NoError(t, err)
					gradcheck.Assert(t, res, 1e-6)
				})
			}
		}
	}
}
