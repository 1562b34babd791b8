package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/advbench/advbench/internal/gradcheck"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func randDense(rng *rand.Rand, shape ...int) *tensor.Dense {
	n := 1
	for _, s := range shape {
		n *= s
	}
	d := make([]float64, n)
	for i := range d {
		d[i] = rng.NormFloat64()
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))
}

// checkGrads gradient-checks loss = Σ r⊙y(inputs) with respect to every input.
func checkGrads(t *testing.T, build func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error), inputs ...*tensor.Dense) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	g := gorgonia.NewGraph()
	var nodes []*gorgonia.Node
	for i, v := range inputs {
		nodes = append(nodes, gorgonia.NodeFromAny(g, v, gorgonia.WithName(fmt.Sprintf("in%d", i))))
	}
	y, err := build(g, nodes)
	require.NoError(t, err)
	loss := y
	if y.Shape().TotalSize() > 1 || y.Dims() > 0 {
		loss, _, err = gradcheck.WeightedSum(g, y, rng)
		require.NoError(t, err)
	}
	res, err := gradcheck.Check(g, loss, nodes, gradcheck.Options{})
	require.NoError(t, err)
	for _, r := range res {
		assert.Greater(t, r.MaxGrad, 0.0, r.Name)
		assert.LessOrEqual(t, r.RelErr, 1e-8, r.String())
	}
}

func TestConvGradients(t *testing.T) {
	for _, c := range []struct{ k, stride, pad, h int }{{3, 1, 1, 5}, {3, 2, 1, 6}, {1, 2, 0, 6}, {1, 1, 0, 4}, {3, 1, 0, 5}} {
		t.Run(fmt.Sprintf("k%d_s%d_p%d", c.k, c.stride, c.pad), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(c.k), uint64(c.stride)))
			checkGrads(t, func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
				return Conv2d(in[0], in[1], c.stride, c.pad)
			}, randDense(rng, 3, 2, c.h, c.h), randDense(rng, 4, 2, c.k, c.k))
		})
	}
}

// TestConvMatchesGorgonia compares the conv op with gorgonia's Conv2d on
// random inputs: forward and both backward passes, float64 ≤ 1e-9 and
// float32 ≤ 1e-4 relative (float32 products go through internal/sgemm).
func TestConvMatchesGorgonia(t *testing.T) {
	for _, dt := range []struct {
		dtype tensor.Dtype
		tol   float64
	}{{tensor.Float64, 1e-9}, {tensor.Float32, 1e-4}} {
		for _, c := range []struct{ k, stride, pad int }{{3, 1, 1}, {3, 2, 1}, {1, 2, 0}} {
			t.Run(fmt.Sprintf("%v/k%d_s%d_p%d", dt.dtype, c.k, c.stride, c.pad), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(9, uint64(c.k+c.stride)))
				x, w := randDense(rng, 2, 3, 8, 8), randDense(rng, 5, 3, c.k, c.k)
				run := func(ours bool) [][]float64 {
					g := gorgonia.NewGraph()
					xn := gorgonia.NodeFromAny(g, convert(x, dt.dtype), gorgonia.WithName("x"))
					wn := gorgonia.NodeFromAny(g, convert(w, dt.dtype), gorgonia.WithName("w"))
					var y *gorgonia.Node
					var err error
					if ours {
						y, err = Conv2d(xn, wn, c.stride, c.pad)
					} else {
						y, err = gorgonia.Conv2d(xn, wn, tensor.Shape{c.k, c.k}, []int{c.pad, c.pad}, []int{c.stride, c.stride}, []int{1, 1})
					}
					require.NoError(t, err)
					loss, err := gorgonia.Sum(y)
					require.NoError(t, err)
					prod, err := gorgonia.HadamardProd(y, y)
					require.NoError(t, err)
					sq, err := gorgonia.Sum(prod)
					require.NoError(t, err)
					total, err := gorgonia.Add(loss, sq)
					require.NoError(t, err)
					grads, err := gorgonia.Grad(total, xn, wn)
					require.NoError(t, err)
					m := gorgonia.NewTapeMachine(g)
					defer m.Close()
					require.NoError(t, m.RunAll())
					return [][]float64{ToFloat64(y.Value().(tensor.Tensor)), ToFloat64(grads[0].Value().(tensor.Tensor)), ToFloat64(grads[1].Value().(tensor.Tensor))}
				}
				ours, theirs := run(true), run(false)
				for i, name := range []string{"forward", "dx", "dw"} {
					require.Len(t, ours[i], len(theirs[i]), name)
					assert.LessOrEqual(t, maxRel(ours[i], theirs[i]), dt.tol, name)
				}
			})
		}
	}
}

