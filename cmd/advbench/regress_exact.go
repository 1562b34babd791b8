package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/advbench/advbench/attack"
	"github.com/advbench/advbench/evaluate"
	"github.com/advbench/advbench/internal/kernels"
	"github.com/advbench/advbench/regress"
	"github.com/advbench/advbench/results"
)

// runRegressExact is 'regress --exact DIR': it evaluates every fixture
// checkpoint of the exact layer in DIR with the manifest's settings, on the
// portable kernels, and compares the per-example results with the
// expected files; with update it writes them instead.
func runRegressExact(ctx context.Context, opts regressOptions, stdout, stderr io.Writer) error {
	m, err := regress.ReadExact(opts.Exact)
	if err != nil {
		return usageError{err}
	}
	restore := kernels.UsePortable()
	defer restore()
	work, err := os.MkdirTemp("", "advbench-exact-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	o := attack.DefaultOptions()
	o.Eps, o.Step = m.Eps, m.Step
	rep := &regress.ExactReport{}
	written := 0
	for _, fx := range m.Fixtures {
		spec := evaluate.Spec{Target: filepath.Join(opts.Exact, fx.Checkpoint), Attacks: m.Attacks, Options: &o,
			Data: m.Data, TestN: m.TestN, Seed: m.Seed, Batch: m.Batch, Out: filepath.Join(work, fx.Name)}
		outs, err := evaluate.Run(ctx, spec, evaluate.Options{Progress: stderr})
		if err != nil {
			return fmt.Errorf("regress: exact layer: fixture %s: %w", fx.Name, err)
		}
		for _, out := range outs {
			path := regress.ExpectedPath(opts.Exact, fx.Name, out.File.Branch)
			if opts.Update {
				f := *out.File
				f.Checkpoint.Path = fx.Checkpoint // relative to the manifest, not this machine's path
				f.WallSeconds = 0
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					return err
				}
				if err := results.Write(path, &f); err != nil {
					return err
				}
				written++
				continue
			}
			want, err := results.Read(path)
			if err != nil {
				if errors.Is(err, os.ErrNotExist) {
					return usagef("regress: exact layer: %s is missing: make the expected results with --exact %s --update", path, opts.Exact)
				}
				return err
			}
			if err := rep.CompareExact(fx.Name, want, out.File); err != nil {
				return usageError{err}
			}
		}
	}
	if opts.Update {
		fmt.Fprintf(stdout, "regress: wrote %d expected result files under %s (portable kernels)\n", written, filepath.Join(opts.Exact, regress.ExpectedDir))
		return nil
	}
	if err := regress.RenderExact(stdout, rep, opts.Format); err != nil {
		return err
	}
	if rep.Failed() {
		return regressionError{rep.Failures()}
	}
	return nil
}
