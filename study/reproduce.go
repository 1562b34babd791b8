package study

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/advbench/advbench/evaluate"
	"github.com/advbench/advbench/internal/atomicfile"
	"github.com/advbench/advbench/internal/runlock"
	"github.com/advbench/advbench/internal/textfmt"
	"github.com/advbench/advbench/internal/version"
	"github.com/advbench/advbench/reports"
	"github.com/advbench/advbench/results"
	"github.com/advbench/advbench/rundir"
	"github.com/advbench/advbench/train"
)

// Plan is a reproduction: every (norm, seed) cell trained with a preset on
// the data, evaluated on both branches, its gradients analysed.
type Plan struct {
	Preset string   `json:"preset"`
	Data   string   `json:"data"` // "" for the built-in data
	Norms  []string `json:"norms"`
	Seeds  []uint64 `json:"seeds"`
	Out    string   `json:"-"`
	// EvalN and GradN are the test images evaluated and analysed; 0 takes
	// the preset's (train.PresetSpec).
	EvalN int `json:"eval_n"`
	GradN int `json:"grad_n"`
	// Attacks are the attacks each cell is evaluated with (registry names,
	// suites expanded); nil is DefaultAttacks.
	Attacks []string `json:"attacks,omitempty"`
	// LandscapeEvery, when positive, makes every cell probe its loss
	// landscape every so many steps (train.Config.LandscapeEvery); 0 keeps
	// the preset's.
	LandscapeEvery int `json:"landscape_every,omitempty"`
}

// DefaultAttacks are the paper's Tables 3 and 4: PGD-10 and PGD-20.
var DefaultAttacks = []string{"pgd-10", "pgd-20"}

// DefaultNorms are the paper's four columns.
var DefaultNorms = reports.PaperOrder

// Cell is one (norm, seed) of a plan, with its run directory.
type Cell struct {
	Index int
	Norm  string
	Seed  uint64
	Dir   string
}

// Cells lists the plan's cells, norms outer, seeds inner.
func (p Plan) Cells() []Cell {
	var out []Cell
	for _, n := range p.Norms {
		for _, s := range p.Seeds {
			out = append(out, Cell{Index: len(out), Norm: n, Seed: s, Dir: filepath.Join(p.Out, fmt.Sprintf("%s-s%d", n, s))})
		}
	}
	return out
}

// sizes returns the evaluation and analysis sizes.
func (p Plan) sizes() (evalN, gradN int) {
	d, _ := train.LookupPreset(p.Preset)
	evalN, gradN = d.EvalN, d.GradN
	if p.EvalN != 0 {
		evalN = p.EvalN
	}
	if p.GradN != 0 {
		gradN = p.GradN
	}
	return evalN, gradN
}

// Config returns the training configuration of a cell.
func (p Plan) Config(c Cell) (train.Config, error) {
	cfg, err := train.Preset(p.Preset)
	if err != nil {
		return cfg, err
	}
	cfg.Norm, cfg.Seed, cfg.Data = c.Norm, c.Seed, p.Data
	if p.LandscapeEvery > 0 {
		cfg.LandscapeEvery = p.LandscapeEvery
	}
	return cfg, cfg.Validate()
}

// Validate reports a plan that cannot run.
func (p Plan) Validate() error {
	if _, err := train.LookupPreset(p.Preset); err != nil {
		return fmt.Errorf("study: preset %q: want one of %v", p.Preset, train.PresetNames())
	}
	if p.LandscapeEvery < 0 {
		return fmt.Errorf("study: landscape_every %d: want 0 (the preset's) or a positive number of steps", p.LandscapeEvery)
	}
	if p.EvalN < 0 || p.GradN < 0 {
		return fmt.Errorf("study: eval_n %d, grad_n %d: want 0 (the preset's) or a positive count of test images", p.EvalN, p.GradN)
	}
	if len(p.Norms) == 0 || len(p.Seeds) == 0 || p.Out == "" {
		return fmt.Errorf("study: a plan needs norms, seeds and an output directory")
	}
	seen := map[string]bool{}
	for _, c := range p.Cells() {
		if seen[c.Dir] {
			return fmt.Errorf("study: cell %s-s%d is listed twice", c.Norm, c.Seed)
		}
		seen[c.Dir] = true
		if _, err := p.Config(c); err != nil {
			return err
		}
	}
	return nil
}

// Record writes the plan into its output directory (rundir.PlanFile), so
// that cells run apart (cluster tasks) and their merge agree on it, or
// checks that the directory's recorded plan is the same one.
func (p Plan) Record() error {
	path := rundir.Plan(p.Out)
	if old, err := ReadPlan(p.Out); err == nil {
		old.Out = p.Out
		if !reflect.DeepEqual(old, p) {
			return &OtherPlanError{Dir: p.Out}
		}
		return nil
	}
	if err := os.MkdirAll(p.Out, 0o755); err != nil {
		return fmt.Errorf("study: %w", err)
	}
	if err := atomicfile.WriteJSON(path, p); err != nil {
		return fmt.Errorf("study: %w", err)
	}
	return nil
}

