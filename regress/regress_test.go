package regress

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/advbench/advbench/results"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// result makes a result file whose SA and PGD-10 RA are exactly k/100.
func result(norm, branch string, seed uint64, sa, ra int) results.Source {
	f := &results.File{
		Provenance: results.Provenance{Schema: results.Schema, Model: results.Model{Norm: norm, Preset: "ci", TrainSeed: seed},
			Data: results.Data{Source: "builtin", SHA256: strings.Repeat("ab", 32)}},
		Branch: branch, Mode: "eval",
		Measurement: results.Measurement{Examples: 100,
			Attacks:    []results.AttackResult{{AttackParams: results.AttackParams{Name: "pgd-10", Eps: 8.0 / 255, Eps255: "8/255", Steps: 10}}},
			PerExample: &results.PerExample{Robust: map[string][]bool{}}}}
	rng := rand.New(rand.NewPCG(seed, 1))
	perm := rng.Perm(100)
	f.PerExample.CleanCorrect = make([]bool, 100)
	f.PerExample.Robust["pgd-10"] = make([]bool, 100)
	for i, j := range perm {
		f.PerExample.CleanCorrect[j] = i < sa
		f.PerExample.Robust["pgd-10"][j] = i < ra
	}
	f.SA, f.Attacks[0].RA = float64(sa)/100, float64(ra)/100
	return results.Source{Path: norm + "-" + branch + ".json", File: f}
}

