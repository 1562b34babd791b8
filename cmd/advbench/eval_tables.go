package main

import (
	"io"
	"strings"

	"github.com/advbench/advbench/reports"
	"github.com/advbench/advbench/study"
	"github.com/urfave/cli/v2"
)

type evalTablesOptions struct {
	Paths  []string
	Paper  bool
	Format string
}

func newEvalTablesCommand() *cli.Command {
	var opts evalTablesOptions
	return &cli.Command{
		Name:      "tables",
		Usage:     "render Tables 3 and 4 of the paper from result files",
		ArgsUsage: "RESULTS...",
		Description: `Reads result files of 'advbench eval' (files, results directories, run
directories, whose results/ is read, or a reproduction's output) and renders the paper's tables: Table 3,
the standard accuracy of the clean branch (BN, ModeNorm, AuxBN, SaAuxBN, then
any other norm), and Table 4, standard and robust accuracy of the adversarial
branch (rows Clean (SA), one per attack, AutoAttack (RA) where the files ran
the aa suite, "—" elsewhere, and the worst case over all attacks, per
example). A single-branch norm fills both
from its one network. Nothing is re-run: the tables are the files' numbers.

Several train seeds of one norm give mean ± std; files of one norm that differ
in anything but the train seed (objective, width, epochs, training attack,
training data, checkpoint) are refused. Every cell carries a 95% interval
(Wilson for one run, Student's t over seeds) and, against SaAuxBN, a star
where McNemar's exact test on the same examples, one test per seed-matched
pair of runs combined over the pairs, gives a Holm-adjusted p < 0.05 over all
the report's tests.
--paper adds the published values and the differences.

Results that cannot share a table (another eps, steps, test data or
test-set size, preset or mode) are refused, naming both files and the field;
so are two results of the same norm, train seed and branch.

Formats: ` + strings.Join(reports.Formats, ", ") + `

Examples:
  advbench eval tables runs/*-advprop-quick-s1
  advbench eval tables --paper --format markdown runs/*/results > tables.md
  advbench eval tables --format latex runs/bn-advprop-paper-s1/results/shared.json runs/saauxbn-advprop-paper-s1`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "paper", Usage: "add the published values and the differences", Destination: &opts.Paper},
			formatFlag(&opts.Format, reports.Formats),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usagef("eval tables: want result files or directories")
			}
			opts.Paths = c.Args().Slice()
			return runEvalTables(opts, c.App.Writer)
		},
	}
}

func runEvalTables(opts evalTablesOptions, stdout io.Writer) error {
	if err := checkFormat(opts.Format, reports.Formats); err != nil {
		return err
	}
	srcs, err := study.ReadResults(opts.Paths)
	if err != nil {
		return resultsHint(err)
	}
	r, err := reports.Build(srcs, reports.Options{Paper: opts.Paper})
	if err != nil {
		return err
	}
	return reports.Render(stdout, r, opts.Format)
}
