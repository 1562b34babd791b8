package norms

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/advbench/advbench/internal/gradcheck"
	"github.com/advbench/advbench/nn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// step builds loss = Σ_b Σ r_b⊙norm(x_b) over the given (branch, input)
// pairs in one graph, runs it once in training mode and returns the gradient
// of every bound parameter by name, and the input gradients. The weights r_b
// depend on (seed, b) only, so single- and two-branch graphs agree on them.
func step(t *testing.T, n Norm, inputs map[nn.Branch]*tensor.Dense, seed uint64) (map[string][]float64, map[nn.Branch][]float64) {
	t.Helper()
	g := nn.NewGraph()
	var loss *gorgonia.Node
	xs := map[nn.Branch]*gorgonia.Node{}
	for _, b := range []nn.Branch{nn.Clean, nn.Adv} {
		x, ok := inputs[b]
		if !ok {
			continue
		}
		xn := gorgonia.NodeFromAny(g.G, x, gorgonia.WithName("x"+b.String()))
		xs[b] = xn
		y, err := n.Apply(g, xn, b, nn.Train)
		require.NoError(t, err)
		l, _, err := gradcheck.WeightedSum(g.G, y, rand.New(rand.NewPCG(seed, uint64(b))))
		require.NoError(t, err)
		if loss == nil {
			loss = l
		} else {
			loss, err = gorgonia.Add(loss, l)
			require.NoError(t, err)
		}
	}
	var wrt []*gorgonia.Node
	for _, v := range g.Bound() {
		wrt = append(wrt, g.Node(v))
	}
	for _, b := range []nn.Branch{nn.Clean, nn.Adv} {
		if xn, ok := xs[b]; ok {
			wrt = append(wrt, xn)
		}
	}
	gs, err := gorgonia.Grad(loss, wrt...)
	require.NoError(t, err)
	vm := gorgonia.NewTapeMachine(g.G)
	defer vm.Close()
	require.NoError(t, vm.RunAll())
	out := map[string][]float64{}
	for i, v := range g.Bound() {
		out[v.Name] = nn.ToFloat64(gs[i].Value().(tensor.Tensor))
	}
	inGrads := map[nn.Branch][]float64{}
	k := len(g.Bound())
	for _, b := range []nn.Branch{nn.Clean, nn.Adv} {
		if _, ok := xs[b]; ok {
			inGrads[b] = nn.ToFloat64(gs[k].Value().(tensor.Tensor))
			k++
		}
	}
	return out, inGrads
}

func TestConformance(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 3))
			n := newTestNorm(t, name, 4, 8)
			x := randInput(rng, 3, 4, 5, 5)
			orig := append([]float64(nil), x.Data().([]float64)...)

			for _, m := range []nn.Mode{nn.Train, nn.Eval} {
				y := run(t, n, x, nn.Adv, m)
				assert.Len(t, y, len(orig), "shape kept")
			}
			_, _ = step(t, n, map[nn.Branch]*tensor.Dense{nn.Clean: x}, 1)
			assert.Equal(t, orig, x.Data(), "input not modified by forward or backward")

			// Deterministic under a seed: same seed, same parameters and outputs.
			mk := func() Norm {
				l, err := New(name, Config{Prefix: "p", Channels: 4, Rand: rand.New(rand.NewPCG(42, 0))})
				require.NoError(t, err)
				return l
			}
			a, b := mk(), mk()
			pa, ba := a.State()
			pb, bb := b.State()
			require.Equal(t, len(pa), len(pb))
			for i := range pa {
				assert.Equal(t, pa[i].Name, pb[i].Name)
				assert.Equal(t, pa[i].Value.Data(), pb[i].Value.Data(), pa[i].Name)
			}
			require.Equal(t, len(ba), len(bb))
			x32 := tensor.New(tensor.WithShape(3, 4, 5, 5), tensor.WithBacking(toF32(orig)))
			assert.Equal(t, runRaw(t, a, x32, nn.Clean, nn.Train), runRaw(t, b, x32, nn.Clean, nn.Train), "bitwise deterministic")

			// Names are unique and carry the prefix.
			seen := map[string]bool{}
			for _, v := range append(pa, ba...) {
				assert.True(t, strings.HasPrefix(v.Name, "p."), v.Name)
				assert.False(t, seen[v.Name], "duplicate name %s", v.Name)
				seen[v.Name] = true
			}
		})
	}
}