// ReadPlan reads the plan a reproduction's directory records; its Out is
// the directory given.
func ReadPlan(dir string) (Plan, error) {
	var p Plan
	b, err := os.ReadFile(rundir.Plan(dir))
	if err != nil {
		return p, fmt.Errorf("study: %s has no %s: not a reproduction's directory", dir, rundir.PlanFile)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("study: %s: %v", rundir.Plan(dir), err)
	}
	p.Out = dir
	return p, nil
}

// Options say how a reproduction is carried out.
type Options struct {
	// Progress receives progress and one line per stage of every cell.
	Progress io.Writer
}

func (o Options) logf(format string, args ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, format+"\n", args...)
	}
}

// evalSpec and gradSpec are what a cell's evaluation and gradient
// analysis measure.
func (p Plan) evalSpec(c Cell) evaluate.Spec {
	evalN, _ := p.sizes()
	return evaluate.Spec{Target: c.Dir, TestN: evalN, Attacks: p.Attacks}
}

func (p Plan) gradSpec(c Cell) evaluate.GradSpec {
	_, gradN := p.sizes()
	return evaluate.GradSpec{Target: c.Dir, N: gradN}
}

// cellFiles are the files of a cell's results directory that a
// reproduction writes.
func cellFiles(dir rundir.Dir) []string {
	return []string{dir.Result(results.BranchClean), dir.Result(results.BranchAdv), dir.Result(results.BranchShared), dir.GradStats()}
}

// CheckCell refuses, before any work, what would make RunCell fail after
// training: a run directory of another configuration, and result files
// that are not this plan's measurement of the cell (results.Identity),
// which a reproduction neither reuses nor replaces. A finished run's
// results are checked against its checkpoint; an unfinished run's must not
// exist yet, since the training it resumes replaces the checkpoint they
// measured.
func (p Plan) CheckCell(c Cell) error {
	cfg, err := p.Config(c)
	if err != nil {
		return err
	}
	rec, err := train.ReadRecord(c.Dir)
	if errors.Is(err, train.ErrNoRecord) || errors.Is(err, os.ErrNotExist) {
		return nil // nothing trained, nothing measured
	} else if err != nil {
		return err
	}
	if !reflect.DeepEqual(rec.Config, cfg) {
		return &OtherRunError{Dir: c.Dir, Norm: c.Norm, Seed: c.Seed, Preset: p.Preset}
	}
	log, err := train.ReadLog(c.Dir)
	if err != nil {
		return err
	}
	if len(log) < cfg.Epochs {
		for _, path := range cellFiles(rundir.Dir(c.Dir)) {
			if _, err := os.Stat(path); err == nil {
				return fmt.Errorf("study: %s measures a checkpoint of the unfinished run %s (%d of %d epochs), which the training replaces: remove it", path, c.Dir, len(log), cfg.Epochs)
			}
		}
		return nil
	}
	if err := evaluate.Check(p.evalSpec(c), evaluate.Options{}); err != nil {
		return err
	}
	_, err = evaluate.CheckGradStats(p.gradSpec(c), evaluate.Options{})
	return err
}

// RunCell trains, evaluates and analyses one cell, redoing nothing that
// is finished: a finished run is kept, a partial one resumed, finished
// results of the same measurement reused (results.Identity); results of
// another measurement are refused (CheckCell, before any work).
func (p Plan) RunCell(ctx context.Context, c Cell, o Options) error {
	if err := p.CheckCell(c); err != nil {
		return err
	}
	cfg, err := p.Config(c)
	if err != nil {
		return err
	}
	to := train.Options{Progress: o.Progress}
	if _, err := train.ReadRecord(c.Dir); err == nil {
		o.logf("reproduce: cell %d %s seed %d: training (resuming %s)", c.Index, c.Norm, c.Seed, c.Dir)
		if _, err := train.Resume(ctx, c.Dir, to); err != nil {
			return err
		}
	} else {
		o.logf("reproduce: cell %d %s seed %d: training into %s", c.Index, c.Norm, c.Seed, c.Dir)
		if _, err := train.Start(ctx, cfg, c.Dir, to); err != nil {
			return err
		}
	}
	o.logf("reproduce: cell %d %s seed %d: evaluating", c.Index, c.Norm, c.Seed)
	eo := evaluate.Options{Progress: o.Progress}
	if _, err := evaluate.Run(ctx, p.evalSpec(c), eo); err != nil {
		return err
	}
	o.logf("reproduce: cell %d %s seed %d: gradient statistics", c.Index, c.Norm, c.Seed)
	if _, err := evaluate.GradStats(ctx, p.gradSpec(c), eo); err != nil {
		return err
	}
	return nil
}

