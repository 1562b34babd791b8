package reports

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/advbench/advbench/internal/stats"
	"github.com/advbench/advbench/results"
)

// Reference is the norm every other column is tested against.
const Reference = "saauxbn"

// Alpha is the significance level of the markers.
const Alpha = 0.05

// PaperOrder is the order of the paper's columns; other norms follow,
// sorted.
var PaperOrder = []string{"bn", "modenorm", "auxbn", "saauxbn"}

// displayNames are the paper's spellings of the norms (and the usual ones
// of the norms it does not use).
var displayNames = map[string]string{
	"bn": "BN", "modenorm": "ModeNorm", "auxbn": "AuxBN", "saauxbn": "SaAuxBN",
	"sabn": "SaBN", "ccbn": "CCBN", "switchnorm": "SwitchNorm",
	"none": "None", "gn": "GN", "ln": "LN", "in": "IN",
}

// DisplayName spells a norm as the paper does.
func DisplayName(norm string) string {
	if d, ok := displayNames[norm]; ok {
		return d
	}
	return norm
}

// Published are the paper's numbers (RECIPE.md), in percent: Table 3 by
// norm, and Table 4 by row label and norm.
var Published = struct {
	Table3 map[string]float64
	Table4 map[string]map[string]float64
}{
	Table3: map[string]float64{"bn": 84.84, "modenorm": 83.28, "auxbn": 94.47, "saauxbn": 94.62},
	Table4: map[string]map[string]float64{
		"Clean (SA)":  {"bn": 84.84, "modenorm": 83.28, "auxbn": 83.42, "saauxbn": 84.08},
		"PGD-10 (RA)": {"bn": 41.57, "modenorm": 43.56, "auxbn": 43.05, "saauxbn": 44.93},
		"PGD-20 (RA)": {"bn": 40.02, "modenorm": 41.85, "auxbn": 41.60, "saauxbn": 43.14},
	},
}

// Options choose what a report shows.
type Options struct {
	// Paper adds the published values and the differences from them.
	Paper bool
}

// Report is the two tables and what they were made from.
type Report struct {
	Caption Caption `json:"caption"`
	Table3  Table   `json:"table3"`
	Table4  Table   `json:"table4"`
}

// Caption says what the numbers are.
type Caption struct {
	Preset    string   `json:"preset"`
	Data      string   `json:"data"`
	DataHash  string   `json:"data_sha256"`
	Examples  int      `json:"examples"`
	Attacks   []string `json:"attacks"` // e.g. "pgd-10: eps 8/255, step 2/255, 10 steps, 1 restart, random start"
	Eps255    string   `json:"eps_255"`
	Seeds     []uint64 `json:"train_seeds"`
	EvalSeeds []uint64 `json:"eval_seeds"`
	// Test says what the significance markers test: two norms over seed
	// replicates, or, with one seed pair per test, two trained models.
	Test string `json:"test"`
}

// Table is one of the paper's tables.
type Table struct {
	Title   string   `json:"title"`
	Columns []Column `json:"columns"`
	Rows    []Row    `json:"rows"`
}

// Column is one norm.
type Column struct {
	Norm   string   `json:"norm"`
	Label  string   `json:"label"`
	Branch string   `json:"branch"` // the branch the column reports (shared: single-branch norm)
	Seeds  []uint64 `json:"train_seeds"`
}

// Row is one measurement (SA, or RA under one attack) across the columns.
type Row struct {
	Label string `json:"label"`
	Cells []Cell `json:"cells"`
}

// Cell is one norm's value of a row, as fractions.
type Cell struct {
	Present bool    `json:"present"`
	Mean    float64 `json:"mean"`
	Std     float64 `json:"std"`   // over seeds (0 for one run)
	Runs    int     `json:"runs"`  // seeds
	Lo      float64 `json:"ci_lo"` // 95% interval
	Hi      float64 `json:"ci_hi"`
	// Interval is "wilson" (one run) or "t" (over seeds).
	Interval string `json:"interval"`
	// PValue is McNemar's exact test against the reference column on the
	// same examples, one test per seed-matched pair of runs combined over
	// the pairs (stats.McNemarCombined); nil for the reference itself or
	// when it has no run of a matching seed. Pairs counts those pairs.
	PValue *float64 `json:"p_value,omitempty"`
	Pairs  int      `json:"seed_pairs,omitempty"`
	// PHolm is PValue adjusted by Holm's method over every test of the
	// report (both tables); Significant is PHolm < Alpha.
	PHolm       *float64 `json:"p_holm,omitempty"`
	Significant bool     `json:"significant"`
	// Paper is the published value (a fraction) when asked for and known.
	Paper *float64 `json:"paper,omitempty"`
	// FailedChecks names the sanity checks of the cell's attack that failed
	// in any of its runs (see docs/evaluation.md, "Checks of an evaluation").
	FailedChecks []string `json:"failed_checks,omitempty"`
	// Mark summarises the checks and diagnostics of a robust-accuracy cell
	// with runs: "warning" when any failed (FailedChecks), else "reliable";
	// "" for standard accuracy and empty cells.
	Mark string `json:"mark,omitempty"`
}