// convert returns a copy of a float64 tensor in the given dtype.
func convert(t *tensor.Dense, dt tensor.Dtype) *tensor.Dense {
	out := tensor.New(tensor.WithShape(t.Shape().Clone()...), tensor.Of(dt))
	FromFloat64(out, t.Data().([]float64))
	return out
}

func maxRel(a, b []float64) float64 {
	worst, scale := 0.0, 0.0
	for i := range a {
		worst = math.Max(worst, math.Abs(a[i]-b[i]))
		scale = math.Max(scale, math.Abs(b[i]))
	}
	return worst / scale
}

func TestPoolLinearStandardizeGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	t.Run("pool", func(t *testing.T) {
		checkGrads(t, func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return GlobalAvgPool(in[0])
		}, randDense(rng, 3, 4, 2, 2))
	})
	t.Run("linear", func(t *testing.T) {
		checkGrads(t, func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return Linear(in[0], in[1], in[2])
		}, randDense(rng, 3, 5), randDense(rng, 4, 5), randDense(rng, 4))
	})
	t.Run("standardize", func(t *testing.T) {
		checkGrads(t, func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) {
			return Standardize(in[0], []float64{0.4, 0.5}, []float64{0.2, 0.3})
		}, randDense(rng, 2, 2, 3, 3))
	})
	t.Run("crossentropy", func(t *testing.T) {
		labels := tensor.New(tensor.WithShape(4), tensor.WithBacking([]float64{0, 2, 1, 2}))
		g := gorgonia.NewGraph()
		logits := gorgonia.NodeFromAny(g, randDense(rng, 4, 3), gorgonia.WithName("logits"))
		lab := gorgonia.NodeFromAny(g, labels, gorgonia.WithName("labels"))
		loss, err := CrossEntropy(logits, lab)
		require.NoError(t, err)
		res, err := gradcheck.Check(g, loss, []*gorgonia.Node{logits}, gradcheck.Options{})
		require.NoError(t, err)
		assert.LessOrEqual(t, res[0].RelErr, 1e-8, res[0].String())
	})
}

func TestValues(t *testing.T) {
	g := gorgonia.NewGraph()
	logits := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{1, 2, 3, 0, 0, 0})), gorgonia.WithName("l"))
	labels := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{2, 1})), gorgonia.WithName("y"))
	loss, err := CrossEntropy(logits, labels)
	require.NoError(t, err)
	x := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(1, 2, 1, 2), tensor.WithBacking([]float64{1, 3, 5, 9})), gorgonia.WithName("x"))
	pool, err := GlobalAvgPool(x)
	require.NoError(t, err)
	std, err := Standardize(x, []float64{1, 5}, []float64{2, 4})
	require.NoError(t, err)
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	require.NoError(t, m.RunAll())
	want := ((math.Log(math.Exp(1)+math.Exp(2)+math.Exp(3)) - 3) + math.Log(3)) / 2
	assert.InDelta(t, want, loss.Value().Data(), 1e-12)
	assert.Equal(t, []float64{2, 7}, pool.Value().Data())
	assert.Equal(t, []float64{0, 1, 0, 1}, std.Value().Data())

	bad := gorgonia.NewGraph()
	l2 := gorgonia.NodeFromAny(bad, tensor.New(tensor.WithShape(1, 3), tensor.WithBacking([]float64{1, 2, 3})), gorgonia.WithName("l"))
	y2 := gorgonia.NodeFromAny(bad, tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{3})), gorgonia.WithName("y"))
	_, err = CrossEntropy(l2, y2)
	require.NoError(t, err)
	m2 := gorgonia.NewTapeMachine(bad)
	defer m2.Close()
	assert.ErrorContains(t, m2.RunAll(), "label 3 of example 0")
}