// Outcome is what a reproduction wrote.
type Outcome struct {
	Tables   string // the rendered tables, as printed
	Report   string // report.md
	Plots    []string
	Missing  []Cell
	Duration time.Duration
}

// Reproduce runs every cell, then renders tables, plots and report.md into
// the plan's output directory.
func Reproduce(ctx context.Context, p Plan, o Options) (*Outcome, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	// Every cell is checked before any is worked on.
	for _, c := range p.Cells() {
		if err := p.CheckCell(c); err != nil {
			return nil, fmt.Errorf("study: cell %d (%s, seed %d): %w", c.Index, c.Norm, c.Seed, err)
		}
	}
	if err := os.MkdirAll(p.Out, 0o755); err != nil {
		return nil, fmt.Errorf("study: %w", err)
	}
	lock, err := runlock.Acquire(p.Out)
	if err != nil {
		return nil, fmt.Errorf("study: %w", err)
	}
	defer lock.Release()
	if err := p.Record(); err != nil {
		return nil, err
	}
	start := time.Now()
	for _, c := range p.Cells() {
		if err := p.RunCell(ctx, c, o); err != nil {
			return nil, fmt.Errorf("study: cell %d (%s, seed %d): %w", c.Index, c.Norm, c.Seed, err)
		}
	}
	out, err := Render(p, false)
	if out != nil {
		out.Duration = time.Since(start)
	}
	return out, err
}

// Render reads the plan's cells and writes the tables, the gradient table,
// the plots and report.md. Missing cells are an error unless allowMissing,
// which renders what exists and says what is missing.
func Render(p Plan, allowMissing bool) (*Outcome, error) {
	return RenderCells(p, p.Cells(), allowMissing)
}

