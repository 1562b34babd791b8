package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/advbench/advbench/attack"
	"github.com/advbench/advbench/evaluate"
	"github.com/advbench/advbench/internal/texttable"
	"github.com/urfave/cli/v2"
)

type evalOptions struct {
	Spec   evaluate.Spec
	Eps    string
	Step   string
	Format string
}

func newEvalCommand() *cli.Command {
	var opts evalOptions
	var attacks string
	return &cli.Command{
		Name:      "eval",
		Usage:     "measure SA and RA of a trained model into result files; 'eval tables' renders them",
		ArgsUsage: "RUN_DIR|CHECKPOINT",
		Description: `Evaluates a run's checkpoint (or an advbench checkpoint file) on the test
set in evaluation mode: standard accuracy, and robust accuracy under each
attack, white-box on the evaluated branch (the attack uses the branch being
scored), with per-example flags and sanity checks. Each branch gets a result
file (RUN_DIR/results/clean.json and adv.json; shared.json for a
single-branch norm such as bn), the data that 'advbench eval tables' renders.

The test data is the run's own (--data overrides; the built-in data for a
checkpoint outside a run). The evaluation saves its state after every batch:
a killed or interrupted one (exit 130) continues where it stopped when the
same command is run again, and gives the identical result. A finished result
of the same evaluation is reused, one of another is never overwritten.

Attacks: ` + strings.Join(attack.Names(), ", ") + `

Examples:
  advbench eval runs/saauxbn-advprop-quick-s1
  advbench eval runs/bn-advprop-smoke-s1 --attacks pgd-20 --test-n 500
  advbench eval runs/x/checkpoints/best.safetensors --branch adv --out adv-best.json
  advbench eval tables runs/*/results`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "branch", Value: "both", Usage: "clean, adv or both", Destination: &opts.Spec.Branch},
			&cli.StringFlag{Name: "attacks", Value: "pgd-10,pgd-20", Usage: "comma-separated attacks", Destination: &attacks},
			&cli.StringFlag{Name: "eps", Value: "8/255", Usage: "L-inf radius, a number or n/255", Destination: &opts.Eps},
			&cli.StringFlag{Name: "step", Value: "2/255", Usage: "PGD step, a number or n/255", Destination: &opts.Step},
			&cli.IntFlag{Name: "test-n", Usage: "evaluate the first n test images (0 = all)", Destination: &opts.Spec.TestN},
			&cli.Uint64Flag{Name: "seed", Usage: "seed of the attacks' random starts", Destination: &opts.Spec.Seed},
			&cli.IntFlag{Name: "batch", Value: 128, Usage: "evaluation batch size", Destination: &opts.Spec.Batch},
			&cli.StringFlag{Name: "data", Usage: "test data: builtin or a CIFAR-10 path (default: the run's)", Destination: &opts.Spec.Data},
			&cli.StringFlag{Name: "select", Value: "last", Usage: "a run's checkpoint: last, best or epoch-NNN", Destination: &opts.Spec.Select},
			&cli.StringFlag{Name: "out", Usage: "result directory, or a .json file for one branch (default RUN_DIR/results)", Destination: &opts.Spec.Out},
			formatFlag(&opts.Format),
		},
		Subcommands: []*cli.Command{newEvalTablesCommand()},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("eval: want one RUN_DIR or CHECKPOINT, got %d arguments", c.NArg())
			}
			opts.Spec.Target = c.Args().First()
			for _, a := range strings.Split(attacks, ",") {
				if a = strings.TrimSpace(a); a != "" {
					opts.Spec.Attacks = append(opts.Spec.Attacks, a)
				}
			}
			ctx, stop := signalContext(c.App.ErrWriter)
			defer stop()
			return runEval(ctx, opts, c.App.Writer, c.App.ErrWriter)
		},
	}
}

func runEval(ctx context.Context, opts evalOptions, stdout, stderr io.Writer) error {
	if err := checkFormat(opts.Format); err != nil {
		return err
	}
	o := attack.DefaultOptions()
	var err error
	if o.Eps, err = attack.ParseEps(opts.Eps); err != nil {
		return usagef("--eps: %v", err)
	}
	if o.Step, err = attack.ParseEps(opts.Step); err != nil {
		return usagef("--step: %v", err)
	}
	for _, a := range opts.Spec.Attacks {
		if _, err := attack.New(a, o); err != nil {
			return usageError{err}
		}
	}
	opts.Spec.Options = &o
	outs, err := evaluate.Run(ctx, opts.Spec, evaluate.Options{Progress: stderr})
	for _, oc := range outs {
		for _, w := range oc.File.Warnings {
			fmt.Fprintf(stderr, "eval: %s: warning: %s\n", oc.Path, w)
		}
	}
	if err != nil {
		return err
	}
	if opts.Format == "json" {
		files := make([]any, len(outs))
		for i, oc := range outs {
			files[i] = oc.File
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(files)
	}
	t := texttable.New(stdout)
	header := []any{"branch", "examples", "SA"}
	for _, a := range outs[0].File.Attacks {
		header = append(header, a.Name+" RA")
	}
	header = append(header, "worst case", "result")
	t.Header(header...)
	pct := func(v float64) string { return fmt.Sprintf("%.2f%%", 100*v) }
	for _, oc := range outs {
		f := oc.File
		row := []any{f.Branch, fmt.Sprint(f.Examples), pct(f.SA)}
		for _, a := range f.Attacks {
			row = append(row, pct(a.RA))
		}
		file := oc.Path
		if oc.Reused {
			file += " (already there)"
		}
		row = append(row, pct(f.WorstCaseRA), file)
		t.Append(row...)
	}
	if err := t.Render(); err != nil {
		return err
	}
	f := outs[0].File
	fmt.Fprintf(stdout, "%s, width %g, checkpoint epoch %d; %s, eps %s; eval mode, white-box on each branch\n",
		f.Model.Norm, f.Model.Width, f.Checkpoint.Epoch, f.Data.Source, f.Attacks[0].Eps255)
	return nil
}
