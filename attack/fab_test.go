package attack

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProjectLinf: hand-solved projections onto w·(p+d) = b within [0,1].
// (1) p = (0.5, 0.9), w = (1, 2), b = 2.5: 0.2 is missing, 3λ = 0.2 gives
// λ = 0.0667 within both rooms (0.5, 0.1). (2) p = (0.5, 0.99), b = 2.6:
// 0.12 missing; unboxed λ = 0.04 exceeds the second room 0.01, so
// λ + 2·0.01 = 0.12, λ = 0.1, d = (0.1, 0.01). (3) w = (1, −1), b = −0.2 at
// (0.5, 0.5): down by 0.1 and up by 0.1. (4) a point on the hyperplane.
func TestProjectLinf(t *testing.T) {
	for _, tc := range []struct {
		p, w  []float64
		b     float64
		d     []float64
		norm  float64
		label string
	}{
		{[]float64{0.5, 0.9}, []float64{1, 2}, 2.5, []float64{0.2 / 3, 0.2 / 3}, 0.2 / 3, "box does not bind"},
		{[]float64{0.5, 0.99}, []float64{1, 2}, 2.6, []float64{0.1, 0.01}, 0.1, "box binds the second coordinate"},
		{[]float64{0.5, 0.5}, []float64{1, -1}, -0.2, []float64{-0.1, 0.1}, 0.1, "moving down"},
		{[]float64{0.5, 0.5}, []float64{1, 0}, 0.5, []float64{0, 0}, 0, "already on it"},
	} {
		d := make([]float64, 2)
		norm := projectLinf(tc.p, tc.w, tc.b, d)
		assert.InDelta(t, tc.norm, norm, 1e-12, tc.label)
		assert.InDeltaSlice(t, tc.d, d, 1e-12, tc.label)
	}
}

// TestFABMinimalLinf: on a two-class linear model the smallest L-inf
// perturbation that flips the class is |margin| / ‖w_y − w_t‖₁ when the box
// does not bind (pixels near mid-grey). FAB-T's returned point is at that
// distance (within 1%, never below), and at an eps between the smallest
// and largest of them it fools exactly the examples whose minimum lies
// below eps.
func TestFABMinimalLinf(t *testing.T) {
	m, x, y := nearBoundary(10)
	z := m.logits(x)
	need := make([]float64, len(y))
	l1 := 0.0
	for j := range m.w[0] {
		l1 += math.Abs(m.w[0][j] - m.w[1][j])
	}
	for i := range y {
		need[i] = math.Abs(z[2*i]-z[2*i+1]) / l1
	}
	o := DefaultOptions()
	o.Eps = 1
	f := NewFAB(o)
	f.Targets = 1
	out, err := f.Perturb(m, x, y, evalSetting, rand.New(rand.NewPCG(1, 1)))
	require.NoError(t, err)
	lo, hi := math.Inf(1), 0.0
	for i := range y {
		require.True(t, out.Fooled[i])
		d := 0.0
		for j := i * imageSize; j < (i+1)*imageSize; j++ {
			d = math.Max(d, math.Abs(float64(out.XAdv[j]-x[j])))
		}
		assert.GreaterOrEqual(t, d, need[i]*(1-1e-4), "example %d", i)
		assert.LessOrEqual(t, d, need[i]*1.01, "example %d", i)
		lo, hi = math.Min(lo, need[i]), math.Max(hi, need[i])
	}
	o.Eps = (lo + hi) / 2
	f = NewFAB(o)
	f.Targets = 1
	out, err = f.Perturb(m, x, y, evalSetting, rand.New(rand.NewPCG(1, 1)))
	require.NoError(t, err)
	some := 0
	for i := range y {
		if math.Abs(need[i]-o.Eps) < 0.02*o.Eps {
			continue
		}
		assert.Equal(t, need[i] < o.Eps, out.Fooled[i], "example %d: minimum %g, eps %g", i, need[i], o.Eps)
		if out.Fooled[i] {
			some++
		}
	}
	assert.Positive(t, some)
	_, err = NewFAB(o).Perturb(m, x, y, evalSetting, rand.New(rand.NewPCG(1, 1)))
	assert.ErrorContains(t, err, "9 target classes with 2 classes")
}
