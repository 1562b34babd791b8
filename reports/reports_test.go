package reports

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/advbench/advbench/internal/stats"
	"github.com/advbench/advbench/results"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/results (the fixtures) and the golden renderings")

// fixture makes a result file: per-example outcomes drawn around the given
// accuracies from one shared difficulty per example (so columns are paired
// as real evaluations on one test set are).
func fixture(norm, branch string, branches int, seed uint64, sa, ra10, ra20 float64) *results.File {
	const n = 200
	ease := rand.New(rand.NewPCG(99, 99)) // the test set: one difficulty per example
	rng := rand.New(rand.NewPCG(seed, uint64(len(norm))*31+uint64(len(branch))))
	f := &results.File{
		Provenance: results.Provenance{Schema: results.Schema, Version: "test",
			Model:      results.Model{Norm: norm, Width: 0.25, Branches: branches, Objective: "advprop", Preset: "quick", TrainSeed: seed},
			Checkpoint: results.Checkpoint{Path: fmt.Sprintf("runs/%s-s%d/checkpoints/last.safetensors", norm, seed), SHA256: strings.Repeat("ab", 32), Epoch: 6},
			Data:       results.Data{Source: "builtin synth (seed 1, 10000 train, 2000 test)", SHA256: strings.Repeat("cd", 32), Split: "test"}},
		Branch: branch, Mode: "eval", Seed: 0,
		Measurement: results.Measurement{Examples: n, PerExample: &results.PerExample{Robust: map[string][]bool{}}},
	}
	for _, a := range []struct {
		name  string
		steps int
	}{{"pgd-10", 10}, {"pgd-20", 20}} {
		f.Attacks = append(f.Attacks, results.AttackResult{AttackParams: results.AttackParams{Name: a.name, Eps: 8.0 / 255, Eps255: "8/255", Step: 2.0 / 255, Steps: a.steps, Restarts: 1, RandomStart: true, Loss: "ce"}})
	}
	for i := 0; i < n; i++ {
		e := ease.Float64()
		jitter := 0.15 * (rng.Float64() - 0.5)
		clean := e+jitter < sa
		r10 := clean && e+jitter < ra10
		r20 := r10 && e+jitter < ra20
		f.PerExample.CleanCorrect = append(f.PerExample.CleanCorrect, clean)
		f.PerExample.Robust["pgd-10"] = append(f.PerExample.Robust["pgd-10"], r10)
		f.PerExample.Robust["pgd-20"] = append(f.PerExample.Robust["pgd-20"], r20)
		f.PerExample.WorstCase = append(f.PerExample.WorstCase, r20)
	}
	f.SA = stats.Fraction(f.PerExample.CleanCorrect)
	f.Attacks[0].RA, f.Attacks[0].Robust = stats.Fraction(f.PerExample.Robust["pgd-10"]), stats.Count(f.PerExample.Robust["pgd-10"])
	f.Attacks[1].RA, f.Attacks[1].Robust = stats.Fraction(f.PerExample.Robust["pgd-20"]), stats.Count(f.PerExample.Robust["pgd-20"])
	f.WorstCaseRA = f.Attacks[1].RA
	return f
}

// fixtures is the fixed set the goldens render: two seeds of bn and of
// saauxbn, one of modenorm, auxbn and sabn (a norm outside the paper).
func fixtures() map[string]*results.File {
	return map[string]*results.File{
		"bn-s1.json":            fixture("bn", "shared", 1, 1, 0.80, 0.40, 0.38),
		"bn-s2.json":            fixture("bn", "shared", 1, 2, 0.82, 0.42, 0.39),
		"modenorm-s1.json":      fixture("modenorm", "shared", 1, 1, 0.79, 0.43, 0.41),
		"auxbn-s1-clean.json":   fixture("auxbn", "clean", 2, 1, 0.90, 0.05, 0.04),
		"auxbn-s1-adv.json":     fixture("auxbn", "adv", 2, 1, 0.80, 0.44, 0.42),
		"saauxbn-s1-clean.json": fixture("saauxbn", "clean", 2, 1, 0.93, 0.06, 0.05),
		"saauxbn-s1-adv.json":   fixture("saauxbn", "adv", 2, 1, 0.83, 0.55, 0.53),
		"saauxbn-s2-clean.json": fixture("saauxbn", "clean", 2, 2, 0.92, 0.05, 0.05),
		"saauxbn-s2-adv.json":   fixture("saauxbn", "adv", 2, 2, 0.84, 0.56, 0.54),
		"sabn-s1-clean.json":    fixture("sabn", "clean", 2, 1, 0.85, 0.10, 0.09),
		"sabn-s1-adv.json":      fixture("sabn", "adv", 2, 1, 0.81, 0.45, 0.44),
	}
}

