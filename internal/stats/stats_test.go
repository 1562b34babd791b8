package stats

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWilsonKnownValues: intervals printed in Newcombe (1998), Table I
// (method 3, Wilson score) and Agresti & Coull (1998).
func TestWilsonKnownValues(t *testing.T) {
	cases := []struct {
		k, n   int
		lo, hi float64
	}{
		{81, 263, 0.2553, 0.3662}, // Newcombe: 81/263
		{15, 148, 0.0624, 0.1605}, // Newcombe: 15/148
		{0, 20, 0, 0.1611},        // Newcombe: 0/20
		{1, 29, 0.0061, 0.1718},   // Newcombe: 1/29
		{5, 10, 0.2366, 0.7634},
	}
	for _, c := range cases {
		lo, hi, err := Wilson(c.k, c.n)
		require.NoError(t, err)
		assert.InDelta(t, c.lo, lo, 5e-5, "%d/%d lower", c.k, c.n)
		assert.InDelta(t, c.hi, hi, 5e-5, "%d/%d upper", c.k, c.n)
	}
	_, _, err := Wilson(3, 2)
	assert.ErrorContains(t, err, "3 successes of 2 trials")
}

// TestTInterval: t(0.975, 4) = 2.776445 (tables; scipy.stats.t.ppf), so
// for 1..5 (mean 3, s = 1.5811) the half-width is 2.776445·1.5811/√5.
func TestTInterval(t *testing.T) {
	lo, hi, err := TInterval([]float64{1, 2, 3, 4, 5})
	require.NoError(t, err)
	half := 2.776445105 * math.Sqrt(2.5) / math.Sqrt(5)
	assert.InDelta(t, 3-half, lo, 1e-6)
	assert.InDelta(t, 3+half, hi, 1e-6)
	// Two values: t(0.975, 1) = 12.706205.
	lo, hi, err = TInterval([]float64{0.40, 0.42})
	require.NoError(t, err)
	assert.InDelta(t, 0.41-12.706205*0.01414214/math.Sqrt2, lo, 1e-6)
	assert.InDelta(t, 0.41+12.706205*0.01414214/math.Sqrt2, hi, 1e-6)
	_, _, err = TInterval([]float64{1})
	assert.Error(t, err)
	m, s := MeanStd([]float64{2, 4, 4, 4, 5, 5, 7, 9})
	assert.InDelta(t, 5, m, 1e-12)
	assert.InDelta(t, 2.138090, s, 1e-6, "sample standard deviation (n-1)")
}

// TestMcNemarExact: scipy.stats.binomtest(k, n, 0.5).pvalue values:
// (1, 10) 0.021484375 = 22/1024; (3, 12) 0.145996...; equal splits 1.
func TestMcNemarExact(t *testing.T) {
	p, err := McNemarExact(1, 9)
	require.NoError(t, err)
	assert.InDelta(t, 22.0/1024, p, 1e-12)
	p, err = McNemarExact(9, 1)
	require.NoError(t, err)
	assert.InDelta(t, 22.0/1024, p, 1e-12, "two-sided: symmetric")
	p, err = McNemarExact(3, 9)
	require.NoError(t, err)
	assert.InDelta(t, 2*(1+12+66+220)/4096.0, p, 1e-12)
	p, err = McNemarExact(5, 5)
	require.NoError(t, err)
	assert.Equal(t, 1.0, p)
	p, err = McNemarExact(0, 0)
	require.NoError(t, err)
	assert.Equal(t, 1.0, p)
	b, c, err := Discordant([]bool{true, true, false, false}, []bool{true, false, true, true})
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2}, []int{b, c})
	_, _, err = Discordant([]bool{true}, nil)
	assert.Error(t, err)
}
