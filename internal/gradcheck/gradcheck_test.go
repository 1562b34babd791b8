package gradcheck

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestCheckerOnKnownFunction checks the checker itself on L = Σ r⊙(x⊙x), whose
// gradient 2 r⊙x is known.
func TestCheckerOnKnownFunction(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	g := gorgonia.NewGraph()
	xv := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{1, -2, 3, 0.5, -1.5, 2.5}))
	x := gorgonia.NodeFromAny(g, xv, gorgonia.WithName("x"))
	sq, err := gorgonia.HadamardProd(x, x)
	require.NoError(t, err)
	loss, w, err := WeightedSum(g, sq, rng)
	require.NoError(t, err)
	res, err := Check(g, loss, []*gorgonia.Node{x}, Options{})
	require.NoError(t, err)
	require.Len(t, res, 1)
	assert.Less(t, res[0].RelErr, 1e-8)
	want := 0.0
	for i, v := range xv.Data().([]float64) {
		want = math.Max(want, math.Abs(2*w[i]*v))
	}
	assert.InDelta(t, want, res[0].MaxGrad, 1e-6)
}

// TestCheckerFlagsWrongGradient uses gorgonia's InverseSqrt, whose derivative
// is wrong (GORGONIA.md trap 6), next to Inverse(Sqrt(x)), whose is right.
func TestCheckerFlagsWrongGradient(t *testing.T) {
	build := func(wrong bool) Result {
		g := gorgonia.NewGraph()
		xv := tensor.New(tensor.WithShape(4), tensor.WithBacking([]float64{0.5, 1.5, 2, 3}))
		x := gorgonia.NodeFromAny(g, xv, gorgonia.WithName("x"))
		var y *gorgonia.Node
		var err error
		if wrong {
			y, err = gorgonia.InverseSqrt(x)
		} else {
			var s *gorgonia.Node
			s, err = gorgonia.Sqrt(x)
			require.NoError(t, err)
			y, err = gorgonia.Inverse(s)
		}
		require.NoError(t, err)
		loss, _, err := WeightedSum(g, y, rand.New(rand.NewPCG(3, 4)))
		require.NoError(t, err)
		res, err := Check(g, loss, []*gorgonia.Node{x}, Options{})
		require.NoError(t, err)
		return res[0]
	}
	assert.Less(t, build(false).RelErr, 1e-7)
	assert.Greater(t, build(true).RelErr, 0.1, "a wrong derivative is flagged")
}

// TestGorgoniaMergesSameNamedInputs records the trap WeightedSum avoids:
// two input nodes of equal name and shape become one node, whatever values
// they are bound to.
func TestGorgoniaMergesSameNamedInputs(t *testing.T) {
	g := gorgonia.NewGraph()
	a := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{1, 2})), gorgonia.WithName("w"))
	b := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{3, 4})), gorgonia.WithName("w"))
	assert.Same(t, a, b, "if gorgonia stops merging these, the warning in nn.Graph can go")
	r := rand.New(rand.NewPCG(1, 1))
	y := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{1, 1})), gorgonia.WithName("y"))
	_, w1, err := WeightedSum(g, y, r)
	require.NoError(t, err)
	_, w2, err := WeightedSum(g, y, r)
	require.NoError(t, err)
	assert.NotEqual(t, w1, w2)
}

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Log(...any)            {}
func (r *recorder) Helper()               {}

func TestAssertFloor(t *testing.T) {
	noise := []Result{{Name: "gate.bias", Checked: 2, RelErr: 1.01e-6, AbsErr: 4.9e-11, MaxGrad: 4.85e-5}}
	wrong := []Result{{Name: "gate.bias", Checked: 2, RelErr: 2e-5, AbsErr: 1e-9, MaxGrad: 4.85e-5}}
	for _, c := range []struct {
		res   []Result
		floor float64
		fail  bool
	}{{noise, 0, true}, {noise, 1e-10, false}, {wrong, 1e-10, true}} {
		r := &recorder{TB: t}
		AssertFloor(r, c.res, 1e-6, c.floor)
		require.Equal(t, c.fail, r.failed, "%v with floor %g", c.res[0], c.floor)
	}
}

// TestCheckFunc: a plain function of a slice, L = Σ w³, with its true
// gradient 3w² passes and a gradient off by 1% in one element is caught.
func TestCheckFunc(t *testing.T) {
	w := []float64{0.5, -1.25, 2}
	loss := func() (float64, error) {
		s := 0.0
		for _, v := range w {
			s += v * v * v
		}
		return s, nil
	}
	good := []float64{3 * 0.25, 3 * 1.5625, 3 * 4}
	res, err := CheckFunc(loss, []Tensor{{Name: "w", Data: w, Grad: good}}, Options{})
	require.NoError(t, err)
	assert.Less(t, res[0].RelErr, 1e-9)
	assert.Equal(t, []float64{0.5, -1.25, 2}, w, "data restored")
	bad := []float64{good[0], good[1] * 1.01, good[2]}
	res, err = CheckFunc(loss, []Tensor{{Name: "w", Data: w, Grad: bad}}, Options{})
	require.NoError(t, err)
	assert.InDelta(t, 0.01*good[1]/good[2], res[0].RelErr, 1e-8)
	_, err = CheckFunc(loss, []Tensor{{Name: "w", Data: w, Grad: good[:2]}}, Options{})
	assert.ErrorContains(t, err, "2 gradient values for 3 elements")
}