// readFixtures reads testdata/results (written by -update).
func readFixtures(t *testing.T) []results.Source {
	t.Helper()
	dir := filepath.Join("testdata", "results")
	if *update {
		require.NoError(t, os.MkdirAll(dir, 0o755))
		for name, f := range fixtures() {
			require.NoError(t, results.Write(filepath.Join(dir, name), f))
		}
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, paths, "run go test ./reports -update once to write the fixtures")
	sort.Strings(paths)
	var out []results.Source
	for _, p := range paths {
		f, err := results.Read(p)
		require.NoError(t, err)
		out = append(out, results.Source{Path: p, File: f})
	}
	return out
}

// TestGoldens renders the fixtures in every format, with and without the
// published values, and compares with testdata/golden: regression goldens
// of the rendering, written by the code (-update). The numbers they hold
// are checked against independent values by TestReportNumbers,
// TestCellIntervalsPublished and the McNemar tests.
func TestGoldens(t *testing.T) {
	srcs := readFixtures(t)
	for _, paper := range []bool{false, true} {
		r, err := Build(srcs, Options{Paper: paper})
		require.NoError(t, err)
		for _, format := range Formats {
			name := format
			if paper {
				name += "-paper"
			}
			t.Run(name, func(t *testing.T) {
				var b bytes.Buffer
				require.NoError(t, Render(&b, r, format))
				golden := filepath.Join("testdata", "golden", name+".txt")
				if *update {
					require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
					require.NoError(t, os.WriteFile(golden, b.Bytes(), 0o644))
				}
				want, err := os.ReadFile(golden)
				require.NoError(t, err, "run go test ./reports -update to write the goldens")
				assert.Equal(t, string(want), b.String())
			})
		}
	}
}

// TestReportNumbers checks cells against independent computations from
// the fixtures: seed means, the paper column and the McNemar marker (the
// intervals' values: TestCellIntervalsPublished).
func TestReportNumbers(t *testing.T) {
	fx := fixtures()
	var srcs []results.Source
	for name, f := range fx {
		srcs = append(srcs, results.Source{Path: name, File: f})
	}
	r, err := Build(srcs, Options{Paper: true})
	require.NoError(t, err)
	col := func(tb Table, norm string) int {
		for i, c := range tb.Columns {
			if c.Norm == norm {
				return i
			}
		}
		t.Fatalf("no column %s", norm)
		return -1
	}
	labels := []string{}
	for _, c := range r.Table3.Columns {
		labels = append(labels, c.Label)
	}
	assert.Equal(t, []string{"BN", "ModeNorm", "AuxBN (clean)", "SaAuxBN (clean)", "SaBN (clean)"}, labels, "the paper's order, then the others")

	bn := r.Table4.Rows[1].Cells[col(r.Table4, "bn")]
	want := (fx["bn-s1.json"].Attack("pgd-10").RA + fx["bn-s2.json"].Attack("pgd-10").RA) / 2
	assert.InDelta(t, want, bn.Mean, 1e-12, "bn PGD-10: the mean of its two seeds")
	assert.Equal(t, 2, bn.Runs)
	assert.Equal(t, "t", bn.Interval)
	require.NotNil(t, bn.Paper)
	assert.InDelta(t, 0.4157, *bn.Paper, 1e-12)

	mn := r.Table3.Rows[0].Cells[col(r.Table3, "modenorm")]
	assert.Equal(t, "wilson", mn.Interval)
	assert.InDelta(t, fx["modenorm-s1.json"].SA, mn.Mean, 1e-12)
	assert.Less(t, mn.Lo, mn.Mean)
	assert.Greater(t, mn.Hi, mn.Mean)
	require.NotNil(t, mn.PValue, "modenorm seed 1 is paired with saauxbn seed 1")

	ref := r.Table4.Rows[1].Cells[col(r.Table4, "saauxbn")]
	assert.Nil(t, ref.PValue, "the reference is not tested against itself")
	aux := r.Table4.Rows[1].Cells[col(r.Table4, "auxbn")]
	require.NotNil(t, aux.PValue)
	assert.True(t, aux.Significant, "auxbn RA 0.44 against saauxbn 0.55 on 200 paired examples: p = %v", *aux.PValue)
}

