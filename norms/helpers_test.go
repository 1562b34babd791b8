package norms

import (
	"math/rand/v2"
	"testing"

	"github.com/advbench/advbench/nn"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"
)

// newTestNorm builds a float64 layer of the named kind with C channels and
// randomises its parameters around their initial values, so that no gradient
// is special (γ = 1, β = 0 would hide mistakes that swap or drop them).
func newTestNorm(t testing.TB, name string, c int, seed uint64) Norm {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 99))
	n, err := New(name, Config{Prefix: "l", Channels: c, Dtype: tensor.Float64, Rand: rng})
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

// randInput returns an (N,C,H,W) float64 tensor with per-channel offsets and
// scales, so that channel statistics differ.
func randInput(rng *rand.Rand, shape ...int) *tensor.Dense {
	c, hw := shape[1], shape[2]*shape[3]
	d := make([]float64, shape[0]*c*hw)
	for i := range d {
		ch := (i / hw) % c
		d[i] = float64(ch)*0.7 - 0.5 + (1+0.5*float64(ch))*rng.NormFloat64()
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))
}

// run builds y = norm(x) for a branch and mode on a fresh graph, runs it once
// and returns y's data.
func run(t testing.TB, n Norm, x *tensor.Dense, b nn.Branch, m nn.Mode) []float64 {
	t.Helper()
	switch d := runRaw(t, n, x, b, m).(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	case []float64:
		return d
	default:
		t.Fatalf("unexpected output data %T", d)
		return nil
	}
}
