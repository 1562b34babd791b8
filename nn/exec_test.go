package nn

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// chain builds x -> conv -> conv -> ... (depth convolutions of 4 channels,
// 8x8) -> pool -> sum-of-squares loss, and the gradient of the loss with
// respect to x and the first weight.
func chain(t *testing.T, rng *rand.Rand, depth int) (x *gorgonia.Node, loss, dx, dw0 *gorgonia.Node) {
	t.Helper()
	g := gorgonia.NewGraph()
	x = gorgonia.NodeFromAny(g, randDense(rng, 2, 4, 8, 8), gorgonia.WithName("x"))
	h := x
	var w0 *gorgonia.Node
	for i := 0; i < depth; i++ {
		w := gorgonia.NodeFromAny(g, randDense(rng, 4, 4, 3, 3), gorgonia.WithName("w"+string(rune('a'+i))))
		if i == 0 {
			w0 = w
		}
		var err error
		h, err = Conv2d(h, w, 1, 1)
		require.NoError(t, err)
	}
	p, err := GlobalAvgPool(h)
	require.NoError(t, err)
	loss, err = gorgonia.Sum(gorgonia.Must(gorgonia.Square(p)))
	require.NoError(t, err)
	grads, err := gorgonia.Grad(loss, x, w0)
	require.NoError(t, err)
	return x, loss, grads[0], grads[1]
}

func TestProgramMatchesTapeMachine(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x, loss, dx, dw := chain(t, rng, 6)
	p, err := NewProgram(loss, dx, dw)
	require.NoError(t, err)
	require.NoError(t, p.Run())
	got := []gorgonia.Value{p.Value(loss), p.Value(dx), p.Value(dw)}
	require.Nil(t, p.Value(x), "an input that is not an output has no value")

	vm := gorgonia.NewTapeMachine(loss.Graph())
	require.NoError(t, vm.RunAll())
	for i, n := range []*gorgonia.Node{loss, dx, dw} {
		require.Equal(t, n.Value().Data(), got[i].Data(), "output %d", i)
	}

	// New input data is seen by the next run, and outputs are recomputed
	// into recycled buffers without growing the arena.
	bytes := p.ArenaBytes()
	xd := x.Value().Data().([]float64)
	for i := range xd {
		xd[i] = rng.Float64()
	}
	require.NoError(t, p.Run())
	require.Equal(t, bytes, p.ArenaBytes(), "a second run needs no new buffers")
	vm.Reset()
	require.NoError(t, vm.RunAll())
	require.Equal(t, dx.Value().Data(), p.Value(dx).Data())
	require.Equal(t, dw.Value().Data(), p.Value(dw).Data())
}

// TestProgramFreesAfterLastUse: a forward chain keeps only what the backward
// pass needs, and the buffers of gradients that are used up are recycled:
// the arena holds far fewer buffers than the graph has values.
func TestProgramFreesAfterLastUse(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const depth = 12
	_, loss, dx, _ := chain(t, rng, depth)
	p, err := NewProgram(loss, dx)
	require.NoError(t, err)
	require.NoError(t, p.Run())
	per := int64(2 * 4 * 8 * 8 * 8) // one activation, float64
	// Only the input gradient is asked for, so no weight gradient reads an
	// activation: each dies at the next convolution, each gradient at the
	// one before. Two buffers take turns; the tape machine's plan holds all
	// 2·depth values.
	// (Plus a few small values: pooled features and their gradient.)
	require.GreaterOrEqual(t, p.ArenaBytes(), 2*per)
	require.Less(t, p.ArenaBytes(), 3*per, "arena holds %d activations' worth", p.ArenaBytes()/per)
}

func TestProgramErrors(t *testing.T) {
	_, err := NewProgram()
	require.Error(t, err)
	g := gorgonia.NewGraph()
	x := gorgonia.NewTensor(g, tensor.Float64, 4, gorgonia.WithShape(1, 1, 4, 4), gorgonia.WithName("unbound"))
	y, err := GlobalAvgPool(x)
	require.NoError(t, err)
	p, err := NewProgram(y)
	require.NoError(t, err)
	require.ErrorContains(t, p.Run(), "has no value")
	other := gorgonia.NewGraph()
	z := gorgonia.NodeFromAny(other, 1.0, gorgonia.WithName("z"))
	s, err := gorgonia.Add(z, z)
	require.NoError(t, err)
	_, err = NewProgram(y, s)
	require.ErrorContains(t, err, "another graph")
}

// TestProgramParallelAdd: gorgonia's tensor add runs on the program's own
// parallel loop (bit-identical: one rounding per element either way); an add
// of a scalar falls back to gorgonia's.
func TestProgramParallelAdd(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		g := gorgonia.NewGraph()
		av, bv := randDense(rng, 3, 5, 33, 7), randDense(rng, 3, 5, 33, 7)
		if dt == tensor.Float32 {
			av, bv = toFloat32(av), toFloat32(bv)
		}
		a := gorgonia.NodeFromAny(g, av, gorgonia.WithName("a"))
		b := gorgonia.NodeFromAny(g, bv, gorgonia.WithName("b"))
		sum := gorgonia.Must(gorgonia.Add(a, b))
		diff := gorgonia.Must(gorgonia.Sub(a, b))
		var c *gorgonia.Node
		if dt == tensor.Float32 {
			c = gorgonia.NewConstant(float32(0.5))
		} else {
			c = gorgonia.NewConstant(0.5)
		}
		half := gorgonia.Must(gorgonia.Add(a, c))
		assert.True(t, isAdd(sum.Op()), "%v", sum.Op())
		assert.False(t, isAdd(diff.Op()), "%v", diff.Op())

		prog, err := NewProgram(sum, diff, half)
		require.NoError(t, err)
		require.NoError(t, prog.Run())
		want, err := tensor.Add(av, bv)
		require.NoError(t, err)
		wantHalf, err := tensor.Add(av, c.Value())
		require.NoError(t, err)
		assert.Equal(t, wantHalf.Data(), prog.Value(half).(*tensor.Dense).Data(), "%v: tensor + scalar", dt)
		st := prog.steps[prog.index[sum]]
		st.args = []gorgonia.Value{av, bv}
		_, ok, err := prog.parallelAdd(&st)
		require.NoError(t, err)
		assert.True(t, ok, "%v: the tensor add takes the parallel loop", dt)
		st = prog.steps[prog.index[half]]
		st.args = []gorgonia.Value{av, c.Value()}
		_, ok, _ = prog.parallelAdd(&st)
		assert.False(t, ok, "%v: the scalar add does not", dt)
		assert.Equal(t, want.Data(), prog.Value(sum).(*tensor.Dense).Data(), "%v", dt)
	}
}

func toFloat32(d *tensor.Dense) *tensor.Dense {
	out := tensor.New(tensor.WithShape(d.Shape().Clone()...), tensor.Of(tensor.Float32))
	FromFloat64(out, d.Data().([]float64))
	return out
}