// TestCellIntervalsPublished: a cell's interval against published values.
// One run of 81 correct of 263: Newcombe (1998), Table I, method 3 (Wilson
// score), [0.2553, 0.3662]. Two seeds at 80/200 and 84/200: mean 0.41,
// s = 0.02/√2, t(0.975, 1) = 12.706205 (tables), so 0.41 ± 12.706205·0.01.
func TestCellIntervalsPublished(t *testing.T) {
	one, err := Build([]results.Source{
		{Path: "saauxbn.json", File: flagged("saauxbn", 1, flags(100, 263))},
		{Path: "modenorm.json", File: flagged("modenorm", 1, flags(81, 263))},
	}, Options{})
	require.NoError(t, err)
	require.Equal(t, "modenorm", one.Table3.Columns[0].Norm)
	w := one.Table3.Rows[0].Cells[0]
	assert.Equal(t, "wilson", w.Interval)
	assert.InDelta(t, 81.0/263, w.Mean, 1e-12)
	assert.InDelta(t, 0.2553, w.Lo, 5e-5, "Wilson lower bound")
	assert.InDelta(t, 0.3662, w.Hi, 5e-5, "Wilson upper bound")

	two, err := Build([]results.Source{
		{Path: "saauxbn.json", File: flagged("saauxbn", 1, flags(100, 200))},
		{Path: "bn-s1.json", File: flagged("bn", 1, flags(80, 200))},
		{Path: "bn-s2.json", File: flagged("bn", 2, flags(84, 200))},
	}, Options{})
	require.NoError(t, err)
	require.Equal(t, "bn", two.Table3.Columns[0].Norm)
	c := two.Table3.Rows[0].Cells[0]
	assert.Equal(t, "t", c.Interval)
	assert.Equal(t, 2, c.Runs)
	assert.InDelta(t, 0.41, c.Mean, 1e-12)
	assert.InDelta(t, 0.02/math.Sqrt2, c.Std, 1e-12, "sample standard deviation of 0.40 and 0.42")
	assert.InDelta(t, 0.41-12.706205*0.01, c.Lo, 1e-6, "t lower bound")
	assert.InDelta(t, 0.41+12.706205*0.01, c.Hi, 1e-6, "t upper bound")
}

func TestBuildRefusals(t *testing.T) {
	fx := fixtures()
	a, b := fx["bn-s1.json"], fx["saauxbn-s1-adv.json"]
	eps := *b
	eps.Attacks = append([]results.AttackResult(nil), b.Attacks...)
	eps.Attacks[0].Eps, eps.Attacks[0].Eps255 = 4.0/255, "4/255"
	_, err := Build([]results.Source{{Path: "a.json", File: a}, {Path: "b.json", File: &eps}}, Options{})
	assert.EqualError(t, err, "reports: a.json and b.json cannot share a table: pgd-10 eps 8/255 vs 4/255")

	size := *b
	size.Examples, size.Data.SHA256 = 100, strings.Repeat("ef", 32)
	_, err = Build([]results.Source{{Path: "a.json", File: a}, {Path: "b.json", File: &size}}, Options{})
	assert.EqualError(t, err, "reports: a.json and b.json cannot share a table: test-set size 200 vs 100")

	steps := *b
	steps.Attacks = append([]results.AttackResult(nil), b.Attacks...)
	steps.Attacks[1].Steps = 50
	_, err = Build([]results.Source{{Path: "a.json", File: a}, {Path: "b.json", File: &steps}}, Options{})
	assert.EqualError(t, err, "reports: a.json and b.json cannot share a table: pgd-20 steps 20 vs 50")

	_, err = Build([]results.Source{{Path: "a.json", File: a}, {Path: "again.json", File: a}}, Options{})
	assert.EqualError(t, err, "reports: a.json and again.json are both bn, train seed 1, branch shared: give one of them")
}

