package evaluate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/advbench/advbench/attack"
	"github.com/advbench/advbench/data/loader"
	"github.com/advbench/advbench/nn"
	"github.com/advbench/advbench/results"
	"github.com/advbench/advbench/rundir"
)

// SweepSpec is an accuracy-against-eps sweep: the Spec's target, data,
// test-n, seed, batch, branch and output directory, PGD of Steps steps
// (default 10) at each of Eps (default attack.DefaultSweep/255) with the
// step Options.Step/Options.Eps of eps (default 1/4: 2/255 at 8/255).
type SweepSpec struct {
	Spec
	Steps int
	Eps   []float64
}

// Sweep measures robust accuracy at each eps for every branch asked for and
// writes sweep-BRANCH.json (rundir.SweepFile) into the output directory.
// Everything that would make it fail is found before the first attack: a
// grid or options attack.CheckSweep refuses, and a sweep file of another evaluation
// (results.Identity: checkpoint, data, seed, batch, mode, and the PGD at
// each eps of the grid), which is refused unless o.Force; one of the same
// evaluation is reused. It returns one outcome per branch.
func Sweep(ctx context.Context, s SweepSpec, o Options) ([]Outcome[*results.Sweep], error) {
	if s.Steps == 0 {
		s.Steps = 10
	}
	if s.Batch == 0 {
		s.Batch = 128
	}
	if len(s.Eps) == 0 {
		for _, e := range attack.DefaultSweep {
			s.Eps = append(s.Eps, e/255)
		}
	}
	opts := attack.DefaultOptions()
	if s.Options != nil {
		opts = *s.Options
	}
	if err := attack.CheckSweep(s.Steps, opts, s.Eps); err != nil {
		return nil, err
	}
	if s.Batch < 1 || s.TestN < 0 {
		return nil, fmt.Errorf("evaluate: batch %d and test-n %d must be positive", s.Batch, s.TestN)
	}
	ld, err := loadSpec(s.Spec)
	if err != nil {
		return nil, err
	}
	branches, err := branchesOf(s.Branch, ld.model.Branches())
	if err != nil {
		return nil, err
	}
	dir := s.Out
	if dir == "" {
		dir = ld.outDir
	}
	pgds := attack.SweepAttacks(s.Steps, opts, s.Eps)
	type job struct {
		b      branchSpec
		path   string
		base   results.Sweep
		reused *results.Sweep
	}
	var jobs []job
	for _, b := range branches {
		jb := job{b: b, path: filepath.Join(dir, rundir.SweepFile(b.name)),
			base: results.Sweep{Provenance: ld.provenance(results.SweepSchema), Branch: b.name, Mode: nn.Eval.String(), Seed: s.Seed, Batch: s.Batch,
				Attack: pgds[0].Name(), StepRatio: opts.Step / opts.Eps, Examples: ld.test.Len()}}
		want := jb.base
		for _, a := range pgds {
			want.Points = append(want.Points, results.SweepPoint{AttackParams: a.Params()})
		}
		old, _, err := existing(jb.path, results.ReadSweep, want.Identity(), o.Force)
		if err != nil {
			return nil, err
		}
		jb.reused = old
		jobs = append(jobs, jb)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	var outcomes []Outcome[*results.Sweep]
	for _, jb := range jobs {
		if jb.reused != nil {
			outcomes = append(outcomes, Outcome[*results.Sweep]{Path: jb.path, File: jb.reused, Reused: true})
			continue
		}
		batches := func(fn func(x []float32, y []int) error) error {
			l, err := loader.New(ld.test, loader.Config{BatchSize: s.Batch})
			if err != nil {
				return err
			}
			return l.Epoch(0, 0, func(_ int, bt *loader.Batch) error {
				if ctx.Err() != nil {
					return fmt.Errorf("evaluate: %s: %w; run the same sweep again to continue", jb.path, rundir.ErrInterrupted)
				}
				return fn(bt.X, bt.Y)
			})
		}
		cfg := attack.EvalConfig{Setting: attack.Setting{Branch: jb.b.branch, Mode: nn.Eval}, Seed: s.Seed, Model: ld.ckpt.Path, Data: ld.data.Source}
		r, err := attack.Sweep(ld.model, batches, s.Steps, opts, s.Eps, ld.model.Config().Classes, cfg)
		if err != nil {
			return outcomes, err
		}
		out := jb.base
		out.Examples, out.Chance, out.Warnings, out.Points = r.Examples, r.Chance, r.Warnings, r.Points
		if err := results.WriteJSON(jb.path, &out); err != nil {
			return outcomes, err
		}
		outcomes = append(outcomes, Outcome[*results.Sweep]{Path: jb.path, File: &out})
		if o.AfterBatch != nil {
			o.AfterBatch(jb.b.name, len(out.Points))
		}
	}
	return outcomes, nil
}