// TestFloat32MatchesFloat64 runs the same layer in both precisions.
func TestFloat32MatchesFloat64(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(4, 4))
			n64 := newTestNorm(t, name, 4, 9)
			n32, err := New(name, Config{Prefix: "l", Channels: 4, Dtype: tensor.Float32})
			require.NoError(t, err)
			copyState(n64, n32)
			x := randInput(rng, 6, 4, 4, 4)
			x32 := tensor.New(tensor.WithShape(6, 4, 4, 4), tensor.WithBacking(toF32(x.Data().([]float64))))
			for _, m := range []nn.Mode{nn.Train, nn.Eval} {
				want := run(t, n64, x, nn.Adv, m)
				got := run(t, n32, x32, nn.Adv, m)
				worst := 0.0
				for i := range want {
					worst = math.Max(worst, math.Abs(want[i]-got[i]))
				}
				assert.Less(t, worst, 2e-5, "mode %s", m)
			}
		})
	}
}

// TestBranchIsolation: a training step on the adversarial branch of auxbn or
// saauxbn leaves the clean branch's statistics and affine untouched, and the
// adversarial branch's do change.
func TestBranchIsolation(t *testing.T) {
	for _, name := range []string{"auxbn", "saauxbn"} {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, 5))
			n := newTestNorm(t, name, 3, 2)
			before := readState(n)
			grads, _ := step(t, n, map[nn.Branch]*tensor.Dense{nn.Adv: randInput(rng, 4, 3, 3, 3)}, 2)
			// An SGD step on every parameter the graph used.
			params, _ := n.State()
			for _, p := range params {
				if g, ok := grads[p.Name]; ok {
					d := p.Float64s()
					for i := range d {
						d[i] -= 0.1 * g[i]
					}
					p.SetFloat64s(d)
				}
			}
			after := readState(n)
			C := 3
			switch name {
			case "auxbn":
				for _, k := range []string{"weight", "bias", "running_mean", "running_var"} {
					assert.Equal(t, before["bn_list.0."+k], after["bn_list.0."+k], "clean %s untouched", k)
					assert.NotEqual(t, before["bn_list.1."+k], after["bn_list.1."+k], "adv %s changed", k)
				}
			case "saauxbn":
				for _, k := range []string{"running_mean", "running_var"} {
					assert.Equal(t, before["bn_list.0."+k], after["bn_list.0."+k], "clean %s untouched", k)
					assert.NotEqual(t, before["bn_list.1."+k], after["bn_list.1."+k], "adv %s changed", k)
				}
				e0, e1 := before["embed.weight"], after["embed.weight"]
				assert.Equal(t, e0[:2*C], e1[:2*C], "clean affine row untouched")
				assert.NotEqual(t, e0[2*C:4*C], e1[2*C:4*C], "adv affine row changed")
				assert.NotEqual(t, e0[4*C:], e1[4*C:], "shared row changed")
			}
		})
	}
}

// TestSharedAffineGetsBothBranches: in one graph with both branches, the
// gradient of saauxbn's shared row is the sum of the two single-branch
// gradients, and each of them is non-zero.
func TestSharedAffineGetsBothBranches(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	xc, xa := randInput(rng, 4, 3, 3, 3), randInput(rng, 4, 3, 3, 3)
	const C = 3
	shared := func(in map[nn.Branch]*tensor.Dense) []float64 {
		n := newTestNorm(t, "saauxbn", C, 4)
		g, _ := step(t, n, in, 9)
		return g["l.embed.weight"][4*C:]
	}
	both := shared(map[nn.Branch]*tensor.Dense{nn.Clean: xc, nn.Adv: xa})
	clean := shared(map[nn.Branch]*tensor.Dense{nn.Clean: xc})
	adv := shared(map[nn.Branch]*tensor.Dense{nn.Adv: xa})
	sum := make([]float64, len(both))
	for i := range sum {
		sum[i] = clean[i] + adv[i]
	}
	assertClose(t, sum, both, 1e-12, "shared-row gradient of the two-branch graph")
	normOf := func(v []float64) float64 {
		s := 0.0
		for _, e := range v {
			s += e * e
		}
		return math.Sqrt(s)
	}
	assert.Greater(t, normOf(clean), 1e-3, "clean branch sends gradient to the shared row")
	assert.Greater(t, normOf(adv), 1e-3, "adversarial branch sends gradient to the shared row")
}