// TestBuildRefusesNonReplicates: two files of one norm become two seeds of
// one cell only when they differ by the training seed alone; anything else
// is refused naming both files and the field.
func TestBuildRefusesNonReplicates(t *testing.T) {
	cases := []struct {
		name string
		edit func(f *results.File)
		msg  string
	}{
		{"objective", func(f *results.File) { f.Model.Objective = "clean" }, "differ in objective: advprop vs clean"},
		{"width", func(f *results.File) { f.Model.Width = 0.5 }, "differ in width: 0.25 vs 0.5"},
		{"train data", func(f *results.File) { f.Model.TrainData = strings.Repeat("99", 32) }, "differ in training data: (not recorded) vs 999999999999"},
		{"checkpoint selection", func(f *results.File) { f.Checkpoint.Path = "runs/bn-s2/checkpoints/best.safetensors" }, "differ in checkpoint selection: last.safetensors vs best.safetensors"},
		{"checkpoint epoch", func(f *results.File) { f.Checkpoint.Epoch = 3 }, "differ in checkpoint epoch: 6 vs 3"},
		{"epochs", func(f *results.File) { f.Model.Epochs = 12 }, "differ in epochs: 6 vs 12"},
		{"train steps", func(f *results.File) { f.Model.TrainSteps = 3 }, "differ in training attack steps: 10 vs 3"},
		{"train eps", func(f *results.File) { f.Model.TrainEps = 4.0 / 255 }, "differ in training attack eps"},
		{"train step", func(f *results.File) { f.Model.TrainStep = 1.0 / 255 }, "differ in training attack step"},
		{"train mode", func(f *results.File) { f.Model.TrainAttackMode = "eval" }, "differ in training attack mode: train vs eval"},
	}
	withTraining := func(f *results.File) *results.File {
		g := *f
		g.Model.Epochs, g.Model.TrainSteps, g.Model.TrainEps, g.Model.TrainStep, g.Model.TrainAttackMode = 6, 10, 8.0/255, 2.0/255, "train"
		return &g
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fx := fixtures()
			a, b := withTraining(fx["bn-s1.json"]), withTraining(fx["bn-s2.json"])
			_, err := Build([]results.Source{{Path: "a.json", File: a}, {Path: "b.json", File: b}}, Options{})
			require.NoError(t, err, "seed alone differs")
			c.edit(b)
			_, err = Build([]results.Source{{Path: "a.json", File: a}, {Path: "b.json", File: b}}, Options{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "reports: a.json and b.json would be averaged as two seeds of bn but "+c.msg)
		})
	}
	t.Run("old file without the training fields", func(t *testing.T) {
		fx := fixtures()
		_, err := Build([]results.Source{{Path: "old.json", File: fx["bn-s1.json"]}, {Path: "new.json", File: withTraining(fx["bn-s2.json"])}}, Options{})
		assert.ErrorContains(t, err, "differ in epochs: (not recorded) vs 6")
	})
}

// TestGradColumnsAverageSeeds: two seeds of a norm share a column whose
// value is the mean of their means and whose spread is over the seeds.
func TestGradColumnsAverageSeeds(t *testing.T) {
	stage := func(std, cos float64) []results.StageStats {
		return []results.StageStats{{Stage: 1, Param: "layer1.1.conv2.weight", NormStd: results.MeanStd{Mean: std, Std: 0.5}, Cosine: results.MeanStd{Mean: cos}}}
	}
	g := func(std, cos float64) *results.GradStats {
		return &results.GradStats{Attack: results.AttackParams{Name: "pgd-10"}, AttackMode: "train", Batches: 2, Batch: 8, Stages: stage(std, cos)}
	}
	rep, err := BuildGrad([]GradSource{{"BN", g(1, 0.2)}, {"SaAuxBN", g(2, 0.5)}, {"BN", g(3, 0.4)}})
	require.NoError(t, err)
	assert.Equal(t, []string{"BN", "SaAuxBN"}, rep.Columns)
	bn := rep.Rows[0].Cells[0]
	assert.InDelta(t, 2, bn.NormStd.Mean, 1e-12)
	assert.InDelta(t, 1.4142135623730951, bn.NormStd.Std, 1e-12, "sample std of 1 and 3")
	assert.InDelta(t, 0.3, bn.Cosine.Mean, 1e-12)
	sa := rep.Rows[0].Cells[1]
	assert.Equal(t, 0.5, sa.NormStd.Std, "one run keeps its spread over batches")
	assert.Contains(t, rep.Caption, "over the seeds' means for several")
}

// TestGradSourcesLabelModelsNotSeeds: the one label rule of gradient
// statistics: the norm as the paper spells it, the objective only when the
// statistics differ in it, never the seed.
func TestGradSourcesLabelModelsNotSeeds(t *testing.T) {
	g := func(norm, objective string, seed uint64) *results.GradStats {
		return &results.GradStats{Provenance: results.Provenance{Model: results.Model{Norm: norm, Objective: objective, TrainSeed: seed}}}
	}
	labels := func(all ...*results.GradStats) []string {
		var out []string
		for _, s := range GradSources(all) {
			out = append(out, s.Label)
		}
		return out
	}
	assert.Equal(t, []string{"BN", "SaAuxBN", "BN"}, labels(g("bn", "advprop", 1), g("saauxbn", "advprop", 1), g("bn", "advprop", 2)), "seeds share a label")
	assert.Equal(t, []string{"BN advprop", "BN clean", "BN advprop"}, labels(g("bn", "advprop", 1), g("bn", "clean", 1), g("bn", "advprop", 2)), "objectives do not")
	assert.Equal(t, []string{"BN"}, labels(g("bn", "madry", 4)))
}

