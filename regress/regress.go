// Package regress gates on standard and robust accuracy: it compares
// evaluation results (package results) with a baseline, a small reviewed
// JSON file holding, per norm, branch and metric, a value and a tolerance
// band, and says which metrics regressed, which improved, and which cannot
// be compared. It renders its verdict; it runs no model.
package regress

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/advbench/advbench/internal/atomicfile"
	"github.com/advbench/advbench/internal/stats"
	"github.com/advbench/advbench/internal/version"
	"github.com/advbench/advbench/reports"
	"github.com/advbench/advbench/results"
)

// Schema names this version of the baseline format.
const Schema = "advbench.baseline/v1"

// SA is the metric name of standard accuracy; robust accuracies are named
// by their attack ("pgd-10").
const SA = "sa"

// Baseline is the reference a gate compares with.
type Baseline struct {
	Schema  string `json:"schema"`
	Version string `json:"advbench_version"`
	// Updated is when the baseline was last rewritten (RFC 3339, UTC), and
	// From the result files it was made from.
	Updated string   `json:"updated"`
	From    []string `json:"from"`
	// BandRule says how the bands were chosen.
	BandRule string `json:"band_rule"`
	// Context is what results must share with the baseline to be compared.
	Context results.Conditions `json:"context"`
	Metrics []Metric           `json:"metrics"`
}

// Metric is one gated number: a fraction and its band.
type Metric struct {
	Norm   string `json:"norm"`
	Branch string `json:"branch"` // clean, adv or shared
	Metric string `json:"metric"` // sa or an attack name
	// Value is the mean over seeds, a fraction.
	Value float64 `json:"value"`
	// Band is absolute, as a fraction (0.03 = 3 percentage points): the
	// metric regresses when it falls below Value − Band.
	Band float64 `json:"band"`
	// Std is the standard deviation over Seeds the band was derived from.
	Std   float64  `json:"std_over_seeds"`
	Seeds []uint64 `json:"seeds"`
	// Of lists, for a pooled metric (Norm and Branch Pooled), the
	// norm/branch results it averages per seed.
	Of []string `json:"of,omitempty"`
	// Ungated, when not empty, says why the metric is shown but not gated:
	// its band reaches past half the way down to chance, so at this size a
	// correct run would fail it about as often as an untrained one passes.
	Ungated string `json:"ungated,omitempty"`
}

// Pooled is the Norm and Branch of a pooled metric: per seed, the mean of
// the metric over every norm and branch evaluated (Metric.Of), which varies
// less from seed to seed than any one of them, so it can be gated where
// they cannot; a breakage that moves every norm moves it.
const Pooled = "all"

// key identifies a metric.
func (m Metric) key() string { return m.Norm + "/" + m.Branch + "/" + m.Metric }

// Row is one metric's comparison.
type Row struct {
	Metric
	Now     float64  `json:"now"`
	NowSeed []uint64 `json:"now_seeds"`
	Diff    float64  `json:"diff"`
	Verdict string   `json:"verdict"` // ok, regression, improvement
}

// Verdicts.
const (
	OK          = "ok"
	Regression  = "regression"
	Improvement = "improvement"
	// Ungated is the verdict of a metric shown but not gated (Metric.Ungated).
	Ungated = "ungated"
)

// Report is a comparison.
type Report struct {
	Baseline     string `json:"baseline"`
	Rows         []Row  `json:"rows"`
	Regressions  int    `json:"regressions"`
	Improvements int    `json:"improvements"`
	// Gated counts the rows that gate (the others are Ungated).
	Gated  int  `json:"gated"`
	Strict bool `json:"strict"`
}

// Failed reports whether the gate fails: a regression, or with Strict an
// improvement beyond its band.
func (r *Report) Failed() bool { return r.Regressions > 0 || r.Strict && r.Improvements > 0 }

// IncompatibleError says results cannot be compared with a baseline.
type IncompatibleError struct {
	File, Field   string
	Baseline, Now any
}

func (e *IncompatibleError) Error() string {
	return fmt.Sprintf("regress: %s cannot be compared with the baseline: %s %v in the baseline, %v here", e.File, e.Field, e.Baseline, e.Now)
}

// check refuses a result whose conditions differ from the baseline's,
// naming the field.
func check(c results.Conditions, path string, f *results.File) error {
	if field, x, y := c.Differ(f.Conditions()); field != "" {
		return &IncompatibleError{File: path, Field: field, Baseline: x, Now: y}
	}
	return nil
}

// measured collects each metric's values over seeds from results.
type measured struct {
	values []float64
	seeds  []uint64
}

