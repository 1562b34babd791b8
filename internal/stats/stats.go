// Package stats holds the interval estimates and the paired test that
// advbench's tables report: Wilson's score interval for one run's accuracy,
// Student's t interval for the mean over seeds, and McNemar's exact test on
// paired per-example outcomes, and the count and fraction of the
// per-example outcomes they start from.
package stats

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// z975 is the 0.975 quantile of the standard normal distribution.
const z975 = 1.959963984540054

// Wilson returns the 95% Wilson score interval of a proportion of k
// successes in n trials (Wilson 1927; Agresti & Coull 1998). It stays inside
// [0, 1] and is not degenerate at k = 0 or k = n.
func Wilson(k, n int) (lo, hi float64, err error) {
	if n <= 0 || k < 0 || k > n {
		return 0, 0, fmt.Errorf("stats: wilson: %d successes of %d trials", k, n)
	}
	p, nf, z2 := float64(k)/float64(n), float64(n), z975*z975
	den := 1 + z2/nf
	center := (p + z2/(2*nf)) / den
	half := z975 / den * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	return math.Max(0, center-half), math.Min(1, center+half), nil
}

// MeanStd returns the mean and the sample standard deviation (n−1 in the
// denominator; 0 for a single value).
func MeanStd(xs []float64) (mean, std float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) == 1 {
		return mean, 0
	}
	ss := 0.0
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)-1))
}

// TInterval returns the 95% Student's t interval of the mean of xs (at
// least two values): mean ± t(0.975, n−1)·s/√n.
func TInterval(xs []float64) (lo, hi float64, err error) {
	if len(xs) < 2 {
		return 0, 0, fmt.Errorf("stats: t interval of %d values: need at least 2", len(xs))
	}
	m, s := MeanStd(xs)
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(len(xs) - 1)}.Quantile(0.975)
	half := t * s / math.Sqrt(float64(len(xs)))
	return m - half, m + half, nil
}

// McNemarExact returns the two-sided p-value of McNemar's exact test for
// paired binary outcomes with b pairs where only the first is a success and
// c where only the second is: under the null hypothesis the b+c discordant
// pairs split as Binomial(b+c, 1/2), and p = min(1, 2·P(X ≤ min(b, c))).
// With no discordant pair p is 1.
func McNemarExact(b, c int) (float64, error) {
	if b < 0 || c < 0 {
		return 0, fmt.Errorf("stats: mcnemar: negative counts %d, %d", b, c)
	}
	n := b + c
	if n == 0 {
		return 1, nil
	}
	k := min(b, c)
	p := 2 * distuv.Binomial{N: float64(n), P: 0.5}.CDF(float64(k))
	return math.Min(1, p), nil
}

// Discordant counts the pairs of two equally long outcome lists where only
// the first, or only the second, is true.
func Discordant(a, b []bool) (onlyA, onlyB int, err error) {
	if len(a) != len(b) {
		return 0, 0, fmt.Errorf("stats: paired outcomes of different lengths %d and %d", len(a), len(b))
	}
	for i := range a {
		switch {
		case a[i] && !b[i]:
			onlyA++
		case b[i] && !a[i]:
			onlyB++
		}
	}
	return onlyA, onlyB, nil
}

// McNemarCombined tests paired outcomes over several independently trained
// pairs of models (one per seed) without pooling their examples: each pair
// i gets its own exact McNemar p-value p_i (McNemarExact(b[i], c[i])),
// turned into a signed normal score z_i = sign(b_i − c_i)·Φ⁻¹(1 − p_i/2),
// and the scores are combined by Stouffer's method, Z = Σ z_i / √k, with
// two-sided p = 2·(1 − Φ(|Z|)) (Stouffer et al. 1949; Whitlock 2005, J.
// Evol. Biol. 18:1368). Each seed pair weighs as one replicate, however many
// examples it has, and pairs that disagree in direction cancel; pooling the
// discordant counts instead would count one test set seen by k seeds as k
// times as many independent examples. With one pair it is McNemarExact.
func McNemarCombined(b, c []int) (float64, error) {
	if len(b) == 0 || len(b) != len(c) {
		return 0, fmt.Errorf("stats: mcnemar: %d and %d discordant counts: want one pair of counts per seed", len(b), len(c))
	}
	if len(b) == 1 {
		return McNemarExact(b[0], c[0])
	}
	sum := 0.0
	for i := range b {
		p, err := McNemarExact(b[i], c[i])
		if err != nil {
			return 0, err
		}
		z := distuv.UnitNormal.Quantile(1 - p/2)
		if b[i] < c[i] {
			z = -z
		}
		sum += z
	}
	z := math.Abs(sum) / math.Sqrt(float64(len(b)))
	return math.Min(1, 2*distuv.UnitNormal.Survival(z)), nil
}

// Holm returns Holm's step-down adjusted p-values (Holm 1979, Scand. J.
// Statist. 6:65), in the order given: sorted ascending, p_(j) becomes
// max over i ≤ j of min(1, (m − i + 1)·p_(i)). Rejecting where the adjusted
// value is below α controls the family-wise error rate at α over the m
// tests.
func Holm(ps []float64) []float64 {
	m := len(ps)
	idx := make([]int, m)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return ps[idx[i]] < ps[idx[j]] })
	out := make([]float64, m)
	run := 0.0
	for rank, i := range idx {
		run = math.Max(run, math.Min(1, float64(m-rank)*ps[i]))
		out[i] = run
	}
	return out
}

// Count returns how many of flags are true: the examples a model got right
// or that survived an attack.
func Count(flags []bool) int {
	n := 0
	for _, f := range flags {
		if f {
			n++
		}
	}
	return n
}

// Fraction returns the fraction of flags that are true, 0 for none: an
// accuracy from its per-example outcomes.
func Fraction(flags []bool) float64 {
	if len(flags) == 0 {
		return 0
	}
	return float64(Count(flags)) / float64(len(flags))
}

// Median returns the median of xs (the mean of the middle two for an even
// count), NaN for none; xs is not modified.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
