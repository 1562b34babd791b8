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

// TestFusedReLU: ApplyReLU's fused op gives bit-identical outputs to
// nn.ReLU after Apply, and its gradients pass the same float64 check
// (ReLU kinks inside the stencil are detected and re-differenced).
func TestFusedReLU(t *testing.T) {
	for _, name := range Names() {
		for _, m := range []nn.Mode{nn.Train, nn.Eval} {
			t.Run(fmt.Sprintf("%s/%s", name, m), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(13, 1))
				n := newTestNorm(t, name, 3, 17)
				if m == nn.Eval { // running statistics of their own, as in TestGradients
					for k := 0; k < 3; k++ {
						run(t, n, randInput(rng, 5, 3, 3, 2), nn.Adv, nn.Train)
					}
				}
				x := randInput(rng, 4, 3, 3, 2)

				g1 := nn.NewGraph()
				x1 := gorgonia.NodeFromAny(g1.G, x, gorgonia.WithName("x"))
				fused, err := ApplyReLU(n, g1, x1, nn.Adv, m)
				require.NoError(t, err)
				g2 := nn.NewGraph()
				x2 := gorgonia.NodeFromAny(g2.G, x, gorgonia.WithName("x"))
				plain, err := n.Apply(g2, x2, nn.Adv, m)
				require.NoError(t, err)
				separate, err := nn.ReLU(plain)
				require.NoError(t, err)
				for _, g := range []*gorgonia.ExprGraph{g1.G, g2.G} {
					vm := gorgonia.NewTapeMachine(g)
					require.NoError(t, vm.RunAll())
					vm.Close()
				}
				assert.Equal(t, separate.Value().Data(), fused.Value().Data())

				loss, _, err := gradcheck.WeightedSum(g1.G, fused, rng)
				require.NoError(t, err)
				wrt := []*gorgonia.Node{x1}
				for _, v := range g1.Bound() {
					wrt = append(wrt, g1.Node(v))
				}
				res, err := gradcheck.Check(g1.G, loss, wrt, gradcheck.Options{Kinks: true})
				require.NoError(t, err)
				gradcheck.Assert(t, res, 1e-6)
			})
		}
	}
}