// TestTIntervalClipped: three seeds that spread widely give a t interval
// that would leave [0, 1]; the cell keeps it inside.
func TestTIntervalClipped(t *testing.T) {
	c := makeCell([]run{{1, flags(5, 100)}, {2, flags(90, 100)}, {3, flags(50, 100)}})
	assert.Equal(t, "t", c.Interval)
	assert.Equal(t, 0.0, c.Lo)
	assert.Equal(t, 1.0, c.Hi)
	assert.InDelta(t, 0.4833333, c.Mean, 1e-6)
}

func flags(k, n int) []bool {
	f := make([]bool, n)
	for i := 0; i < k; i++ {
		f[i] = true
	}
	return f
}

// TestFailedChecksBesideCell: a failed check of an attack shows beside that
// attack's cell of that norm, in the data and the text; passing checks and
// other attacks' failures do not.
func TestFailedChecksBesideCell(t *testing.T) {
	fx := fixtures()
	fx["bn-s2.json"].Checks = []results.Check{
		{Name: "pgd-20: large eps RA near 0", Attack: "pgd-20", OK: false, Offending: 30},
		{Name: "pgd-20: loss raised", Attack: "pgd-20", OK: true},
		{Name: "pgd-10: delta within eps", Attack: "pgd-10", OK: true},
	}
	fx["bn-s1.json"].Checks = []results.Check{{Name: "pgd-20: large eps RA near 0", Attack: "pgd-20", OK: false, Offending: 12}}
	var srcs []results.Source
	for name, f := range fx {
		srcs = append(srcs, results.Source{Path: name, File: f})
	}
	r, err := Build(srcs, Options{})
	require.NoError(t, err)
	require.Equal(t, "bn", r.Table4.Columns[0].Norm)
	for _, tc := range []struct {
		row, col int
		want     []string
	}{
		{0, 0, nil}, // SA
		{1, 0, nil}, // PGD-10: its check passed
		{2, 0, []string{"large eps RA near 0"}},
		{2, 1, nil}, // modenorm
	} {
		t.Run(fmt.Sprintf("row%d-col%d", tc.row, tc.col), func(t *testing.T) {
			c := r.Table4.Rows[tc.row].Cells[tc.col]
			assert.Equal(t, tc.want, c.FailedChecks)
			text := cellText(c, "±", "*")
			if tc.want == nil {
				assert.NotContains(t, text, "check failed")
			} else {
				assert.Contains(t, text, "(check failed: large eps RA near 0)")
			}
		})
	}
}

// flagged makes a result file with only SA, from the given per-example
// outcomes.
func flagged(norm string, seed uint64, clean []bool) *results.File {
	f := fixture(norm, "shared", 1, seed, 0.5, 0.2, 0.1)
	f.Attacks = nil
	f.PerExample = &results.PerExample{CleanCorrect: clean, Robust: map[string][]bool{}}
	f.Examples, f.SA = len(clean), stats.Fraction(clean)
	return f
}

// outcomes is 200 flags: the reference's first 100 correct, less the
// indices in lost, plus those in gained.
func outcomes(lost, gained []int) []bool {
	f := flags(100, 200)
	for _, i := range lost {
		f[i] = false
	}
	for _, i := range gained {
		f[i] = true
	}
	return f
}