func collect(srcs []results.Source) (map[string]*measured, map[string]Metric, error) {
	vals := map[string]*measured{}
	proto := map[string]Metric{}
	seen := map[string]string{}
	add := func(m Metric, seed uint64, v float64) {
		if vals[m.key()] == nil {
			vals[m.key()] = &measured{}
			proto[m.key()] = m
		}
		vals[m.key()].values = append(vals[m.key()].values, v)
		vals[m.key()].seeds = append(vals[m.key()].seeds, seed)
	}
	// Per seed, the metrics' sums over norm/branch results, for the pooled
	// metrics.
	type pool struct {
		sums    map[string]float64
		members []string
	}
	pools := map[uint64]*pool{}
	var seeds []uint64
	for _, s := range srcs {
		f := s.File
		id := fmt.Sprintf("%s/%s/%d", f.Model.Norm, f.Branch, f.Model.TrainSeed)
		if prev, dup := seen[id]; dup {
			return nil, nil, fmt.Errorf("regress: %s and %s are both %s, seed %d, branch %s", prev, s.Path, f.Model.Norm, f.Model.TrainSeed, f.Branch)
		}
		seen[id] = s.Path
		seed := f.Model.TrainSeed
		p := pools[seed]
		if p == nil {
			p = &pool{sums: map[string]float64{}}
			pools[seed] = p
			seeds = append(seeds, seed)
		}
		p.members = append(p.members, f.Model.Norm+"/"+f.Branch)
		one := func(metric string, v float64) {
			add(Metric{Norm: f.Model.Norm, Branch: f.Branch, Metric: metric}, seed, v)
			p.sums[metric] += v
		}
		one(SA, f.SA)
		for _, a := range f.Attacks {
			one(a.Name, a.RA)
		}
	}
	slices.Sort(seeds)
	var of []string
	for i, seed := range seeds { // every seed must pool the same results
		slices.Sort(pools[seed].members)
		if i > 0 && !slices.Equal(of, pools[seed].members) {
			return vals, proto, nil
		}
		of = pools[seed].members
	}
	if len(of) < 2 {
		return vals, proto, nil // a pool of one result is that result's metric
	}
	for _, seed := range seeds {
		p := pools[seed]
		for metric, sum := range p.sums {
			add(Metric{Norm: Pooled, Branch: Pooled, Metric: metric, Of: of}, seed, sum/float64(len(p.members)))
		}
	}
	return vals, proto, nil
}

// Compare checks results against a baseline. Results that cannot be
// compared give an *IncompatibleError, as does a baseline metric that no
// result measures.
func Compare(b *Baseline, srcs []results.Source, strict bool) (*Report, error) {
	if len(srcs) == 0 {
		return nil, fmt.Errorf("regress: no result files")
	}
	for _, s := range srcs {
		if err := check(b.Context, s.Path, s.File); err != nil {
			return nil, err
		}
	}
	if err := reports.Replicates(srcs); err != nil {
		return nil, err
	}
	vals, proto, err := collect(srcs)
	if err != nil {
		return nil, err
	}
	r := &Report{Strict: strict}
	for _, m := range b.Metrics {
		v := vals[m.key()]
		if v == nil {
			return nil, &IncompatibleError{File: "the results", Field: "metric " + m.key(), Baseline: "present", Now: "missing"}
		}
		if now := proto[m.key()].Of; !slices.Equal(m.Of, now) {
			return nil, &IncompatibleError{File: "the results", Field: "pooled metric " + m.key() + " over", Baseline: strings.Join(m.Of, ","), Now: strings.Join(now, ",")}
		}
		now, _ := stats.MeanStd(v.values)
		row := Row{Metric: m, Now: now, NowSeed: v.seeds, Diff: now - m.Value, Verdict: OK}
		if m.Ungated == "" {
			r.Gated++
		}
		switch {
		case m.Ungated != "":
			row.Verdict = Ungated
		case row.Diff < -m.Band-1e-12:
			row.Verdict = Regression
			r.Regressions++
		case row.Diff > m.Band+1e-12:
			row.Verdict = Improvement
			r.Improvements++
		}
		r.Rows = append(r.Rows, row)
	}
	return r, nil
}

// Chance is the accuracy of a model that has learnt nothing on CIFAR-10's
// ten balanced classes: SA 0.10, and RA at most 0.10 (a constant
// prediction is robust on its own class, a noisy one near 0). A gate that
// such a model passes is vacuous, so every band stays below half the
// distance from its value to Chance.
const Chance = 0.10

// BandRule is the rule Update documents and applies: k standard
// deviations over seeds, never less than the floor; a metric is gated only
// where that band stays within half the way from its value down to Chance,
// so that a chance-level model fails every gated metric and a correct run
// of another seed passes it. Where the seed spread is too wide for that (or
// the value is not above chance), the metric is shown but not gated.
func BandRule(k, floor float64) string {
	return fmt.Sprintf("band = max(%g x std over seeds, %g); a metric is gated only when band <= (value - %g)/2, so that a chance-level model (SA and RA %g or 0) fails every gated metric while another seed of a correct run stays within its band; the others are shown, not gated; value = mean over seeds (fractions: 0.01 = 1 percentage point)", k, floor, Chance, Chance)
}

