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

// TestMcNemarCombined: one exact test per seed pair, combined by Stouffer's
// signed scores; the expectations come from scripts/mcnemar_check.py
// (Python's math.comb and statistics.NormalDist, independent of gonum).
func TestMcNemarCombined(t *testing.T) {
	cases := []struct {
		name string
		b, c []int
		want float64
	}{
		{"one pair is the exact test: 2·(1+10)/1024", []int{1}, []int{9}, 22.0 / 1024},
		{"two pairs", []int{1, 0}, []int{5, 4}, 0.05065056194094186},
		{"pairs that disagree in direction cancel", []int{3, 9, 2}, []int{9, 3, 8}, 0.3553078741321909},
		{"three pairs", []int{10, 12, 9}, []int{20, 25, 18}, 0.0027671567205267422},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := McNemarCombined(c.b, c.c)
			require.NoError(t, err)
			assert.InDelta(t, c.want, p, 1e-9)
		})
	}
	pooled, err := McNemarExact(1, 9)
	require.NoError(t, err)
	combined, err := McNemarCombined([]int{1, 0}, []int{5, 4})
	require.NoError(t, err)
	assert.Less(t, pooled, 0.05, "pooling two seeds' 10 discordant pairs as one sample: p 22/1024")
	assert.Greater(t, combined, 0.05, "two replicates, each on its own, are not significant together")
	_, err = McNemarCombined([]int{1, 2}, []int{3})
	assert.EqualError(t, err, "stats: mcnemar: 2 and 1 discordant counts: want one pair of counts per seed")
}

// TestHolm: Holm's step-down adjustment, worked by hand: sorted 0.01, 0.03,
// 0.04, 0.5 times 4, 3, 2, 1 is 0.04, 0.09, 0.08, 0.5, made monotone.
func TestHolm(t *testing.T) {
	got := Holm([]float64{0.01, 0.04, 0.03, 0.5})
	want := []float64{0.04, 0.09, 0.09, 0.5}
	require.Len(t, got, len(want))
	for i := range want {
		assert.InDelta(t, want[i], got[i], 1e-12, "p %d", i)
	}
	assert.Equal(t, []float64{0.7}, Holm([]float64{0.7}), "one test: unadjusted")
	assert.Equal(t, []float64{1, 1}, Holm([]float64{0.6, 0.9}), "capped at 1")
	assert.Empty(t, Holm(nil))
}

func TestCountFraction(t *testing.T) {
	for _, c := range []struct {
		flags []bool
		count int
		frac  float64
	}{
		{[]bool{true, false, true, true}, 3, 0.75},
		{[]bool{false, false}, 0, 0},
		{[]bool{true}, 1, 1},
		{nil, 0, 0},
	} {
		assert.Equal(t, c.count, Count(c.flags), "%v", c.flags)
		assert.Equal(t, c.frac, Fraction(c.flags), "%v", c.flags)
	}
}

// TestMedian: odd and even counts by hand, the input left unsorted, NaN
// for none.
func TestMedian(t *testing.T) {
	xs := []float64{5, 1, 4}
	assert.Equal(t, 4.0, Median(xs))
	assert.Equal(t, []float64{5, 1, 4}, xs, "input not modified")
	assert.Equal(t, 2.5, Median([]float64{3, 1, 2, 4}))
	assert.True(t, math.IsNaN(Median(nil)))
}