// The marks of a cell.
const (
	MarkReliable = "reliable"
	MarkWarning  = "warning"
)

// run is one seed's outcome of a cell: its flags and accuracy.
type run struct {
	seed  uint64
	flags []bool
}

// Build checks that the sources can share a table and assembles the
// report.
func Build(srcs []results.Source, o Options) (*Report, error) {
	if len(srcs) == 0 {
		return nil, fmt.Errorf("reports: no result files")
	}
	if err := compatible(srcs); err != nil {
		return nil, err
	}
	type key struct {
		norm, branch string
		seed         uint64
	}
	seen := map[key]string{}
	for _, s := range srcs {
		k := key{s.File.Model.Norm, s.File.Branch, s.File.Model.TrainSeed}
		if prev, dup := seen[k]; dup {
			return nil, fmt.Errorf("reports: %s and %s are both %s, train seed %d, branch %s: give one of them", prev, s.Path, s.File.Model.Norm, k.seed, k.branch)
		}
		seen[k] = s.Path
	}
	if err := Replicates(srcs); err != nil {
		return nil, err
	}
	first := srcs[0].File
	rep := &Report{Caption: caption(srcs)}
	var attacks []string
	for _, a := range first.Attacks {
		attacks = append(attacks, a.Name)
	}
	// Table 3: SA of the clean branch; Table 4: SA and RA of the
	// adversarial branch; a single-branch norm's one network serves both.
	rep.Table3 = build(srcs, "Table 3: standard accuracy (%) of the clean branch", results.BranchClean, nil, o, Published.Table3)
	rep.Table4 = build(srcs, "Table 4: standard and robust accuracy (%) of the adversarial branch", results.BranchAdv, attacks, o, nil)
	if len(rep.Table3.Columns) == 0 && len(rep.Table4.Columns) == 0 {
		return nil, fmt.Errorf("reports: no result of a clean, adversarial or shared branch")
	}
	rep.Caption.Test = adjust(rep)
	return rep, nil
}

// adjust applies Holm's correction over every test of the report, marks the
// cells significant after it, and says in one sentence what was tested.
func adjust(rep *Report) string {
	var cells []*Cell
	var ps []float64
	minPairs, maxPairs := 0, 0
	for _, t := range []*Table{&rep.Table3, &rep.Table4} {
		for i := range t.Rows {
			for j := range t.Rows[i].Cells {
				c := &t.Rows[i].Cells[j]
				if c.PValue == nil {
					continue
				}
				if len(cells) == 0 || c.Pairs < minPairs {
					minPairs = c.Pairs
				}
				maxPairs = max(maxPairs, c.Pairs)
				cells = append(cells, c)
				ps = append(ps, *c.PValue)
			}
		}
	}
	for i, adj := range stats.Holm(ps) {
		adj := adj
		cells[i].PHolm = &adj
		cells[i].Significant = adj < Alpha
	}
	ref := DisplayName(Reference)
	switch {
	case len(cells) == 0:
		return fmt.Sprintf("No McNemar test: no column has a run of the same train seed as %s.", ref)
	case maxPairs == 1:
		return fmt.Sprintf("* Holm-adjusted p < %.2f over the %d tests, in McNemar's exact test against %s on the same examples; one seed each: the test compares two trained models, not two norms.", Alpha, len(cells), ref)
	default:
		return fmt.Sprintf("* Holm-adjusted p < %.2f over the %d tests, in McNemar's exact test against %s on the same examples, one test per seed-matched pair of runs (%d to %d pairs) combined by Stouffer's method: seeds are the replicates, examples are not pooled across them.", Alpha, len(cells), ref, minPairs, maxPairs)
	}
}

// rowLabel spells an attack's row as the paper does: "PGD-10 (RA)".
func rowLabel(attack string) string { return strings.ToUpper(attack) + " (RA)" }

// saLabel is the standard-accuracy row of Table 4.
const saLabel = "Clean (SA)"

