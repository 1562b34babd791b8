package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/advbench/advbench/reports"
	"github.com/advbench/advbench/results"
	"github.com/advbench/advbench/study"
	"github.com/urfave/cli/v2"
)

type evalTablesOptions struct {
	Paths  []string
	Paper  bool
	Format string
	Out    string // --format robustbench: the directory of the records
	Force  bool
}

// formatRobustBench writes RobustBench's model_info records, one file per
// model, into --out.
const formatRobustBench = "robustbench"

// evalTablesFormats are the renderings of eval tables: the reports', then
// RobustBench's records.
var evalTablesFormats = append(slices.Clone(reports.Formats), formatRobustBench)

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

--format robustbench --out DIR writes, instead of the tables, one RobustBench
model_info record per result file into DIR/cifar10/Linf/NORM-sSEED-BRANCH.json
(clean_acc, autoattack_acc as percent strings, eps, architecture,
number_forward_passes 1, unreliable when a check of an AutoAttack attack
failed; the paper's name, link, authors and venue), and prints their paths.
Every file must hold the aa suite (advbench eval --attacks aa). Existing
records are replaced only with --force.

Results that cannot share a table (another eps, steps, test data or
test-set size, preset or mode) are refused, naming both files and the field;
so are two results of the same norm, train seed and branch.

Formats: ` + strings.Join(reports.Formats, ", ") + `

Examples:
  advbench eval tables runs/*-advprop-quick-s1
  advbench eval tables --paper --format markdown runs/*/results > tables.md
  advbench eval tables --format latex runs/bn-advprop-paper-s1/results/shared.json runs/saauxbn-advprop-paper-s1
  advbench eval tables --format robustbench --out model_info runs/saauxbn-advprop-paper-s1`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "paper", Usage: "add the published values and the differences", Destination: &opts.Paper},
			formatFlag(&opts.Format, evalTablesFormats),
			&cli.StringFlag{Name: "out", Usage: "directory of the records of --format robustbench", Destination: &opts.Out},
			forceFlag(&opts.Force),
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
	if err := checkFormat(opts.Format, evalTablesFormats); err != nil {
		return err
	}
	if (opts.Format == formatRobustBench) != (opts.Out != "") {
		return usagef("--out %q: give --out DIR with --format robustbench, and only with it", opts.Out)
	}
	srcs, err := study.ReadResults(opts.Paths)
	if err != nil {
		return resultsHint(err)
	}
	if opts.Format == formatRobustBench {
		return writeRobustBench(opts, srcs, stdout)
	}
	r, err := reports.Build(srcs, reports.Options{Paper: opts.Paper})
	if err != nil {
		return err
	}
	return reports.Render(stdout, r, opts.Format)
}

// writeRobustBench writes the records into --out, refusing (before writing
// any) to replace an existing one without --force, and prints their paths.
func writeRobustBench(opts evalTablesOptions, srcs []results.Source, stdout io.Writer) error {
	recs, err := reports.RobustBench(srcs)
	if err != nil {
		var none *reports.NoAutoAttackError
		if errors.As(err, &none) {
			return fmt.Errorf("%w: evaluate with 'advbench eval --attacks aa'", err)
		}
		return err
	}
	dir := filepath.Join(opts.Out, filepath.FromSlash(reports.RobustBenchDir))
	for _, r := range recs {
		if err := refuseOverwrite("out", filepath.Join(dir, r.File), opts.Force); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, r := range recs {
		path := filepath.Join(dir, r.File)
		if err := results.WriteJSON(path, r.Info); err != nil {
			return err
		}
		fmt.Fprintln(stdout, path)
	}
	return nil
}
