package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/advbench/advbench/regress"
	"github.com/advbench/advbench/study"
	"github.com/urfave/cli/v2"
)

type regressOptions struct {
	Baseline string
	Exact    string
	Results  []string
	Update   bool
	Reband   bool
	Strict   bool
	K, Floor float64
	Format   string
}

func newRegressCommand() *cli.Command {
	var opts regressOptions
	return &cli.Command{
		Name:      "regress",
		Usage:     "gate on SA/RA: compare results with a baseline and fail on a regression",
		ArgsUsage: "RESULTS...",
		Description: `Compares evaluation results (files, results directories, run directories or a
reproduction's output) with a baseline: per norm, branch and metric (SA, and
RA under each attack), the mean over seeds against the baseline's value and
band (absolute: 0.03 = 3 percentage points). Prints the difference table
(baseline, now, difference, band, verdict) and exits

  0  every metric within its band (improvements beyond it are reported)
  1  a regression: a metric below baseline - band (each one named); with
     --strict an improvement beyond its band fails too
  2  the results cannot be compared: another preset, test data, test-set
     size, eps or steps (the field is named), or a baseline metric missing

--update rewrites the baseline from the results on purpose: per metric the
mean over seeds and a band of max(--band-k x std over seeds, --band-floor),
recording when, from which files and which advbench version. The band is
max(--band-k x std, --band-floor) capped at half the distance from the value
down to chance (0.10), so that a model at chance fails every metric; a metric
whose value is not above chance is refused.

--reband rewrites the baseline's bands by that rule from the values and
spreads it already holds (no results are read).

--exact DIR is the gate's exact, noise-free layer: it evaluates each fixture
checkpoint that DIR/exact.json lists with the manifest's fixed settings (test
data, images, attacks, seed), on the portable kernels whose results are the
same on every amd64 machine, and compares the result with DIR/expected
example by example: the clean prediction, each attack's robust flag and the
worst case. Any differing example fails the gate (exit 1), naming the
fixture, branch, metric and the first examples. Training noise cannot hide a
change to the norms, the attacks or the evaluation there; a deliberate
change re-makes the expected files with --exact DIR --update (review the
diff like code).

Examples:
  advbench regress --baseline testdata/baselines/ci-cifar10.json ci-run
  advbench regress --baseline base.json --format markdown runs/*/results > gate.md
  advbench regress --update --baseline base.json seed1 seed2 seed3
  advbench regress --exact testdata/baselines/exact`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "baseline", Usage: "baseline `FILE`", Destination: &opts.Baseline},
			&cli.StringFlag{Name: "exact", Usage: "the exact layer: re-evaluate the fixture checkpoints of `DIR` (its exact.json) and compare per example with DIR/expected", Destination: &opts.Exact},
			&cli.BoolFlag{Name: "update", Usage: "rewrite the baseline from the results", Destination: &opts.Update},
			&cli.BoolFlag{Name: "reband", Usage: "recompute the baseline's bands by the band rule from its recorded values and spreads", Destination: &opts.Reband},
			&cli.BoolFlag{Name: "strict", Usage: "improvements beyond their bands fail too", Destination: &opts.Strict},
			&cli.Float64Flag{Name: "band-k", Value: 3, Usage: "--update: band in standard deviations over seeds", Destination: &opts.K},
			&cli.Float64Flag{Name: "band-floor", Value: 0.03, Usage: "--update: smallest band, a fraction", Destination: &opts.Floor},
			formatFlag(&opts.Format, regress.Formats),
		},
		Action: func(c *cli.Context) error {
			switch {
			case opts.Exact != "" && opts.Baseline != "":
				return usagef("regress: give --baseline FILE or --exact DIR, not both")
			case opts.Exact != "":
				if c.NArg() > 0 || opts.Reband || opts.Strict {
					return usagef("regress: --exact DIR evaluates its own fixtures: it takes no results, --reband or --strict")
				}
				if err := checkFormat(opts.Format, regress.Formats); err != nil {
					return err
				}
				ctx, stop := signalContext(c.App.ErrWriter)
				defer stop()
				return runRegressExact(ctx, opts, c.App.Writer, c.App.ErrWriter)
			case opts.Baseline == "":
				return usagef("regress: --baseline FILE (or --exact DIR) is required")
			}
			if c.NArg() == 0 && !opts.Reband {
				return usagef("regress: want result files or directories")
			}
			opts.Results = c.Args().Slice()
			return runRegress(opts, c.App.Writer, c.App.ErrWriter)
		},
	}
}

// regressionError is a gate that failed (exit 1).
type regressionError struct{ failures []string }

func (e regressionError) Error() string {
	return fmt.Sprintf("regress: %d metrics failed the gate:\n  %s", len(e.failures), strings.Join(e.failures, "\n  "))
}

func runRegress(opts regressOptions, stdout, stderr io.Writer) error {
	if err := checkFormat(opts.Format, regress.Formats); err != nil {
		return err
	}
	if opts.Reband {
		if len(opts.Results) > 0 || opts.Update {
			return usagef("regress: --reband reads no results and cannot be combined with --update")
		}
		b, err := regress.Read(opts.Baseline)
		if err != nil {
			return err
		}
		if err := regress.Reband(b, opts.K, opts.Floor, time.Now()); err != nil {
			return err
		}
		if err := regress.Write(opts.Baseline, b); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "regress: rebanded %s: %d metrics (%s)\n", opts.Baseline, len(b.Metrics), b.BandRule)
		return nil
	}
	srcs, err := study.ReadResults(opts.Results)
	if err != nil {
		return resultsHint(err)
	}
	if opts.Update {
		b, err := regress.Update(srcs, opts.K, opts.Floor, time.Now())
		if err != nil {
			return err
		}
		if err := regress.Write(opts.Baseline, b); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "regress: wrote %s: %d metrics from %d result files (%s)\n", opts.Baseline, len(b.Metrics), len(b.From), b.BandRule)
		return nil
	}
	b, err := regress.Read(opts.Baseline)
	if err != nil {
		return err
	}
	r, err := regress.Compare(b, srcs, opts.Strict)
	if err != nil {
		var inc *regress.IncompatibleError
		if errors.As(err, &inc) {
			return usageError{err}
		}
		return err
	}
	r.Baseline = opts.Baseline
	if err := regress.Render(stdout, r, opts.Format); err != nil {
		return err
	}
	if r.Failed() {
		return regressionError{r.Failures()}
	}
	return nil
}
