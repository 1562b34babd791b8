package attack

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSquareSchedule: p halves after iterations 10, 50, 200, 500, 1000,
// 2000, 4000, 6000 and 8000 (the paper's schedule for 10,000 queries).
func TestSquareSchedule(t *testing.T) {
	for it, want := range map[int]float64{0: 0.8, 10: 0.8, 11: 0.4, 50: 0.4, 51: 0.2, 201: 0.1, 501: 0.05, 1001: 0.025, 2001: 0.0125, 4001: 0.00625, 6001: 0.003125, 8001: 0.0015625, 9999: 0.0015625} {
		assert.InDelta(t, want, SquareP(it, 0.8), 1e-15, "iteration %d", it)
	}
}

// channelLinear is a two-class linear model whose weight difference has one
// sign per channel (w_1 − w_0 = s_c·|r_j|): the optimal L-inf attack moves
// every pixel of a channel by eps the same way, a point Square's windows
// (one sign per channel) can reach.
func channelLinear(n int, eps float64) (*linear, []float32, []int, []float64, []float64) {
	m, x, y := nearBoundary(n)
	for c := 0; c < 3; c++ {
		s := []float64{1, -1, 1}[c]
		for j := c * side * side; j < (c+1)*side*side; j++ {
			d := s * math.Abs(m.w[1][j]-m.w[0][j])
			m.w[1][j] = m.w[0][j] + d
		}
	}
	mid := make([]float32, imageSize)
	for i := range mid {
		mid[i] = 0.5
	}
	z := m.logits(mid) // mid-grey back on the boundary
	m.b[0], m.b[1] = m.b[0]-z[0], m.b[1]-z[1]
	z = m.logits(x)
	for i := range y {
		y[i] = argmax(z[2*i : 2*i+2])
	}
	margin := func(v []float32) []float64 {
		z := m.logits(v)
		out := make([]float64, n)
		for i := range out {
			out[i] = z[2*i+y[i]] - z[2*i+1-y[i]]
		}
		return out
	}
	return m, x, y, margin(x), margin(m.optimal(x, y, eps))
}

// TestSquareReachesOptimum: on channelLinear, Square fools every example
// the optimal attack fools by a clear margin, fools none it cannot, and on
// the others lowers the margin to within 1% of the optimum's reduction.
func TestSquareReachesOptimum(t *testing.T) {
	const eps = 0.06 / 255
	m, x, y, clean, opt := channelLinear(12, eps)
	margin := func(v []float32) []float64 {
		z := m.logits(v)
		out := make([]float64, len(y))
		for i := range out {
			out[i] = z[2*i+y[i]] - z[2*i+1-y[i]]
		}
		return out
	}
	o := DefaultOptions()
	o.Eps = eps
	a := must(New("square", o))
	out, err := a.Perturb(m, x, y, evalSetting, rand.New(rand.NewPCG(1, 1)))
	require.NoError(t, err)
	got := margin(out.XAdv)
	robust, fooled := 0, 0
	for i := range y {
		span := clean[i] - opt[i]
		switch {
		case opt[i] < -0.05*span:
			fooled++
			assert.True(t, out.Fooled[i], "example %d: the optimum fools it", i)
		case opt[i] > 0:
			robust++
			assert.False(t, out.Fooled[i], "example %d", i)
			t.Logf("example %d: %.4f of the reduction left", i, (got[i]-opt[i])/span)
			assert.LessOrEqual(t, got[i]-opt[i], 0.01*span, "example %d: margin %g, optimum %g, clean %g", i, got[i], opt[i], clean[i])
		}
	}
	require.Positive(t, robust)
	require.Positive(t, fooled)
	var d float64
	for i, v := range out.XAdv {
		d = math.Max(d, math.Abs(float64(v-x[i])))
	}
	assert.LessOrEqual(t, d, eps+1e-7)
}

// TestSquareSeeded: the same seed gives the same points, another seed
// other points.
func TestSquareSeeded(t *testing.T) {
	m, x, y, _, _ := channelLinear(4, 0.2/255)
	o := DefaultOptions()
	o.Eps = 0.2 / 255
	sq := NewSquare(o)
	sq.Queries = 50
	a, err := sq.Perturb(m, x, y, evalSetting, rand.New(rand.NewPCG(3, 3)))
	require.NoError(t, err)
	b, err := sq.Perturb(m, x, y, evalSetting, rand.New(rand.NewPCG(3, 3)))
	require.NoError(t, err)
	c, err := sq.Perturb(m, x, y, evalSetting, rand.New(rand.NewPCG(4, 4)))
	require.NoError(t, err)
	assert.Equal(t, a.XAdv, b.XAdv)
	assert.NotEqual(t, a.XAdv, c.XAdv)
}