// build makes one table from the results of one branch (or shared).
// attacks nil makes Table 3's single SA row.
func build(srcs []results.Source, title, branch string, attacks []string, o Options, published3 map[string]float64) Table {
	byNorm := map[string][]*results.File{}
	for _, s := range srcs {
		f := s.File
		if f.Branch == branch || f.Branch == results.BranchShared {
			byNorm[f.Model.Norm] = append(byNorm[f.Model.Norm], f)
		}
	}
	t := Table{Title: title}
	for _, norm := range columnOrder(byNorm, o.Paper) {
		fs := byNorm[norm]
		sort.Slice(fs, func(i, j int) bool { return fs[i].Model.TrainSeed < fs[j].Model.TrainSeed })
		c := Column{Norm: norm, Label: DisplayName(norm), Branch: branch}
		if len(fs) > 0 && fs[0].Branch == results.BranchShared {
			c.Branch = results.BranchShared
		} else if norm == "auxbn" || norm == "saauxbn" || len(fs) > 0 && fs[0].Model.Branches == 2 {
			c.Label += " (" + branch + ")"
		}
		for _, f := range fs {
			c.Seeds = append(c.Seeds, f.Model.TrainSeed)
		}
		t.Columns = append(t.Columns, c)
	}
	for _, rs := range rowSpecs(attacks) {
		r := Row{Label: rs.label}
		var ref []run
		for _, f := range byNorm[Reference] {
			if fl := rs.flags(f); fl != nil {
				ref = append(ref, run{f.Model.TrainSeed, fl})
			}
		}
		for _, c := range t.Columns {
			var runs []run
			for _, f := range byNorm[c.Norm] {
				if fl := rs.flags(f); fl != nil {
					runs = append(runs, run{f.Model.TrainSeed, fl})
				}
			}
			cell := makeCell(runs)
			cell.FailedChecks = failedChecks(byNorm[c.Norm], rs.checks)
			if rs.label != saLabel && cell.Present {
				cell.Mark = MarkReliable
				if len(cell.FailedChecks) > 0 {
					cell.Mark = MarkWarning
				}
			}
			if c.Norm != Reference && cell.Present && len(ref) > 0 {
				cell.PValue, cell.Pairs = pairedTest(runs, ref)
			}
			if o.Paper {
				if attacks == nil {
					cell.Paper = percentOf(published3, c.Norm)
				} else {
					cell.Paper = percentOf(Published.Table4[rs.label], c.Norm)
				}
			}
			r.Cells = append(r.Cells, cell)
		}
		t.Rows = append(t.Rows, r)
	}
	return t
}

// AutoAttackLabel and WorstCaseLabel are the rows of Table 4 after the
// attacks' own: robust accuracy under AutoAttack (the cumulative flags
// after the last attack of its suite, results.File.AutoAttack) and per
// example under every attack of the file.
const (
	AutoAttackLabel = "AutoAttack (RA)"
	WorstCaseLabel  = "worst case over all attacks"
)

// rowSpec is one row of a table: its label, the per-example flags it
// counts in a file (nil when the file does not measure it: the cell shows
// "—") and which checks concern it (see failedChecks).
type rowSpec struct {
	label  string
	flags  func(*results.File) []bool
	checks func(results.Check) (name string, ok bool)
}

// rowSpecs lists a table's rows: SA alone (attacks nil: Table 3), or SA,
// one row per attack, AutoAttack and the worst case over all attacks.
func rowSpecs(attacks []string) []rowSpec {
	rows := []rowSpec{{label: saLabel, flags: func(f *results.File) []bool { return f.PerExample.CleanCorrect },
		checks: func(results.Check) (string, bool) { return "", false }}}
	if len(attacks) == 0 {
		return rows
	}
	for _, a := range attacks {
		rows = append(rows, rowSpec{label: rowLabel(a), flags: func(f *results.File) []bool { return f.PerExample.Robust[a] },
			checks: func(c results.Check) (string, bool) {
				return strings.TrimPrefix(c.Name, a+": "), c.Attack == a
			}})
	}
	// The composite rows name each failed check with its attack.
	aa := results.AutoAttackNames()
	rows = append(rows,
		rowSpec{label: AutoAttackLabel, flags: func(f *results.File) []bool { fl, _ := f.AutoAttack(); return fl },
			checks: func(c results.Check) (string, bool) { return c.Name, contains(aa, c.Attack) }},
		rowSpec{label: WorstCaseLabel, flags: func(f *results.File) []bool { return f.PerExample.WorstCase },
			checks: func(c results.Check) (string, bool) { return c.Name, c.Attack != "" }})
	return rows
}

// failedChecks lists, once each, the failed checks and diagnostics of
// files that concern a row (by the row's checks, which also spell the check's name).
func failedChecks(files []*results.File, concerns func(results.Check) (string, bool)) []string {
	var out []string
	for _, f := range files {
		for _, c := range append(slices.Clone(f.Checks), f.Diagnostics...) {
			name, ok := concerns(c)
			if !ok || c.OK || contains(out, name) {
				continue
			}
			out = append(out, name)
		}
	}
	return out
}

