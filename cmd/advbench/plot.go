package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/advbench/advbench/study"
	"github.com/urfave/cli/v2"
)

type plotOptions struct {
	Runs []string
	Out  string
}

func newPlotCommand() *cli.Command {
	var opts plotOptions
	return &cli.Command{
		Name:      "plot",
		Usage:     "draw loss and accuracy curves, gradient statistics and accuracy against eps",
		ArgsUsage: "RUN_DIR...",
		Description: `Reads run directories (or directories holding runs, such as a reproduction's
output) and draws, as PNG and SVG into --out, every figure they have data
for; nothing is re-run:

  ` + study.FigLosses + `     test-set L(f_clean(x_clean)) and L(f_adv(x_adv)) per epoch (the paper's Fig. 6), from log.jsonl
  ` + study.FigAccuracy + `   validation SA (clean branch) and PGD RA (adversarial branch) per epoch, from log.jsonl
  ` + study.FigGradStd + `  std of the two gradient norms per stage (supplement Fig. 5), from results/gradstats.json
  ` + study.FigGradCos + `    cosine of the two gradients per stage, from results/gradstats.json
  ` + study.FigSweep + `      robust accuracy against eps, from results/sweep-*.json ('advbench eval --sweep')
  ` + study.FigLandscapeLoss + `, ` + study.FigLandscapeGrad + `, ` + study.FigLandscapeBeta + `
         per training step, the range of L(w - eta g) and of |grad L(w - eta g) - g| as
         bands, and the effective beta-smoothness, on log axes, from landscape.jsonl
         ('advbench train --landscape-every')
  ` + study.FigLandscapeDistance + `  |W - W0| per stage at the last probed step, from landscape.jsonl

Examples:
  advbench plot runs/bn-advprop-quick-s1 runs/saauxbn-advprop-quick-s1 --out figures
  advbench plot repro-quick --out repro-quick/plots`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Value: "plots", Usage: "directory for the figures", Destination: &opts.Out},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usagef("plot: want at least one RUN_DIR")
			}
			opts.Runs = c.Args().Slice()
			return runPlot(opts, c.App.Writer)
		},
	}
}

func runPlot(opts plotOptions, stdout io.Writer) error {
	runs, err := study.LoadRuns(opts.Runs)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return err
	}
	paths, err := study.WritePlots(runs, opts.Out)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, strings.Join(paths, "\n"))
	return err
}