// TestMcNemarSeedsAreReplicates: two seeds whose discordant pairs are
// (1, 5) and (0, 4) are not pooled into one sample of (1, 9), p = 22/1024;
// each seed pair is tested alone and combined (p from
// scripts/mcnemar_check.py), then Holm-adjusted over the report's two tests.
func TestMcNemarSeedsAreReplicates(t *testing.T) {
	ref := outcomes(nil, nil)
	srcs := []results.Source{
		{Path: "saauxbn-s1.json", File: flagged("saauxbn", 1, ref)},
		{Path: "saauxbn-s2.json", File: flagged("saauxbn", 2, ref)},
		{Path: "bn-s1.json", File: flagged("bn", 1, outcomes([]int{0, 1, 2, 3, 4}, []int{150}))},
		{Path: "bn-s2.json", File: flagged("bn", 2, outcomes([]int{10, 11, 12, 13}, nil))},
	}
	rep, err := Build(srcs, Options{})
	require.NoError(t, err)
	for _, tb := range []Table{rep.Table3, rep.Table4} {
		require.Equal(t, "bn", tb.Columns[0].Norm)
		c := tb.Rows[0].Cells[0]
		require.NotNil(t, c.PValue)
		assert.InDelta(t, 0.05065056194094186, *c.PValue, 1e-9, tb.Title)
		assert.Equal(t, 2, c.Pairs)
		require.NotNil(t, c.PHolm)
		assert.InDelta(t, 2*0.05065056194094186, *c.PHolm, 1e-9, "two tests of equal p: both doubled")
		assert.False(t, c.Significant, tb.Title)
	}
	assert.Contains(t, rep.Caption.Test, "Holm-adjusted p < 0.05 over the 2 tests")
	assert.Contains(t, rep.Caption.Test, "2 to 2 pairs")
}

// TestMcNemarHolmAndOneSeed: with one seed, three columns each at p =
// 22/1024 against the reference in both tables are six tests; Holm's
// adjustment (6 x 22/1024 = 0.129) leaves none significant, and the caption
// says the test compares trained models.
func TestMcNemarHolmAndOneSeed(t *testing.T) {
	srcs := []results.Source{{Path: "saauxbn.json", File: flagged("saauxbn", 1, outcomes(nil, nil))}}
	for _, norm := range []string{"bn", "modenorm", "auxbn"} {
		srcs = append(srcs, results.Source{Path: norm + ".json", File: flagged(norm, 1, outcomes([]int{0, 1, 2, 3, 4, 5, 6, 7, 8}, []int{150}))})
	}
	rep, err := Build(srcs, Options{})
	require.NoError(t, err)
	for _, tb := range []Table{rep.Table3, rep.Table4} {
		for i, c := range tb.Rows[0].Cells[:3] {
			require.NotNil(t, c.PValue, tb.Columns[i].Norm)
			assert.InDelta(t, 22.0/1024, *c.PValue, 1e-12, "one pair: McNemar's exact test, 2·(1+10)/1024")
			assert.False(t, c.Significant, "%s %s: significant before the correction only", tb.Title, tb.Columns[i].Norm)
		}
	}
	assert.Contains(t, rep.Caption.Test, "over the 6 tests")
	assert.Contains(t, rep.Caption.Test, "the test compares two trained models, not two norms")
}

// bits reads a string of 0s and 1s as per-example flags.
func bits(s string) []bool {
	out := make([]bool, len(s))
	for i, c := range s {
		out[i] = c == '1'
	}
	return out
}

// aaFile is a hand-made result of ten examples under pgd-20 and
// AutoAttack's four pruned attacks (cumulative flags), robust counts by
// hand: clean 8, pgd-20 5, apgd-ce 5, apgd-t 4, fab-t 4, square 3 (so
// AutoAttack 3 of 10), and robust under all five: examples 0 and 4 (2 of 10).
func aaFile(norm, branch string, branches int) *results.File {
	f := fixture(norm, branch, branches, 1, 0.5, 0.2, 0.1)
	f.Attacks = nil
	f.PerExample = &results.PerExample{CleanCorrect: bits("1111111100"), Robust: map[string][]bool{}, WorstCase: bits("1000100000")}
	f.Examples, f.SA = 10, 0.8
	for _, a := range []struct {
		name, flags string
		pruned      bool
	}{{"pgd-20", "1011110000", false}, {"apgd-ce", "1110110000", true}, {"apgd-t", "1110100000", true}, {"fab-t", "1110100000", true}, {"square", "1100100000", true}} {
		f.Attacks = append(f.Attacks, results.AttackResult{AttackParams: results.AttackParams{Name: a.name, Eps: 8.0 / 255, Eps255: "8/255", Steps: 100, Restarts: 1, Loss: "ce", Pruned: a.pruned}})
		f.PerExample.Robust[a.name] = bits(a.flags)
	}
	return f
}

