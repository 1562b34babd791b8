package norms

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/advbench/advbench/nn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"
)

// constantChannels returns an (N,C,H,W) float32 input whose channel c holds
// the constant value[c] at every position of every image.
func constantChannels(n, hw int, value []float32) *tensor.Dense {
	c := len(value)
	d := make([]float32, n*c*hw)
	for i := range d {
		d[i] = value[(i/hw)%c]
	}
	return tensor.New(tensor.WithShape(n, c, int(math.Sqrt(float64(hw))), int(math.Sqrt(float64(hw)))), tensor.WithBacking(d))
}

// TestModeNormConstantChannelsStayFinite trains float32 running averages on
// constant channels, whose true variance is 0: E[x²] − E[x]² computed from
// the rounded float32 averages then falls below −eps for some channel, and
// an unclamped evaluation takes the square root of a negative number.
func TestModeNormConstantChannelsStayFinite(t *testing.T) {
	values := []float32{37.3, 91.7, 12.9, 55.1, 63.7, 28.3, 77.9, 44.4}
	n, err := New("modenorm", Config{Prefix: "l", Channels: len(values), Dtype: tensor.Float32, Rand: rand.New(rand.NewPCG(1, 2))})
	require.NoError(t, err)
	// The averages settle on the constants from above (the inputs were
	// larger before), where rounding leaves E[x] relatively farther off
	// than E[x²].
	higher := make([]float32, len(values))
	for i, v := range values {
		higher[i] = 1.5 * v
	}
	x := constantChannels(4, 16, values)
	for _, in := range []*tensor.Dense{constantChannels(4, 16, higher), x} {
		for i := 0; i < 400; i++ {
			run(t, n, in, nn.Clean, nn.Train)
		}
	}
	m := n.(*ModeNorm)
	ex, ex2 := m.meanRA.Float64s(), m.sqMeanRA.Float64s()
	below := 0
	for i := range ex {
		if ex2[i]-ex[i]*ex[i] < -m.cfg.Eps {
			below++
		}
	}
	require.Positive(t, below, "precondition: float32 cancellation drives some E[x²] − E[x]² below −eps")
	for i, v := range run(t, n, x, nn.Clean, nn.Eval) {
		require.False(t, math.IsNaN(v) || math.IsInf(v, 0), "eval output %d is %v", i, v)
	}
}

// TestModeNormEmptyModeStaysFinite gives one mode a gate of exactly 0 for
// every image (a gate logit 1000 below the other's underflows the softmax):
// its n_k is 0, and without an epsilon its mean is 0/0.
func TestModeNormEmptyModeStaysFinite(t *testing.T) {
	n := newTestNorm(t, "modenorm", 3, 5)
	m := n.(*ModeNorm)
	m.gateB.SetFloat64s([]float64{0, -1000})
	rng := rand.New(rand.NewPCG(3, 4))
	y := run(t, n, randInput(rng, 4, 3, 4, 4), nn.Clean, nn.Train)
	for i, v := range y {
		require.False(t, math.IsNaN(v) || math.IsInf(v, 0), "train output %d is %v", i, v)
	}
	for i, v := range m.meanRA.Float64s() {
		assert.False(t, math.IsNaN(v), "running mean %d is NaN", i)
	}
}