// band applies BandRule to a metric's value and spread: the band, and why
// the metric cannot be gated ("" when it can).
func band(m Metric, k, floor float64) (float64, string) {
	b := math.Max(k*m.Std, floor)
	cap := (m.Value - Chance) / 2
	switch {
	case !(m.Value > Chance):
		return b, fmt.Sprintf("value %.2f%% is not above chance (%g%%)", 100*m.Value, 100*Chance)
	case b > cap:
		return b, fmt.Sprintf("band ±%.2f points (%g x std %.2f, floor %.2f) reaches past half the way to chance (%.2f points): a correct run of another seed would fail it about as often as an untrained model passes", 100*b, k, 100*m.Std, 100*floor, 100*cap)
	}
	return b, ""
}

// Update makes a baseline from results: per metric the mean over seeds and
// a band by BandRule.
func Update(srcs []results.Source, k, floor float64, now time.Time) (*Baseline, error) {
	if len(srcs) == 0 {
		return nil, fmt.Errorf("regress: no result files")
	}
	if !(floor >= 0) || !(k >= 0) {
		return nil, fmt.Errorf("regress: band factor %v and floor %v must not be negative", k, floor)
	}
	ctx := srcs[0].File.Conditions()
	for _, s := range srcs[1:] {
		if err := check(ctx, s.Path, s.File); err != nil {
			return nil, err
		}
	}
	if err := reports.Replicates(srcs); err != nil {
		return nil, err
	}
	vals, proto, err := collect(srcs)
	if err != nil {
		return nil, err
	}
	b := &Baseline{Schema: Schema, Version: version.Version, Updated: now.UTC().Format(time.RFC3339), BandRule: BandRule(k, floor), Context: ctx}
	for _, s := range srcs {
		b.From = append(b.From, s.Path)
	}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return order(proto[keys[i]]) < order(proto[keys[j]]) })
	for _, key := range keys {
		v := vals[key]
		m := proto[key]
		m.Value, m.Std = stats.MeanStd(v.values)
		m.Value, m.Std = round6(m.Value), round6(m.Std)
		bd, why := band(m, k, floor)
		m.Band, m.Ungated = round6(bd), why
		m.Seeds = v.seeds
		b.Metrics = append(b.Metrics, m)
	}
	if gated(b) == 0 {
		return nil, fmt.Errorf("regress: no metric can be gated: every band reaches past half the way to chance (%s)", b.Metrics[0].Ungated)
	}
	return b, nil
}

// Reband rewrites b's bands by BandRule from the values and spreads it
// already holds (no result is re-measured), for a baseline made under an
// older rule.
func Reband(b *Baseline, k, floor float64, now time.Time) error {
	if !(floor >= 0) || !(k >= 0) {
		return fmt.Errorf("regress: band factor %v and floor %v must not be negative", k, floor)
	}
	for i := range b.Metrics {
		bd, why := band(b.Metrics[i], k, floor)
		b.Metrics[i].Band, b.Metrics[i].Ungated = round6(bd), why
	}
	if gated(b) == 0 {
		return fmt.Errorf("regress: no metric can be gated: every band reaches past half the way to chance")
	}
	b.BandRule = BandRule(k, floor) + " (bands recomputed from the recorded values and spreads on " + now.UTC().Format(time.RFC3339) + ")"
	b.Version = version.Version
	return nil
}

// gated counts the metrics that gate.
func gated(b *Baseline) int {
	n := 0
	for _, m := range b.Metrics {
		if m.Ungated == "" {
			n++
		}
	}
	return n
}

// order sorts metrics by the paper's norm order, branch, then metric.
func order(m Metric) string {
	rank := len(reports.PaperOrder)
	if m.Norm == Pooled {
		rank = 99
	}
	for i, n := range reports.PaperOrder {
		if n == m.Norm {
			rank = i
		}
	}
	metric := "1 " + m.Metric
	if m.Metric == SA {
		metric = "0"
	}
	return fmt.Sprintf("%02d %s %s %s", rank, m.Norm, m.Branch, metric)
}

// round6 keeps baselines readable: six decimals of a fraction.
func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// Read loads a baseline, refusing another schema and unknown fields.
func Read(path string) (*Baseline, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("regress: %w", err)
	}
	var b Baseline
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("regress: %s: not a baseline: %v", path, err)
	}
	if b.Schema != Schema {
		return nil, fmt.Errorf("regress: %s: schema %q, want %q", path, b.Schema, Schema)
	}
	if len(b.Metrics) == 0 {
		return nil, fmt.Errorf("regress: %s: no metrics", path)
	}
	return &b, nil
}

// Write stores a baseline as indented JSON, atomically.
func Write(path string, b *Baseline) error {
	if err := atomicfile.WriteJSON(path, b); err != nil {
		return fmt.Errorf("regress: %s: %w", path, err)
	}
	return nil
}