// TestAutoAttackAndWorstCaseRows: Table 4 ends with AutoAttack's RA (the
// flags after its last pruned attack: 3 of 10) and the worst case over
// every attack (2 of 10), in every format; a column without a result
// (--paper's ModeNorm) and results without AutoAttack show "—"; the
// published PGD rows stay; a failed check of an AutoAttack attack marks
// both composite rows, one of pgd-20 only the worst case.
func TestAutoAttackAndWorstCaseRows(t *testing.T) {
	sa := aaFile("saauxbn", "adv", 2)
	sa.Checks = []results.Check{{Name: "square: loss raised", Attack: "square", OK: false}, {Name: "pgd-20: loss raised", Attack: "pgd-20", OK: false}}
	srcs := []results.Source{{Path: "saauxbn-adv.json", File: sa}, {Path: "saauxbn-clean.json", File: aaFile("saauxbn", "clean", 2)}}
	r, err := Build(srcs, Options{Paper: true})
	require.NoError(t, err)
	var labels []string
	for _, row := range r.Table4.Rows {
		labels = append(labels, row.Label)
	}
	require.Equal(t, []string{"Clean (SA)", "PGD-20 (RA)", "APGD-CE (RA)", "APGD-T (RA)", "FAB-T (RA)", "SQUARE (RA)", "AutoAttack (RA)", "worst case over all attacks"}, labels)
	require.Equal(t, []string{"bn", "modenorm", "auxbn", "saauxbn"}, []string{r.Table4.Columns[0].Norm, r.Table4.Columns[1].Norm, r.Table4.Columns[2].Norm, r.Table4.Columns[3].Norm})
	aa, worst := r.Table4.Rows[6].Cells[3], r.Table4.Rows[7].Cells[3]
	assert.InDelta(t, 0.3, aa.Mean, 1e-12)
	assert.InDelta(t, 0.2, worst.Mean, 1e-12)
	assert.Equal(t, []string{"square: loss raised"}, aa.FailedChecks)
	assert.Equal(t, []string{"square: loss raised", "pgd-20: loss raised"}, worst.FailedChecks)
	assert.Nil(t, aa.Paper, "no published AutoAttack value")
	assert.False(t, r.Table4.Rows[6].Cells[1].Present, "modenorm has no result")
	require.NotNil(t, r.Table4.Rows[1].Cells[3].Paper, "the published PGD-20 row stays")
	assert.InDelta(t, 0.4314, *r.Table4.Rows[1].Cells[3].Paper, 1e-12)

	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, Render(&b, r, format))
			if format == "json" {
				var back Report
				require.NoError(t, json.Unmarshal(b.Bytes(), &back))
				assert.Equal(t, AutoAttackLabel, back.Table4.Rows[6].Label)
				assert.InDelta(t, 0.3, back.Table4.Rows[6].Cells[3].Mean, 1e-12)
				assert.InDelta(t, 0.2, back.Table4.Rows[7].Cells[3].Mean, 1e-12)
				return
			}
			var aaLines, worstLines []string
			for _, l := range strings.Split(b.String(), "\n") {
				if strings.Contains(l, "AutoAttack (RA)") && !strings.Contains(l, "Row AutoAttack") {
					aaLines = append(aaLines, l)
				}
				if strings.Contains(l, "worst case over all attacks") && !strings.Contains(l, "Row AutoAttack") {
					worstLines = append(worstLines, l)
				}
			}
			if format == "csv" { // one line per cell
				require.Len(t, aaLines, 4)
				assert.True(t, strings.HasPrefix(aaLines[3], "4,AutoAttack (RA),saauxbn,adv,1,30.00,"), aaLines[3])
				assert.True(t, strings.HasPrefix(aaLines[1], "4,AutoAttack (RA),modenorm,adv,0,,"), aaLines[1])
				assert.True(t, strings.HasPrefix(worstLines[3], "4,worst case over all attacks,saauxbn,adv,1,20.00,"), worstLines[3])
				return
			}
			require.Len(t, aaLines, 1)
			require.Len(t, worstLines, 1)
			assert.Contains(t, aaLines[0], "30.00")
			assert.Contains(t, aaLines[0], "—")
			assert.Contains(t, worstLines[0], "20.00")
		})
	}

	// Results without AutoAttack: the row is there, every cell "—".
	pgd := fixtures()
	r, err = Build([]results.Source{{Path: "a", File: pgd["saauxbn-s1-adv.json"]}, {Path: "b", File: pgd["bn-s1.json"]}}, Options{})
	require.NoError(t, err)
	row := r.Table4.Rows[3]
	require.Equal(t, AutoAttackLabel, row.Label)
	for _, c := range row.Cells {
		assert.False(t, c.Present)
		assert.Equal(t, "—", cellText(c, "±", "*"))
	}
}

