package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/advbench/advbench/study"
	"github.com/advbench/advbench/train"
	"github.com/urfave/cli/v2"
)

type reproduceOptions struct {
	Plan  study.Plan
	norms string
	seeds string
}

func newReproduceCommand() *cli.Command {
	var opts reproduceOptions
	return &cli.Command{
		Name:  "reproduce",
		Usage: "the whole experiment in one command: train, evaluate, analyse, tables, plots, report",
		Description: `For every (norm, seed) cell: train with the preset (AdvProp), evaluate both
branches (SA, PGD-10 and PGD-20 RA, evaluation mode, white-box), compute the
gradient statistics; then print Tables 3 and 4 (with the paper's numbers)
and the gradient table, and write into --out: one run directory per cell,
tables.txt/.json/.csv/.tex, plots/ (PNG and SVG) and report.md with the
tables, the figures, the exact commands and each cell's configuration.

Resumable: a finished cell is not redone, an interrupted one (exit 130, or
killed) continues where it stopped when the same command runs again.

Test images evaluated / analysed per preset: smoke 256/128, quick 1000/512,
paper all/1024 (--eval-n, --grad-n override).

Examples:
  advbench reproduce --preset smoke
  advbench reproduce --preset quick --data ../shared/cifar10 --seeds 1,2,3
  advbench reproduce --preset paper --data cifar10 --norms bn,saauxbn --out repro-paper`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "preset", Value: "smoke", Usage: "training preset: " + strings.Join(train.PresetNames(), ", "), Destination: &opts.Plan.Preset},
			&cli.StringFlag{Name: "data", Usage: "CIFAR-10 directory or file (default: the built-in data)", Destination: &opts.Plan.Data},
			&cli.StringFlag{Name: "norms", Value: strings.Join(study.DefaultNorms, ","), Usage: "comma-separated norms", Destination: &opts.norms},
			&cli.StringFlag{Name: "seeds", Value: "1", Usage: "comma-separated train seeds", Destination: &opts.seeds},
			&cli.StringFlag{Name: "out", Usage: "output directory (default repro-PRESET)", Destination: &opts.Plan.Out},
			&cli.IntFlag{Name: "eval-n", Usage: "test images evaluated (0: the preset's)", Destination: &opts.Plan.EvalN},
			&cli.IntFlag{Name: "grad-n", Usage: "test images for the gradient statistics (0: the preset's)", Destination: &opts.Plan.GradN},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("reproduce: unexpected argument %q", c.Args().First())
			}
			ctx, stop := signalContext(c.App.ErrWriter)
			defer stop()
			return runReproduce(ctx, opts, c.App.Writer, c.App.ErrWriter)
		},
	}
}

func runReproduce(ctx context.Context, opts reproduceOptions, stdout, stderr io.Writer) error {
	p := opts.Plan
	for _, n := range strings.Split(opts.norms, ",") {
		if n = strings.TrimSpace(n); n != "" {
			if err := checkNorm(n); err != nil {
				return err
			}
			p.Norms = append(p.Norms, n)
		}
	}
	for _, s := range strings.Split(opts.seeds, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return usagef("--seeds %q: %q is not a seed", opts.seeds, s)
		}
		p.Seeds = append(p.Seeds, v)
	}
	if p.Out == "" {
		p.Out = "repro-" + p.Preset
	}
	if err := p.Validate(); err != nil {
		return usageError{err}
	}
	fmt.Fprintf(stderr, "reproduce: preset %s, %d cells (%s x seeds %s) into %s\n", p.Preset, len(p.Cells()), strings.Join(p.Norms, ","), opts.seeds, p.Out)
	out, err := study.Reproduce(ctx, p, study.Options{Progress: stderr})
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, out.Tables)
	fmt.Fprintf(stdout, "\nreport: %s\nplots: %s\n", out.Report, filepath.Join(p.Out, "plots"))
	fmt.Fprintf(stderr, "reproduce: done in %s\n", out.Duration.Round(1e9))
	return nil
}
