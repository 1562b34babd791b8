package norms

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advbench/advbench/nn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// torchCase is one layer fixture of testdata/torch_norms.json, made with
// PyTorch by scripts/make_torch_fixtures.py --norms-out.
type torchCase struct {
	Name    string    `json:"name"`
	Norm    string    `json:"norm"`
	Groups  int       `json:"groups"` // gn only; 0: the layer picks its default
	Shape   []int     `json:"shape"`
	Keys    []string  `json:"state_dict_keys"`
	X       []float64 `json:"x"`
	R       []float64 `json:"r"` // loss = Σ r⊙y in training mode
	YTrain  []float64 `json:"y_train"`
	YEval   []float64 `json:"y_eval"`
	DX      []float64 `json:"dx"`
	Weight  []float64 `json:"weight"`
	Bias    []float64 `json:"bias"`
	DWeight []float64 `json:"dweight"`
	DBias   []float64 `json:"dbias"`
}

// TestMatchesPyTorch: none, gn (3 groups of 6 channels, and its default
// grouping of 64 channels), ln and in give PyTorch's outputs in training
// and evaluation mode, and autograd's gradients of the input, weight and
// bias, in float64; their parameters carry PyTorch's state-dict names.
func TestMatchesPyTorch(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "torch_norms.json"))
	require.NoError(t, err)
	var doc struct {
		Cases []torchCase `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	require.Len(t, doc.Cases, 5)
	for _, tc := range doc.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			n, err := New(tc.Norm, Config{Prefix: "l", Channels: tc.Shape[1], Groups: tc.Groups, Dtype: tensor.Float64})
			require.NoError(t, err)
			params, buffers := n.State()
			assert.Empty(t, buffers, "no running statistics")
			var names []string
			for _, p := range params {
				names = append(names, strings.TrimPrefix(p.Name, "l."))
			}
			assert.Equal(t, tc.Keys, append([]string{}, names...), "PyTorch's state-dict keys")
			if len(params) > 0 {
				require.Len(t, params, 2)
				params[0].SetFloat64s(tc.Weight)
				params[1].SetFloat64s(tc.Bias)
			}
			x := tensor.New(tensor.WithShape(tc.Shape...), tensor.WithBacking(append([]float64(nil), tc.X...)))
			assertClose(t, tc.YEval, run(t, n, x, nn.Clean, nn.Eval), 1e-12, "eval output")

			g := nn.NewGraph()
			xn := gorgonia.NodeFromAny(g.G, x, gorgonia.WithName("x"))
			y, err := n.Apply(g, xn, nn.Adv, nn.Train)
			require.NoError(t, err)
			r := gorgonia.NodeFromAny(g.G, tensor.New(tensor.WithShape(tc.Shape...), tensor.WithBacking(tc.R)), gorgonia.WithName("r"))
			prod, err := gorgonia.HadamardProd(y, r)
			require.NoError(t, err)
			loss, err := gorgonia.Sum(prod)
			require.NoError(t, err)
			wrt := []*gorgonia.Node{xn}
			for _, p := range params {
				wrt = append(wrt, g.Node(p))
			}
			grads, err := gorgonia.Grad(loss, wrt...)
			require.NoError(t, err)
			vm := gorgonia.NewTapeMachine(g.G)
			defer vm.Close()
			require.NoError(t, vm.RunAll())
			assertClose(t, tc.YTrain, nn.ToFloat64(y.Value().(tensor.Tensor)), 1e-12, "train output")
			assertClose(t, tc.DX, nn.ToFloat64(grads[0].Value().(tensor.Tensor)), 1e-10, "input gradient")
			if len(params) > 0 {
				assertClose(t, tc.DWeight, nn.ToFloat64(grads[1].Value().(tensor.Tensor)), 1e-10, "weight gradient")
				assertClose(t, tc.DBias, nn.ToFloat64(grads[2].Value().(tensor.Tensor)), 1e-10, "bias gradient")
			}
		})
	}
}