// RenderCells is Render over cells that may lie in other directories than
// the plan's (a merge of several result volumes); the output goes to p.Out.
func RenderCells(p Plan, cells []Cell, allowMissing bool) (*Outcome, error) {
	out := &Outcome{}
	var runs []*Run
	for _, c := range cells {
		r, err := LoadRun(c.Dir)
		if err != nil || len(r.Results) == 0 || r.GradStats == nil {
			out.Missing = append(out.Missing, c)
			continue
		}
		runs = append(runs, r)
	}
	if len(out.Missing) > 0 && !allowMissing {
		var names []string
		for _, c := range out.Missing {
			names = append(names, fmt.Sprintf("%d (%s, seed %d, %s)", c.Index, c.Norm, c.Seed, c.Dir))
		}
		return nil, fmt.Errorf("study: cells not finished: %s", strings.Join(names, "; "))
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("study: no finished cell to render")
	}
	var srcs []results.Source
	var grads []*results.GradStats
	for _, r := range runs {
		srcs = append(srcs, r.Results...)
		grads = append(grads, r.GradStats)
	}
	tables, err := reports.Build(srcs, reports.Options{Paper: true})
	if err != nil {
		return nil, err
	}
	grad, err := reports.BuildGrad(reports.GradSources(grads))
	if err != nil {
		return nil, err
	}
	var txt bytes.Buffer
	if err := reports.Render(&txt, tables, "table"); err != nil {
		return nil, err
	}
	txt.WriteString("\nGradient statistics\n")
	if err := reports.RenderGrad(&txt, grad, "table"); err != nil {
		return nil, err
	}
	out.Tables = txt.String()
	if err := os.MkdirAll(p.Out, 0o755); err != nil {
		return nil, fmt.Errorf("study: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(p.Out, "tables.txt"), txt.Bytes()); err != nil {
		return nil, fmt.Errorf("study: %w", err)
	}
	for _, f := range []struct {
		name, format string
	}{{"tables.json", "json"}, {"tables.csv", "csv"}, {"tables.tex", "latex"}} {
		var b bytes.Buffer
		if err := reports.Render(&b, tables, f.format); err != nil {
			return nil, err
		}
		if err := atomicfile.WriteFile(filepath.Join(p.Out, f.name), b.Bytes()); err != nil {
			return nil, fmt.Errorf("study: %w", err)
		}
	}
	plotDir := filepath.Join(p.Out, "plots")
	if err := os.MkdirAll(plotDir, 0o755); err != nil {
		return nil, fmt.Errorf("study: %w", err)
	}
	if out.Plots, err = WritePlots(runs, plotDir); err != nil {
		return nil, err
	}
	md, err := reportMarkdown(p, runs, tables, grad, out)
	if err != nil {
		return nil, err
	}
	out.Report = filepath.Join(p.Out, "report.md")
	if err := atomicfile.WriteFile(out.Report, md); err != nil {
		return nil, fmt.Errorf("study: %w", err)
	}
	return out, nil
}

// reportMarkdown writes report.md: the tables, the figures, the exact
// commands and each cell's configuration.
func reportMarkdown(p Plan, runs []*Run, tables *reports.Report, grad *reports.GradReport, out *Outcome) ([]byte, error) {
	var b bytes.Buffer
	evalN, gradN := p.sizes()
	fmt.Fprintf(&b, "# advbench reproduction: preset %s\n\n", p.Preset)
	fmt.Fprintf(&b, "advbench %s. Data: %s. Norms: %s. Seeds: %s.\n\n", version.Version, dataName(p.Data), strings.Join(p.Norms, ", "), textfmt.JoinSeeds(p.Seeds))
	if len(out.Missing) > 0 {
		fmt.Fprintf(&b, "**Incomplete: %d of %d cells are missing and not shown:**", len(out.Missing), len(p.Cells()))
		for _, c := range out.Missing {
			fmt.Fprintf(&b, " %s seed %d (`%s`);", c.Norm, c.Seed, c.Dir)
		}
		b.WriteString("\n\n")
	}
	b.WriteString("## Tables 3 and 4\n\n")
	if err := reports.Render(&b, tables, "markdown"); err != nil {
		return nil, err
	}
	b.WriteString("\n## Gradient statistics\n\n")
	if err := reports.RenderGrad(&b, grad, "markdown"); err != nil {
		return nil, err
	}
	landscapeMarkdown(&b, runs)
	b.WriteString("\n## Figures\n\n")
	for _, path := range out.Plots {
		if filepath.Ext(path) != ".png" {
			continue
		}
		rel, err := filepath.Rel(p.Out, path)
		if err != nil {
			rel = path
		}
		name := strings.TrimSuffix(filepath.Base(path), ".png")
		fmt.Fprintf(&b, "![%s](%s)\n\n", name, filepath.ToSlash(rel))
	}
	b.WriteString("## How this was made\n\n```sh\n")
	cmd := fmt.Sprintf("advbench reproduce --preset %s --norms %s --seeds %s --out %s", p.Preset, strings.Join(p.Norms, ","), textfmt.JoinSeeds(p.Seeds), p.Out)
	if p.Data != "" {
		cmd += " --data " + p.Data
	}
	trainExtra, evalExtra := "", ""
	if p.LandscapeEvery > 0 {
		cmd += fmt.Sprintf(" --landscape-every %d", p.LandscapeEvery)
		trainExtra = fmt.Sprintf(" --landscape-every %d", p.LandscapeEvery)
	}
	if len(p.Attacks) > 0 {
		cmd += " --attacks " + strings.Join(p.Attacks, ",")
		evalExtra = " --attacks " + strings.Join(p.Attacks, ",")
	}
	b.WriteString(cmd + "\n```\n\nwhich, per cell, is:\n\n```sh\n")
	for _, c := range p.Cells() {
		data := ""
		if p.Data != "" {
			data = " --data " + p.Data
		}
		fmt.Fprintf(&b, "advbench train --preset %s --norm %s --seed %d%s%s --out %s\n", p.Preset, c.Norm, c.Seed, data, trainExtra, c.Dir)
		fmt.Fprintf(&b, "advbench eval %s --test-n %d%s\n", c.Dir, evalN, evalExtra)
		fmt.Fprintf(&b, "advbench gradstats %s --n %d\n", c.Dir, gradN)
	}
	b.WriteString("```\n\n## Cells\n\n| cell | norm | seed | epochs | training s | evaluation s | config |\n|---|---|---|---|---|---|---|\n")
	for _, r := range runs {
		c := r.Record.Config
		var trainS, evalS float64
		for _, e := range r.Log {
			trainS += e.TrainSeconds + e.EvalSeconds
		}
		for _, s := range r.Results {
			evalS += s.File.WallSeconds
		}
		fmt.Fprintf(&b, "| `%s` | %s | %d | %d | %.0f | %.0f | `%s` |\n", r.Dir, c.Norm, c.Seed, len(r.Log), trainS, evalS, rundir.Dir(r.Dir).Config())
	}
	first := runs[0].Record
	cj, err := json.MarshalIndent(first.Config, "", "  ")
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(&b, "\nThe training configuration of `%s` (the other cells differ in norm and seed only), on %s (sha256 %s of the records used):\n\n```json\n%s\n```\n",
		runs[0].Dir, first.Data.Source, first.Data.SHA256, cj)
	return b.Bytes(), nil
}

func dataName(d string) string {
	if d == "" {
		return "the built-in synthetic data"
	}
	return "`" + d + "`"
}