// TestFileAutoAttack: the flags after the last pruned attack, only when
// every attack of AutoAttack ran pruned.
func TestFileAutoAttack(t *testing.T) {
	f := aaFile("bn", "shared", 1)
	fl, last := f.AutoAttack()
	assert.Equal(t, "square", last)
	assert.Equal(t, bits("1100100000"), fl)
	f.Attacks[4].Pruned = false // square not pruned: not AutoAttack's protocol
	fl, last = f.AutoAttack()
	assert.Nil(t, fl)
	assert.Equal(t, "", last)
}

// TestRobustBenchUnreliable: a failed check of an AutoAttack attack makes
// the record unreliable; one of pgd-20 alone does not.
func TestRobustBenchUnreliable(t *testing.T) {
	for _, tc := range []struct {
		attack string
		want   bool
		diag   bool
	}{{"", false, false}, {"pgd-20", false, false}, {"apgd-t", true, false}, {"square", true, false}, {"square", true, true}, {"pgd-20", false, true}} {
		t.Run(fmt.Sprintf("%s-diag%v", tc.attack, tc.diag), func(t *testing.T) {
			f := aaFile("saauxbn", "adv", 2)
			f.Checks = []results.Check{{Name: "apgd-ce: loss raised", Attack: "apgd-ce", OK: true}}
			if tc.attack != "" && tc.diag {
				f.Diagnostics = append(f.Diagnostics, results.Check{Name: tc.attack + ": loss converged", Attack: tc.attack, OK: false})
			} else if tc.attack != "" {
				f.Checks = append(f.Checks, results.Check{Name: tc.attack + ": loss raised", Attack: tc.attack, OK: false})
			}
			recs, err := RobustBench([]results.Source{{Path: "x.json", File: f}})
			require.NoError(t, err)
			require.Len(t, recs, 1)
			assert.Equal(t, "saauxbn-s1-adv.json", recs[0].File)
			assert.Equal(t, tc.want, recs[0].Info.Unreliable)
			assert.Equal(t, "30.00", recs[0].Info.AutoAttackAcc, "3 of 10")
			assert.Equal(t, "80.00", recs[0].Info.CleanAcc, "8 of 10")
		})
	}
}

// TestReliabilityMark: a failed diagnostic of square marks square's cell,
// AutoAttack's and the worst case "warning" and names it; pgd-20's cell,
// whose diagnostics passed, is "reliable"; SA has no mark.
func TestReliabilityMark(t *testing.T) {
	f := aaFile("saauxbn", "adv", 2)
	f.Diagnostics = []results.Check{
		{Name: "square: square does not beat white-box", Attack: "square", OK: false},
		{Name: "pgd-20: doubled steps agree", Attack: "pgd-20", OK: true},
	}
	r, err := Build([]results.Source{{Path: "a.json", File: f}}, Options{})
	require.NoError(t, err)
	byLabel := map[string]Cell{}
	for _, row := range r.Table4.Rows {
		byLabel[row.Label] = row.Cells[0]
	}
	assert.Equal(t, "", byLabel["Clean (SA)"].Mark)
	assert.Equal(t, MarkReliable, byLabel["PGD-20 (RA)"].Mark)
	for _, l := range []string{"SQUARE (RA)", AutoAttackLabel, WorstCaseLabel} {
		assert.Equal(t, MarkWarning, byLabel[l].Mark, l)
	}
	assert.Equal(t, []string{"square does not beat white-box"}, byLabel["SQUARE (RA)"].FailedChecks)
	assert.Equal(t, "30.00 [10.78, 60.32] warning (check failed: square: square does not beat white-box)", cellText(byLabel[AutoAttackLabel], "±", "*"))
	assert.Equal(t, "50.00 [23.66, 76.34] reliable", cellText(byLabel["PGD-20 (RA)"], "±", "*"))
}

// TestCaptionNamesBF16: tables of results whose attacks ran with bf16
// steps say so in the caption's attack line; float32 ones say nothing new.
func TestCaptionNamesBF16(t *testing.T) {
	f := fixture("bn", "shared", 1, 1, 0.8, 0.5, 0.45)
	rep, err := Build([]results.Source{{Path: "bn.json", File: f}}, Options{})
	require.NoError(t, err)
	assert.NotContains(t, strings.Join(rep.Caption.Attacks, "\n"), "bf16")
	for i := range f.Attacks {
		f.Attacks[i].Precision = "bf16"
	}
	rep, err = Build([]results.Source{{Path: "bn.json", File: f}}, Options{})
	require.NoError(t, err)
	assert.Contains(t, rep.Caption.Attacks[0], "pgd-10: eps 8/255, step 2/255, 10 steps, 1 restart(s), random start, ce loss, bf16 attack steps")
}