func percentOf(m map[string]float64, norm string) *float64 {
	v, ok := m[norm]
	if !ok {
		return nil
	}
	v /= 100
	return &v
}

// columnOrder lists the paper's norms first (all of them with --paper, the
// present ones otherwise), then the other present norms, sorted.
func columnOrder(byNorm map[string][]*results.File, paper bool) []string {
	var out []string
	for _, n := range PaperOrder {
		if len(byNorm[n]) > 0 || paper {
			out = append(out, n)
		}
	}
	var rest []string
	for n := range byNorm {
		if !contains(PaperOrder, n) {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// makeCell summarises a norm's runs of one row.
func makeCell(runs []run) Cell {
	if len(runs) == 0 {
		return Cell{}
	}
	c := Cell{Present: true, Runs: len(runs)}
	accs := make([]float64, len(runs))
	for i, r := range runs {
		accs[i] = stats.Fraction(r.flags)
	}
	c.Mean, c.Std = stats.MeanStd(accs)
	if len(runs) == 1 {
		k, n := stats.Count(runs[0].flags), len(runs[0].flags)
		c.Lo, c.Hi, _ = stats.Wilson(k, n)
		c.Interval = "wilson"
	} else {
		c.Lo, c.Hi, _ = stats.TInterval(accs)
		// An accuracy lies in [0, 1]; a wide t interval over few seeds does
		// not know that.
		c.Lo, c.Hi = math.Max(c.Lo, 0), math.Min(c.Hi, 1)
		c.Interval = "t"
	}
	return c
}

// pairedTest runs McNemar's exact test on each seed-matched pair of runs
// and combines the pairs (stats.McNemarCombined), returning the p-value and
// the number of pairs, or nil when no seed matches.
func pairedTest(runs, ref []run) (*float64, int) {
	var b, c []int
	for _, r := range runs {
		for _, q := range ref {
			if q.seed != r.seed {
				continue
			}
			x, y, err := stats.Discordant(r.flags, q.flags)
			if err != nil {
				return nil, 0
			}
			b, c = append(b, x), append(c, y)
		}
	}
	if len(b) == 0 {
		return nil, 0
	}
	p, err := stats.McNemarCombined(b, c)
	if err != nil {
		return nil, 0
	}
	return &p, len(b)
}

// compatible refuses results that cannot share a table, naming both files
// and the field that differs.
func compatible(srcs []results.Source) error {
	a := srcs[0]
	for _, b := range srcs[1:] {
		if field, x, y := a.File.Conditions().Differ(b.File.Conditions()); field != "" {
			return fmt.Errorf("reports: %s and %s cannot share a table: %s %v vs %v", a.Path, b.Path, field, x, y)
		}
	}
	return nil
}

// Replicates refuses results of one norm that differ in anything but the
// training seed (results.File.ReplicateDiffer), naming both files and the
// field: every file of a norm is averaged into that norm's cells as one
// seed of the same training.
func Replicates(srcs []results.Source) error {
	first := map[string]results.Source{}
	for _, s := range srcs {
		a, ok := first[s.File.Model.Norm]
		if !ok {
			first[s.File.Model.Norm] = s
			continue
		}
		if field, x, y := a.File.ReplicateDiffer(s.File); field != "" {
			return fmt.Errorf("reports: %s and %s would be averaged as two seeds of %s but differ in %s: %v vs %v (a cell holds runs that differ by seed alone)", a.Path, s.Path, s.File.Model.Norm, field, x, y)
		}
	}
	return nil
}

// caption collects what the tables were made from.
func caption(srcs []results.Source) Caption {
	f := srcs[0].File
	c := Caption{Preset: f.Model.Preset, Data: f.Data.Source, DataHash: f.Data.SHA256, Examples: f.Examples}
	for _, a := range f.Attacks {
		start := "random start"
		if !a.RandomStart {
			start = "no random start"
		}
		desc := fmt.Sprintf("%s: eps %s, step %.4g/255, %d steps, %d restart(s), %s, %s loss", a.Name, a.Eps255, a.Step*255, a.Steps, a.Restarts, start, a.Loss)
		if a.Precision != "" {
			desc += ", " + a.Precision + " attack steps"
		}
		c.Attacks = append(c.Attacks, desc)
		c.Eps255 = a.Eps255
	}
	seeds, evalSeeds := map[uint64]bool{}, map[uint64]bool{}
	for _, s := range srcs {
		seeds[s.File.Model.TrainSeed] = true
		evalSeeds[s.File.Seed] = true
	}
	c.Seeds, c.EvalSeeds = sortedKeys(seeds), sortedKeys(evalSeeds)
	return c
}

func sortedKeys(m map[uint64]bool) []uint64 {
	out := make([]uint64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
