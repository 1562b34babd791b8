package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/advbench/advbench/evaluate"
	"github.com/advbench/advbench/plots"
	"github.com/advbench/advbench/reports"
	"github.com/advbench/advbench/results"
	"github.com/advbench/advbench/study"
	"github.com/urfave/cli/v2"
)

type gradstatsOptions struct {
	Targets []string
	Spec    evaluate.GradSpec
	Eps     string
	Step    string
	Plot    string
	Format  string
	// Force recomputes and replaces statistics files that exist.
	Force bool
}

func newGradstatsCommand() *cli.Command {
	var opts gradstatsOptions
	return &cli.Command{
		Name:      "gradstats",
		Usage:     "compare the clean and adversarial gradients of each stage (supplement Fig. 5)",
		ArgsUsage: "RUN_DIR|CHECKPOINT...",
		Description: `For the last convolution of each of the 4 stages, per batch of the first --n
test images: the L2 norm of the gradient of the clean loss (clean branch,
clean inputs) and of the adversarial loss (adversarial branch, inputs from
PGD on that branch), in training mode as training computes them. Per stage:
the standard deviation of the two norms (the supplement's Fig. 5; lower = more
balanced) and the cosine similarity of the two gradients (the paper's
gradient-direction measure, Eq. 4/5, for the two branches), as mean ± std
over batches. Every batch starts from the checkpoint's running statistics.

Each target's statistics go to its results/gradstats.json; the table
compares the targets, and --plot DIR draws them (gradstats and gradcos, PNG
and SVG). A file of the same analysis (the same checkpoint contents, test
images, attack and its mode, seed and batch size) is reused; one of another
is refused, naming the first setting that differs, unless --force, which
recomputes and replaces it. Every target is checked before any is computed.

Examples:
  advbench gradstats runs/bn-advprop-quick-s1 runs/saauxbn-advprop-quick-s1
  advbench gradstats runs/*-quick-s1 --n 1024 --plot figures --format markdown`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "n", Value: 512, Usage: "test images analysed", Destination: &opts.Spec.N},
			&cli.IntFlag{Name: "batch", Value: 128, Usage: "batch size (one statistic per batch)", Destination: &opts.Spec.Batch},
			&cli.IntFlag{Name: "steps", Value: 10, Usage: "PGD steps of the adversarial inputs", Destination: &opts.Spec.Steps},
			&cli.StringFlag{Name: "eps", Value: "8/255", Usage: "L-inf radius", Destination: &opts.Eps},
			&cli.StringFlag{Name: "step", Value: "2/255", Usage: "PGD step", Destination: &opts.Step},
			&cli.StringFlag{Name: "attack-mode", Value: "train", Usage: "statistics of the attack: train (as the training attack) or eval", Destination: &opts.Spec.AttackMode},
			&cli.Uint64Flag{Name: "seed", Usage: "seed of the attack's random starts", Destination: &opts.Spec.Seed},
			&cli.StringFlag{Name: "data", Usage: "test data (default: the run's)", Destination: &opts.Spec.Data},
			&cli.StringFlag{Name: "select", Value: "last", Usage: "a run's checkpoint: last, best, reference (epoch-190, what the reference's test scripts score) or epoch-NNN", Destination: &opts.Spec.Select},
			&cli.StringFlag{Name: "plot", Usage: "also draw the statistics into `DIR`", Destination: &opts.Plot},
			formatFlag(&opts.Format, reports.GradFormats),
			forceFlag(&opts.Force),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usagef("gradstats: want at least one RUN_DIR or CHECKPOINT")
			}
			opts.Targets = c.Args().Slice()
			ctx, stop := signalContext(c.App.ErrWriter)
			defer stop()
			return runGradstats(ctx, opts, c.App.Writer, c.App.ErrWriter)
		},
	}
}

func runGradstats(ctx context.Context, opts gradstatsOptions, stdout, stderr io.Writer) error {
	if err := checkFormat(opts.Format, reports.GradFormats); err != nil {
		return err
	}
	o, err := attackOptions(opts.Eps, opts.Step)
	if err != nil {
		return err
	}
	for _, c := range []struct {
		flag   string
		v, min int
	}{{"n", opts.Spec.N, 1}, {"batch", opts.Spec.Batch, 1}, {"steps", opts.Spec.Steps, 1}} {
		if err := checkAtLeast(c.flag, c.v, c.min); err != nil {
			return err
		}
	}
	if err := checkSelect(opts.Spec.Select); err != nil {
		return err
	}
	if err := checkDataPath(opts.Spec.Data); err != nil {
		return err
	}
	opts.Spec.Options = &o
	eo := evaluate.Options{Progress: stderr, Force: opts.Force}
	// Every target is checked before any is computed; two targets whose
	// statistics would share one file are refused.
	written := map[string]string{}
	for _, t := range opts.Targets {
		s := opts.Spec
		s.Target = t
		path, err := evaluate.CheckGradStats(s, eo)
		if err != nil {
			return forceHint(evalHint(err))
		}
		if other, ok := written[path]; ok {
			return usagef("gradstats: %s and %s would both write %s: give them one at a time", other, t, path)
		}
		written[path] = t
	}
	var all []*results.GradStats
	for _, t := range opts.Targets {
		s := opts.Spec
		s.Target = t
		oc, err := evaluate.GradStats(ctx, s, eo)
		if err != nil {
			return forceHint(evalHint(err))
		}
		if oc.Reused {
			fmt.Fprintf(stderr, "gradstats: %s already there (the same analysis)\n", oc.Path)
		} else {
			fmt.Fprintf(stderr, "gradstats: wrote %s\n", oc.Path)
		}
		all = append(all, oc.File)
	}
	rep, err := reports.BuildGrad(reports.GradSources(all))
	if err != nil {
		return err
	}
	if opts.Plot != "" {
		if err := os.MkdirAll(opts.Plot, 0o755); err != nil {
			return err
		}
		figs := study.GradFigures(rep)
		for _, name := range []string{study.FigGradStd, study.FigGradCos} {
			paths, err := plots.Save(figs[name], filepath.Join(opts.Plot, name))
			if err != nil {
				return err
			}
			fmt.Fprintf(stderr, "gradstats: wrote %v\n", paths)
		}
	}
	return reports.RenderGrad(stdout, rep, opts.Format)
}
