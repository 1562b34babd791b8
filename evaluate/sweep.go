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
// writes sweep-BRANCH.json into the output directory; a finished sweep of
// the same checkpoint, data, seed and grid is reused.
func Sweep(ctx context.Context, s SweepSpec, o Options) ([]string, error) {
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
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	var paths []string
	for _, b := range branches {
		path := filepath.Join(dir, "sweep-"+b.name+".json")
		if old, err := results.ReadSweep(path); err == nil && old.Checkpoint.SHA256 == ld.ckpt.SHA256 && old.Data.SHA256 == ld.data.SHA256 && old.Seed == s.Seed && sameGrid(old.Points, s.Eps) {
			paths = append(paths, path)
			continue
		}
		batches := func(fn func(x []float32, y []int) error) error {
			l, err := loader.New(ld.test, loader.Config{BatchSize: s.Batch})
			if err != nil {
				return err
			}
			return l.Epoch(0, 0, func(_ int, bt *loader.Batch) error {
				if ctx.Err() != nil {
					return ErrInterrupted
				}
				return fn(bt.X, bt.Y)
			})
		}
		cfg := attack.EvalConfig{Setting: attack.Setting{Branch: b.branch, Mode: nn.Eval}, Seed: s.Seed, Model: ld.ckpt.Path, Data: ld.data.Source}
		r, err := attack.Sweep(ld.model, batches, s.Steps, opts, s.Eps, ld.model.Config().Classes, cfg)
		if err != nil {
			return paths, err
		}
		out := results.Sweep{Provenance: ld.provenance(results.SweepSchema), Branch: b.name, Mode: nn.Eval.String(), Seed: s.Seed, Attack: r.Attack, StepRatio: opts.Step / opts.Eps,
			Examples: r.Examples, Chance: r.Chance, Warnings: r.Warnings}
		for _, p := range r.Points {
			out.Points = append(out.Points, results.SweepPoint{Eps: p.Eps, Eps255: p.Eps255, Accuracy: p.Accuracy})
		}
		if err := results.WriteJSON(path, &out); err != nil {
			return paths, err
		}
		paths = append(paths, path)
		if o.AfterBatch != nil {
			o.AfterBatch(b.name, len(out.Points))
		}
	}
	return paths, nil
}

func sameGrid(points []results.SweepPoint, eps []float64) bool {
	if len(points) != len(eps) {
		return false
	}
	for i, p := range points {
		if p.Eps != eps[i] {
			return false
		}
	}
	return true
}