func TestUpdateBands(t *testing.T) {
	srcs := []results.Source{result("saauxbn", "adv", 1, 40, 20), result("saauxbn", "adv", 2, 44, 22), result("saauxbn", "adv", 3, 42, 21), result("bn", "shared", 1, 50, 18)}
	b, err := Update(srcs, 3, 0.03, time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	assert.Equal(t, "2026-12-01T09:00:00Z", b.Updated)
	require.Len(t, b.Metrics, 4)
	assert.Equal(t, []string{"bn/shared/sa", "bn/shared/pgd-10", "saauxbn/adv/sa", "saauxbn/adv/pgd-10"},
		[]string{b.Metrics[0].key(), b.Metrics[1].key(), b.Metrics[2].key(), b.Metrics[3].key()}, "the paper's order, SA first")
	sa := b.Metrics[2]
	assert.InDelta(t, 0.42, sa.Value, 1e-9)
	assert.InDelta(t, 0.02, sa.Std, 1e-9, "sample std of 0.40, 0.44, 0.42")
	assert.InDelta(t, 0.06, sa.Band, 1e-9, "3 x 0.02 is above the floor")
	assert.Equal(t, []uint64{1, 2, 3}, sa.Seeds)
	assert.InDelta(t, 0.03, b.Metrics[3].Band, 1e-9, "3 x 0.01 = 0.03: the floor")
	assert.InDelta(t, 0.03, b.Metrics[0].Band, 1e-9, "one seed: the floor")
	assert.Contains(t, b.BandRule, "max(3 x std over seeds, 0.03)")

	path := filepath.Join(t.TempDir(), "base.json")
	require.NoError(t, Write(path, b))
	back, err := Read(path)
	require.NoError(t, err)
	assert.Equal(t, b, back)
}

// Seeds of a single result pool nothing: the mean of one result is that
// result, and a baseline that holds such a pool could never be compared
// with the same single result of another seed.
func TestOneResultPerSeedPoolsNothing(t *testing.T) {
	base, err := Update([]results.Source{result("bn", "shared", 2, 40, 20), result("bn", "shared", 3, 44, 22), result("bn", "shared", 4, 42, 21)}, 3, 0.03, time.Now())
	require.NoError(t, err)
	var keys []string
	for _, m := range base.Metrics {
		keys = append(keys, m.key())
	}
	assert.Equal(t, []string{"bn/shared/sa", "bn/shared/pgd-10"}, keys)
	r, err := Compare(base, []results.Source{result("bn", "shared", 1, 41, 21)}, false)
	require.NoError(t, err)
	assert.False(t, r.Failed())
	assert.Len(t, r.Rows, 2)
}

func TestCompareVerdicts(t *testing.T) {
	base, err := Update([]results.Source{result("saauxbn", "adv", 1, 40, 20), result("bn", "shared", 1, 50, 18)}, 3, 0.03, time.Now())
	require.NoError(t, err)

	same, err := Compare(base, []results.Source{result("saauxbn", "adv", 1, 40, 20), result("bn", "shared", 1, 50, 18)}, false)
	require.NoError(t, err)
	assert.False(t, same.Failed())
	assert.Equal(t, 0, same.Regressions)

	edge, err := Compare(base, []results.Source{result("saauxbn", "adv", 1, 37, 20), result("bn", "shared", 1, 53, 18)}, true)
	require.NoError(t, err)
	assert.False(t, edge.Failed(), "exactly at the band edge passes, even --strict")

	moved, err := Compare(base, []results.Source{result("saauxbn", "adv", 1, 36, 20), result("bn", "shared", 1, 50, 22)}, false)
	require.NoError(t, err)
	assert.True(t, moved.Failed())
	assert.Equal(t, 1, moved.Regressions)
	assert.Equal(t, 1, moved.Improvements)
	assert.Equal(t, []string{"SaAuxBN (adv) SA: 40.00 in the baseline, 36.00 now (-4.00), band 3.00 percentage points"}, moved.Failures())
	var b bytes.Buffer
	require.NoError(t, Render(&b, moved, "markdown"))
	assert.Contains(t, b.String(), "| SaAuxBN (adv) | SA | 40.00 | 36.00 | -4.00 | ±3.00 | **regression** |")
	assert.Contains(t, b.String(), "| BN (shared) | PGD-10 RA | 18.00 | 22.00 | +4.00 | ±3.00 | **improvement** |")
	assert.Contains(t, b.String(), "FAIL: 6 metrics, 1 regressions, 1 improvements")
	// The pooled rows average the two results of the seed: SA (40+50)/2
	// in the baseline, (36+50)/2 now; RA (20+18)/2 and (20+22)/2.
	assert.Contains(t, b.String(), "| mean of 2 results | SA | 45.00 | 43.00 | -2.00 | ±3.00 | ok |")
	assert.Contains(t, b.String(), "| mean of 2 results | PGD-10 RA | 19.00 | 21.00 | +2.00 | ±3.00 | ok |")

	_, err = Compare(base, []results.Source{result("saauxbn", "adv", 1, 40, 20)}, false)
	assert.ErrorContains(t, err, "missing", "a pool of other results cannot be compared")

	up, err := Compare(base, []results.Source{result("saauxbn", "adv", 1, 40, 20), result("bn", "shared", 1, 50, 22)}, false)
	require.NoError(t, err)
	assert.False(t, up.Failed(), "an improvement alone passes")
	up.Strict = true
	assert.True(t, up.Failed(), "unless --strict")
	assert.Len(t, up.Failures(), 1)
}

func TestCompareRefusals(t *testing.T) {
	base, err := Update([]results.Source{result("saauxbn", "adv", 1, 40, 20)}, 3, 0.03, time.Now())
	require.NoError(t, err)
	cases := []struct {
		edit func(f *results.File)
		msg  string
	}{
		{func(f *results.File) { f.Attacks[0].Eps, f.Attacks[0].Eps255 = 4.0/255, "4/255" }, "pgd-10 eps 8/255 in the baseline, 4/255 here"},
		{func(f *results.File) { f.Attacks[0].Steps = 20 }, "pgd-10 steps 10 in the baseline, 20 here"},
		{func(f *results.File) { f.Examples = 50 }, "test-set size 100 in the baseline, 50 here"},
		{func(f *results.File) { f.Model.Preset = "quick" }, "preset ci in the baseline, quick here"},
		{func(f *results.File) { f.Data.SHA256 = strings.Repeat("cd", 32) }, "test data"},
		{func(f *results.File) { f.Model.Norm = "auxbn" }, "metric saauxbn/adv/sa present in the baseline, missing here"},
	}
	for _, c := range cases {
		s := result("saauxbn", "adv", 1, 40, 20)
		c.edit(s.File)
		_, err := Compare(base, []results.Source{s}, false)
		var inc *IncompatibleError
		require.ErrorAs(t, err, &inc, c.msg)
		assert.Contains(t, err.Error(), c.msg)
	}
	// A metric averages runs that differ by seed alone.
	clean := result("saauxbn", "adv", 2, 40, 20)
	clean.File.Model.Objective, clean.Path = "clean", "clean-objective.json"
	_, err = Compare(base, []results.Source{result("saauxbn", "adv", 1, 40, 20), clean}, false)
	assert.ErrorContains(t, err, "saauxbn-adv.json and clean-objective.json would be averaged as two seeds of saauxbn but differ in objective: (not recorded) vs clean")
	_, err = Update([]results.Source{result("saauxbn", "adv", 1, 40, 20), clean}, 3, 0.03, time.Now())
	assert.ErrorContains(t, err, "differ in objective: (not recorded) vs clean")
	_, err = Compare(base, []results.Source{result("saauxbn", "adv", 1, 40, 20), result("saauxbn", "adv", 1, 41, 20)}, false)
	assert.ErrorContains(t, err, "are both saauxbn, seed 1, branch adv")
}

// chanceResults makes, for every norm and branch the baseline gates, one
// result of a model at chance: SA a tenth of the examples and every
// attack's RA the fraction ra, on the baseline's own test set and attacks.
func chanceResults(b *Baseline, ra float64) []results.Source {
	n := b.Context.Examples
	seen := map[string]bool{}
	var srcs []results.Source
	for _, m := range b.Metrics {
		if seen[m.Norm+"/"+m.Branch] || m.Norm == Pooled {
			continue
		}
		seen[m.Norm+"/"+m.Branch] = true
		f := &results.File{
			Provenance: results.Provenance{Schema: results.Schema, Model: results.Model{Norm: m.Norm, Preset: b.Context.Preset, TrainSeed: 1},
				Data: results.Data{Source: b.Context.Data, SHA256: b.Context.DataSHA256}},
			Branch: m.Branch, Mode: b.Context.Mode,
			Measurement: results.Measurement{Examples: n, PerExample: &results.PerExample{Robust: map[string][]bool{}}}}
		clean, robust := n/10, int(ra*float64(n))
		f.PerExample.CleanCorrect = flagsFirst(clean, n)
		f.SA = float64(clean) / float64(n)
		for _, a := range b.Context.Attacks {
			f.Attacks = append(f.Attacks, results.AttackResult{AttackParams: a, RA: float64(robust) / float64(n), Robust: robust})
			f.PerExample.Robust[a.Name] = flagsFirst(robust, n)
		}
		srcs = append(srcs, results.Source{Path: m.Norm + "-" + m.Branch + "-chance.json", File: f})
	}
	return srcs
}

func flagsFirst(k, n int) []bool {
	f := make([]bool, n)
	for i := 0; i < k; i++ {
		f[i] = true
	}
	return f
}

// TestChanceFailsEveryCommittedBaseline: a model that has learnt nothing
// (SA 10%, RA 10% or 0) regresses on every gated metric of every committed
// baseline, and every baseline gates something; a band wider than the
// distance to chance makes a gate that cannot fail.
func TestChanceFailsEveryCommittedBaseline(t *testing.T) {
	paths, err := filepath.Glob("../testdata/baselines/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	for _, p := range paths {
		b, err := Read(p)
		require.NoError(t, err)
		for _, ra := range []float64{0.10, 0} {
			t.Run(fmt.Sprintf("%s/ra=%g", filepath.Base(p), ra), func(t *testing.T) {
				r, err := Compare(b, chanceResults(b, ra), false)
				require.NoError(t, err)
				require.Len(t, r.Rows, len(b.Metrics))
				require.Positive(t, r.Gated, "the baseline gates something")
				for _, row := range r.Rows {
					if row.Ungated != "" {
						assert.Equal(t, Ungated, row.Verdict)
						continue
					}
					assert.Equal(t, Regression, row.Verdict, "%s: value %.4f, band %.4f, chance %.2f passes", row.key(), row.Value, row.Band, row.Now)
				}
				assert.Equal(t, r.Gated, r.Regressions)
			})
		}
	}
}

// TestBandAndGating: the band follows the seed spread and its floor; a
// metric gates only where the band stays within half the way down to
// chance, and is shown ungated otherwise (hand-computed cases).
func TestBandAndGating(t *testing.T) {
	cases := []struct {
		name       string
		value, std float64
		band       float64
		ungated    string // "" when gated, else a fragment of the reason
	}{
		{"spread above the floor", 0.50, 0.04, 0.12, ""},
		{"floor", 0.50, 0.005, 0.03, ""},
		{"band exactly at the cap", 0.34, 0.04, 0.12, ""},
		{"spread past the cap", 0.20, 0.04, 0.12, "band ±12.00 points (3 x std 4.00, floor 3.00) reaches past half the way to chance (5.00 points)"},
		{"floor past the cap", 0.14, 0.001, 0.03, "reaches past half the way to chance (2.00 points)"},
		{"at chance", 0.08, 0.01, 0.03, "value 8.00% is not above chance (10%)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, why := band(Metric{Norm: "bn", Branch: "shared", Metric: SA, Value: c.value, Std: c.std}, 3, 0.03)
			assert.InDelta(t, c.band, got, 1e-12)
			if c.ungated == "" {
				assert.Empty(t, why)
			} else {
				assert.Contains(t, why, c.ungated)
			}
		})
	}
}