func TestMarginValueAndGradient(t *testing.T) {
	g := gorgonia.NewGraph()
	logits := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{1, 4, 2, 0.5, -1, 3})), gorgonia.WithName("l"))
	labels := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{1, 0})), gorgonia.WithName("y"))
	loss, err := ApplyLoss(CWMargin, logits, labels)
	require.NoError(t, err)
	m := gorgonia.NewTapeMachine(g)
	require.NoError(t, m.RunAll())
	m.Close()
	// Example 0: max other 2 - z_y 4 = -2; example 1: 3 - 0.5 = 2.5.
	assert.InDelta(t, (-2+2.5)/2, loss.Value().Data(), 1e-12)
	res, err := gradcheck.Check(g, loss, []*gorgonia.Node{logits}, gradcheck.Options{})
	require.NoError(t, err)
	assert.LessOrEqual(t, res[0].RelErr, 1e-8)
	l, err := ParseLoss("cw")
	require.NoError(t, err)
	assert.Equal(t, CWMargin, l)
	_, err = ParseLoss("hinge")
	assert.ErrorContains(t, err, `"hinge"`)
}

func TestReLU(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	// Keep inputs away from the kink so finite differences are exact.
	x := randDense(rng, 2, 3, 4, 4)
	for i, v := range x.Data().([]float64) {
		if math.Abs(v) < 0.05 {
			x.Data().([]float64)[i] = 0.5
		}
	}
	checkGrads(t, func(g *gorgonia.ExprGraph, in []*gorgonia.Node) (*gorgonia.Node, error) { return ReLU(in[0]) }, x)
	g := gorgonia.NewGraph()
	n := gorgonia.NodeFromAny(g, tensor.New(tensor.WithShape(4), tensor.WithBacking([]float32{-1, 0, 2, -0.5})), gorgonia.WithName("x"))
	y, err := ReLU(n)
	require.NoError(t, err)
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	require.NoError(t, m.RunAll())
	assert.Equal(t, []float32{0, 0, 2, 0}, y.Value().Data())
}

// TestConv2dRejectsBadShapes checks that Conv2d answers shapes and settings
// that make no convolution with an error naming them (a stride of 0 must
// not reach the output-size division).
func TestConv2dRejectsBadShapes(t *testing.T) {
	for _, c := range []struct {
		name        string
		x, w        tensor.Shape
		stride, pad int
		want        string
	}{
		{"3-D input", tensor.Shape{3, 8, 8}, tensor.Shape{4, 3, 3, 3}, 1, 1, "want x (N,C,H,W)"},
		{"channels", tensor.Shape{2, 3, 8, 8}, tensor.Shape{4, 2, 3, 3}, 1, 1, "weight (4, 2, 3, 3) does not fit input (2, 3, 8, 8)"},
		{"non-square kernel", tensor.Shape{2, 3, 8, 8}, tensor.Shape{4, 3, 3, 2}, 1, 1, "weight (4, 3, 3, 2) does not fit input (2, 3, 8, 8)"},
		{"stride 0", tensor.Shape{2, 3, 8, 8}, tensor.Shape{4, 3, 3, 3}, 0, 1, "kernel 3 stride 0 pad 1 does not fit 8x8 input"},
		{"negative padding", tensor.Shape{2, 3, 8, 8}, tensor.Shape{4, 3, 3, 3}, 1, -1, "kernel 3 stride 1 pad -1 does not fit 8x8 input"},
		{"kernel larger than input", tensor.Shape{2, 3, 2, 2}, tensor.Shape{4, 3, 5, 5}, 1, 1, "kernel 5 stride 1 pad 1 does not fit 2x2 input"},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := gorgonia.NewGraph()
			x := gorgonia.NewTensor(g, tensor.Float64, c.x.Dims(), gorgonia.WithShape(c.x...), gorgonia.WithName("x"))
			w := gorgonia.NewTensor(g, tensor.Float64, c.w.Dims(), gorgonia.WithShape(c.w...), gorgonia.WithName("w"))
			_, err := Conv2d(x, w, c.stride, c.pad)
			require.Error(t, err)
			assert.ErrorContains(t, err, "nn: conv2d: "+c.want)
		})
	}
}
