package resnet

import (
	"math/rand/v2"
	"testing"

	"github.com/advbench/advbench/nn"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
)

// TestProgramMatchesTapeMachine: the model's own executor (schedule,
// liveness, recycled buffers) computes bit for bit what gorgonia's tape
// machine computes on the same graph, outputs and running statistics alike,
// over two runs (the second on recycled buffers).
func TestProgramMatchesTapeMachine(t *testing.T) {
	keys := []progKey{
		{purpose: purposeInputGrad, branch: nn.Adv, mode: nn.Eval, batch: 6, loss: nn.CWMargin},
		{purpose: purposeTrain, branch: nn.Clean, mode: nn.Train, batch: 6},
		{purpose: purposeTrain, branch: nn.Adv, mode: nn.Train, batch: 6},
	}
	for _, norm := range []string{"bn", "saauxbn", "modenorm"} {
		for _, k := range keys {
			ours, err := New(Config{Norm: norm, Width: 1.0 / 16, Seed: 3})
			require.NoError(t, err)
			theirs, err := New(Config{Norm: norm, Width: 1.0 / 16, Seed: 3})
			require.NoError(t, err)
			rng := rand.New(rand.NewPCG(4, 4))
			perturbParams(ours, rng)
			rng = rand.New(rand.NewPCG(4, 4))
			perturbParams(theirs, rng)
			po, err := ours.program(k)
			require.NoError(t, err)
			pt, err := theirs.build(k)
			require.NoError(t, err)
			vm := gorgonia.NewTapeMachine(pt.g.G.SubgraphRoots(pt.outputs...))
			for run := 0; run < 2; run++ {
				x := randImages(rng, k.batch)
				y := []int{0, 1, 2, 3, 4, run + 5}
				for _, p := range []*program{po, pt} {
					require.NoError(t, setImages(p.x, x))
					require.NoError(t, ours.setLabels(p.labels, y, nil))
				}
				require.NoError(t, po.run())
				vm.Reset()
				require.NoError(t, vm.RunAll())
				for i, n := range po.outputs {
					require.Equal(t, pt.outputs[i].Value().Data(), po.value(n).Data(), "%s %v run %d: output %v", norm, k, run, n)
				}
				_, bo := ours.State()
				_, bt := theirs.State()
				for i := range bo {
					require.Equal(t, bt[i].Value.Data(), bo[i].Value.Data(), "%s %v run %d: buffer %s", norm, k, run, bo[i].Name)
				}
			}
		}
	}
}