func TestReferenceInitialisation(t *testing.T) {
	n, err := New("saauxbn", Config{Prefix: "s", Channels: 512, Rand: rand.New(rand.NewPCG(1, 1))})
	require.NoError(t, err)
	params, buffers := n.State()
	require.Len(t, params, 1)
	e := params[0].Float64s()
	assert.Equal(t, "s.embed.weight", params[0].Name)
	assert.Equal(t, []int{3, 1024}, []int(params[0].Value.Shape()))
	var sum, sq float64
	for r := 0; r < 3; r++ {
		for c := 0; c < 512; c++ {
			g := e[r*1024+c]
			sum += g
			sq += (g - 1) * (g - 1)
			assert.Zero(t, e[r*1024+512+c], "β = 0")
		}
	}
	assert.InDelta(t, 1, sum/1536, 0.003, "mean of γ")
	assert.InDelta(t, 0.02, math.Sqrt(sq/1536), 0.002, "std of γ")
	names := []string{}
	for _, b := range buffers {
		names = append(names, b.Name)
	}
	assert.Equal(t, []string{"s.bn_list.0.running_mean", "s.bn_list.0.running_var", "s.bn_list.1.running_mean", "s.bn_list.1.running_var"}, names)

	bn, err := New("bn", Config{Prefix: "b", Channels: 2})
	require.NoError(t, err)
	p, bu := bn.State()
	assert.Equal(t, []float32{1, 1}, p[0].Value.Data())
	assert.Equal(t, []float32{0, 0}, p[1].Value.Data())
	assert.Equal(t, []float32{0, 0}, bu[0].Value.Data())
	assert.Equal(t, []float32{1, 1}, bu[1].Value.Data())
}

func TestBadInput(t *testing.T) {
	_, err := New("nope", Config{Channels: 2})
	assert.ErrorContains(t, err, `unknown norm "nope"`)
	_, err = New("bn", Config{Channels: 0})
	assert.ErrorContains(t, err, "channels 0")

	n, err := New("auxbn", Config{Prefix: "a", Channels: 2})
	require.NoError(t, err)
	g := nn.NewGraph()
	x := gorgonia.NewTensor(g.G, tensor.Float32, 4, gorgonia.WithShape(2, 2, 2, 2), gorgonia.WithName("x"))
	_, err = n.Apply(g, x, nn.Branch(2), nn.Train)
	assert.ErrorContains(t, err, "branch 2 out of range 0..1")
	flat := gorgonia.NewMatrix(g.G, tensor.Float32, gorgonia.WithShape(2, 2), gorgonia.WithName("flat"))
	_, err = n.Apply(g, flat, nn.Clean, nn.Train)
	assert.ErrorContains(t, err, "(N,C,H,W)")

	// A single value per channel has no unbiased variance.
	one := tensor.New(tensor.WithShape(1, 2, 1, 1), tensor.WithBacking([]float32{1, 2}))
	g2 := nn.NewGraph()
	xn := gorgonia.NodeFromAny(g2.G, one, gorgonia.WithName("x"))
	y, err := n.Apply(g2, xn, nn.Clean, nn.Train)
	require.NoError(t, err)
	vm := gorgonia.NewTapeMachine(g2.G)
	defer vm.Close()
	err = vm.RunAll()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "more than one value per channel")
	_ = y
}

func toF32(d []float64) []float32 {
	out := make([]float32, len(d))
	for i, v := range d {
		out[i] = float32(v)
	}
	return out
}

// runRaw is run for any dtype, returning the raw output data.
func runRaw(t testing.TB, n Norm, x *tensor.Dense, b nn.Branch, m nn.Mode) any {
	t.Helper()
	g := nn.NewGraph()
	xn := gorgonia.NodeFromAny(g.G, x, gorgonia.WithName("x"))
	y, err := n.Apply(g, xn, b, m)
	require.NoError(t, err)
	vm := gorgonia.NewTapeMachine(g.G)
	defer vm.Close()
	require.NoError(t, vm.RunAll())
	return y.Value().Data()
}

// copyState copies parameters and buffers of src into dst (same kind and shape).
func copyState(src, dst Norm) {
	ps, bs := src.State()
	pd, bd := dst.State()
	for i := range ps {
		pd[i].SetFloat64s(ps[i].Float64s())
	}
	for i := range bs {
		bd[i].SetFloat64s(bs[i].Float64s())
	}
}