// TestUngatedMetricsDoNotGate: a metric too noisy to gate is shown with
// verdict "ungated" and neither fails nor counts; a baseline with nothing
// to gate is refused.
func TestUngatedMetricsDoNotGate(t *testing.T) {
	b := &Baseline{Metrics: []Metric{
		{Norm: "saauxbn", Branch: "adv", Metric: SA, Value: 0.40, Band: 0.03},
		{Norm: "saauxbn", Branch: "adv", Metric: "pgd-10", Value: 0.20, Band: 0.06, Ungated: "too noisy"},
	}}
	b.Context = result("saauxbn", "adv", 1, 40, 20).File.Conditions()
	r, err := Compare(b, []results.Source{result("saauxbn", "adv", 1, 40, 5)}, true)
	require.NoError(t, err)
	assert.Equal(t, OK, r.Rows[0].Verdict)
	assert.Equal(t, Ungated, r.Rows[1].Verdict, "15 points down, but not gated")
	assert.False(t, r.Failed())
	assert.Equal(t, 1, r.Gated)
	assert.Contains(t, r.Summary(), "PASS: 2 metrics, 0 regressions, 0 improvements beyond their bands (1 gated; 1 shown only")

	noisy := []results.Source{result("bn", "shared", 1, 20, 11), result("bn", "shared", 2, 40, 19), result("bn", "shared", 3, 12, 12)}
	_, err = Update(noisy, 3, 0.03, time.Unix(0, 0))
	assert.ErrorContains(t, err, "no metric can be gated")
}
