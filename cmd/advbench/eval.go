package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/advbench/advbench/attack"
	"github.com/advbench/advbench/evaluate"
	"github.com/advbench/advbench/internal/texttable"
	"github.com/advbench/advbench/interop"
	"github.com/advbench/advbench/models/resnet"
	"github.com/advbench/advbench/nn"
	"github.com/advbench/advbench/results"
	"github.com/urfave/cli/v2"
)

type evalOptions struct {
	Spec    evaluate.Spec
	Foreign string // --checkpoint: a PyTorch or plain safetensors file
	Eps     string
	Step    string
	Format  string
	// Sweep: robust accuracy against eps instead of the attacks.
	Sweep      bool
	SweepEps   string
	SweepSteps int
	// Force recomputes and replaces result files that exist.
	Force bool
	// Loss is the PGD family's loss (ce, cw or dlr); Restarts every
	// attack's number of restarts.
	Loss     string
	Restarts int
	// Precision is --attack-precision.
	Precision string
	// Profile is --cpuprofile: a pprof CPU profile of the whole evaluation.
	Profile string
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

The test data is the run's own (--data overrides). A checkpoint outside a
run, or a --checkpoint FILE, needs --data (--data builtin for the built-in
data). Images the run trained or validated on are never scored: a test set
that holds any (by the images' fingerprints) is refused, e.g. the run's own
single-file --data. The evaluation saves its state after every batch:
a killed or interrupted one (exit 130) continues where it stopped when the
same command is run again, and gives the identical result. A finished result
of the same evaluation (the same checkpoint contents, branch, test images,
mode, seed, batch size and attacks with every setting) is reused; a result
file of another evaluation is refused, naming the first setting that
differs, unless --force, which recomputes and replaces it.

Attacks: ` + strings.Join(attack.Names(), ", ") + `
Suites: ` + strings.Join(attack.SuiteNames(), ", ") + ` (aa: AutoAttack's apgd-ce, apgd-t, fab-t, square)

The AutoAttack attacks (apgd-*, fab-t, square) follow AutoAttack's
protocol: each runs only on the points still robust (clean-correct and not
fooled by an earlier one of them), and its RA is cumulative: the RA after
it. pgd-10 and pgd-20 are each scored on all the clean-correct examples, as
in the paper's tables: they attack those only (a misclassified example is
not robust whatever the attack does), each restart only the ones no earlier
restart fooled, with the random starts of the whole batch, so the flags are
those of attacking everything (--unpruned does, for timing).
--loss sets the loss of fgsm and pgd (the AutoAttack attacks name theirs).
--attack-precision bf16 runs the attacks' forward passes and input
gradients with bf16 operands and float32 sums (AVX512_BF16; refused on a
CPU without it); clean and final classifications stay float32, and every
attack's parameters record the precision, so a bf16 result is never reused
as, or tabulated with, a float32 one.

--sweep measures robust accuracy against eps instead (PGD of --sweep-steps
steps at each of --sweep-eps, in /255, with the step --step/--eps of eps)
into results/sweep-BRANCH.json, for 'advbench plot'. A curve that rises, or
stays above chance at 16/255, is reported as a sign of gradient masking.
The grid must increase (each eps once; 0 is the standard accuracy) and
--eps and --step be positive; a sweep of the same evaluation is reused and
one of another grid, steps or step refused, as above.

Examples:
  advbench eval runs/saauxbn-advprop-quick-s1
  advbench eval runs/bn-advprop-smoke-s1 --attacks pgd-20 --test-n 500
  advbench eval runs/x/checkpoints/best.safetensors --branch adv --out adv-best.json
  advbench eval runs/saauxbn-advprop-quick-s1 --sweep --test-n 500
  advbench eval runs/saauxbn-advprop-quick-s1 --attack-precision bf16 --out results-bf16
  advbench eval --checkpoint model.pt --norm saauxbn --width 1 --data cifar10
  advbench eval tables runs/*/results`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "branch", Value: "both", Usage: "clean, adv or both", Destination: &opts.Spec.Branch},
			&cli.StringFlag{Name: "attacks", Value: "pgd-10,pgd-20", Usage: "comma-separated attacks", Destination: &attacks},
			&cli.StringFlag{Name: "eps", Value: "8/255", Usage: "L-inf radius, a number or n/255", Destination: &opts.Eps},
			&cli.StringFlag{Name: "step", Value: "2/255", Usage: "PGD step, a number or n/255", Destination: &opts.Step},
			&cli.StringFlag{Name: "loss", Value: "ce", Usage: "loss of fgsm and pgd: ce, cw or dlr", Destination: &opts.Loss},
			&cli.IntFlag{Name: "restarts", Value: 1, Usage: "random restarts of every attack", Destination: &opts.Restarts},
			&cli.IntFlag{Name: "test-n", Usage: "evaluate the first n test images (0 = all)", Destination: &opts.Spec.TestN},
			&cli.Uint64Flag{Name: "seed", Usage: "seed of the attacks' random starts", Destination: &opts.Spec.Seed},
			&cli.IntFlag{Name: "batch", Value: 128, Usage: "evaluation batch size", Destination: &opts.Spec.Batch},
			&cli.StringFlag{Name: "data", Usage: "test data: builtin or a CIFAR-10 path (default: the run's)", Destination: &opts.Spec.Data},
			&cli.StringFlag{Name: "select", Value: "last", Usage: "a run's checkpoint: last, best, reference (epoch-190, what the reference's test scripts score) or epoch-NNN", Destination: &opts.Spec.Select},
			&cli.StringFlag{Name: "out", Usage: "result directory, or a .json file for one branch (default RUN_DIR/results)", Destination: &opts.Spec.Out},
			&cli.StringFlag{Name: "checkpoint", Usage: "evaluate a PyTorch or safetensors state dict `FILE` (with --norm and --width) instead of RUN_DIR|CHECKPOINT", Destination: &opts.Foreign},
			&cli.StringFlag{Name: "norm", Usage: "--checkpoint: the model's norm", Destination: &opts.Spec.Norm},
			&cli.Float64Flag{Name: "width", Value: 1, Usage: "--checkpoint: the model's width multiplier", Destination: &opts.Spec.Width},
			&cli.StringFlag{Name: "input-normalization", Usage: "--checkpoint: how the model standardises its [0,1] inputs, for a file without normal.mean/normal.std: imagenet, none, MEAN,STD or M1,M2,M3,S1,S2,S3", Destination: &opts.Spec.InputNorm},
			&cli.BoolFlag{Name: "unpruned", Usage: "attack every example with every attack and restart instead of only the clean-correct ones still robust: the same flags, slower (timing; checking the protocol); a finished result is reused, so give another --out", Destination: &opts.Spec.Unpruned},
			attackPrecisionFlag(&opts.Precision),
			&cli.BoolFlag{Name: "sweep", Usage: "robust accuracy against eps instead of the attacks", Destination: &opts.Sweep},
			&cli.StringFlag{Name: "sweep-eps", Value: "0,2,4,8,16", Usage: "--sweep: eps values in /255", Destination: &opts.SweepEps},
			&cli.IntFlag{Name: "sweep-steps", Value: 10, Usage: "--sweep: PGD steps", Destination: &opts.SweepSteps},
			&cli.StringFlag{Name: "cpuprofile", Usage: "write a pprof CPU profile of the evaluation to `FILE` (go tool pprof FILE): where an AutoAttack run spends its time", Destination: &opts.Profile},
			forceFlag(&opts.Force),
			formatFlag(&opts.Format, tableJSON),
		},
		Subcommands: []*cli.Command{newEvalTablesCommand()},
		Action: func(c *cli.Context) error {
			switch {
			case opts.Foreign != "" && c.NArg() == 0:
				if opts.Spec.Norm == "" {
					return usagef("eval: --checkpoint needs --norm (and --width unless 1)")
				}
				opts.Spec.Target = opts.Foreign
			case opts.Foreign == "" && c.NArg() == 1:
				if opts.Spec.Norm != "" {
					return usagef("eval: --norm and --width describe a --checkpoint FILE; an advbench checkpoint says them itself")
				}
				opts.Spec.Target = c.Args().First()
			default:
				return usagef("eval: want one RUN_DIR or CHECKPOINT, or --checkpoint FILE --norm NAME --width W")
			}
			var names []string
			for _, a := range strings.Split(attacks, ",") {
				if a = strings.TrimSpace(a); a != "" {
					names = append(names, a)
				}
			}
			opts.Spec.Attacks = attack.ExpandSuites(names)
			ctx, stop := signalContext(c.App.ErrWriter)
			defer stop()
			return runEval(ctx, opts, c.App.Writer, c.App.ErrWriter)
		},
	}
}

// evalHint turns evaluate's refusals of what the flags asked for (the test
// data, the input normalisation, a one-file --out for several branches)
// into usage errors (exit 2) that name the flag; other errors pass
// unchanged.
func evalHint(err error) error {
	var seen *evaluate.SeenImagesError
	var outFile *evaluate.OutFileError
	switch {
	case errors.As(err, &outFile):
		return usagef("--out %s names one file, but %d branches are evaluated: give a directory or one --branch", outFile.Out, outFile.Branches)
	case errors.Is(err, evaluate.ErrNoTestData):
		return usagef("%v: give --data DIR|FILE, or --data builtin", err)
	case errors.As(err, &seen):
		return usagef("%v: give --data with test images", err)
	case errors.Is(err, interop.ErrInputNormUnknown):
		return usagef("%v: give --input-normalization", err)
	}
	return err
}

func runEval(ctx context.Context, opts evalOptions, stdout, stderr io.Writer) error {
	if err := checkFormat(opts.Format, tableJSON); err != nil {
		return err
	}
	o, err := attackOptions(opts.Eps, opts.Step)
	if err != nil {
		return err
	}
	if opts.Loss != "" {
		if o.Loss, err = nn.ParseLoss(opts.Loss); err != nil || o.Loss.Targeted() {
			return usagef("--loss %q: want ce, cw or dlr", opts.Loss)
		}
	}
	if opts.Restarts != 0 {
		if err := checkAtLeast("restarts", opts.Restarts, 1); err != nil {
			return err
		}
		o.Restarts = opts.Restarts
	}
	for _, a := range opts.Spec.Attacks {
		if _, err := attack.New(a, o); err != nil {
			return usagef("--attacks %s: %v", a, err)
		}
	}
	stopProfile, err := startCPUProfile("eval", opts.Profile)
	if err != nil {
		return err
	}
	defer stopProfile()
	switch opts.Spec.Branch {
	case "", "clean", "adv", "both":
	default:
		return usagef("--branch %q: want clean, adv or both", opts.Spec.Branch)
	}
	if err := checkAtLeast("test-n", opts.Spec.TestN, 0); err != nil {
		return err
	}
	if err := checkAtLeast("batch", opts.Spec.Batch, 1); err != nil {
		return err
	}
	if opts.Foreign != "" && !(opts.Spec.Width > 0 && opts.Spec.Width <= resnet.MaxWidth) {
		return usagef("--width %v: want a width in (0, %v] (the paper's network is width 1)", opts.Spec.Width, resnet.MaxWidth)
	}
	if err := checkSelect(opts.Spec.Select); err != nil {
		return err
	}
	if err := checkDataPath(opts.Spec.Data); err != nil {
		return err
	}
	opts.Spec.Options = &o
	if opts.Spec.AttackPrecision, err = parseAttackPrecision(opts.Precision); err != nil {
		return err
	}
	if opts.Sweep && opts.Spec.AttackPrecision != nn.FP32 {
		return usagef("--attack-precision %s: --sweep runs in fp32 only", opts.Spec.AttackPrecision)
	}
	if opts.Sweep {
		ss, err := sweepSpec(opts)
		if err != nil {
			return err
		}
		return runSweep(ctx, ss, opts, stdout, stderr)
	}
	outs, err := evaluate.Run(ctx, opts.Spec, evaluate.Options{Progress: stderr, Force: opts.Force})
	for _, oc := range outs {
		for _, w := range oc.File.Warnings {
			fmt.Fprintf(stderr, "eval: %s: warning: %s\n", oc.Path, w)
		}
	}
	if err != nil {
		return forceHint(evalHint(err))
	}
	for _, oc := range outs {
		if line := cumulativeRA(oc.File); line != "" {
			fmt.Fprintf(stderr, "eval: %s: %s\n", oc.Path, line)
		}
	}
	if opts.Format == formatJSON {
		files := make([]any, len(outs))
		for i, oc := range outs {
			files[i] = oc.File
		}
		return printJSON(stdout, files)
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
	epoch := "epochs trained unknown"
	if f.Checkpoint.Epoch >= 0 {
		epoch = fmt.Sprintf("checkpoint after %d epochs", f.Checkpoint.Epoch)
	}
	fmt.Fprintf(stdout, "%s, width %g, %s; %s, eps %s; eval mode, white-box on each branch\n",
		f.Model.Norm, f.Model.Width, epoch, f.Data.Source, f.Attacks[0].Eps255)
	return nil
}

// cumulativeRA describes the pruned attacks of a result (AutoAttack's
// protocol) as the robust accuracy after each, from SA on; "" if none.
func cumulativeRA(f *results.File) string {
	line := ""
	for _, a := range f.Attacks {
		if a.Pruned {
			line += fmt.Sprintf(" -> %s %.2f%%", a.Name, 100*a.RA)
		}
	}
	if line == "" {
		return ""
	}
	return fmt.Sprintf("cumulative RA: SA %.2f%%%s", 100*f.SA, line)
}

// sweepSpec reads --sweep-eps and refuses, naming the flag and its value,
// a sweep that attack.CheckSweep refuses, before anything is loaded.
func sweepSpec(opts evalOptions) (evaluate.SweepSpec, error) {
	ss := evaluate.SweepSpec{Spec: opts.Spec, Steps: opts.SweepSteps}
	for _, f := range strings.Split(opts.SweepEps, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := attack.ParseEps(f + "/255")
		if err != nil {
			return ss, usagef("--sweep-eps %q: %v", opts.SweepEps, err)
		}
		ss.Eps = append(ss.Eps, v)
	}
	err := attack.CheckSweep(ss.Steps, *opts.Spec.Options, ss.Eps)
	var bad *attack.SweepError
	if errors.As(err, &bad) {
		switch bad.Field {
		case "steps":
			return ss, usagef("--sweep-steps %d: %v", opts.SweepSteps, err)
		case "eps":
			return ss, usagef("--eps %q: %v", opts.Eps, err)
		case "step":
			return ss, usagef("--step %q: %v", opts.Step, err)
		default:
			return ss, usagef("--sweep-eps %q: %v", opts.SweepEps, err)
		}
	}
	return ss, err
}

func runSweep(ctx context.Context, ss evaluate.SweepSpec, opts evalOptions, stdout, stderr io.Writer) error {
	outs, err := evaluate.Sweep(ctx, ss, evaluate.Options{Progress: stderr, Force: opts.Force})
	for _, oc := range outs {
		for _, w := range oc.File.Warnings {
			fmt.Fprintf(stderr, "eval: %s: warning: %s\n", oc.Path, w)
		}
	}
	if err != nil {
		return forceHint(evalHint(err))
	}
	var sweeps []*results.Sweep
	for _, oc := range outs {
		sweeps = append(sweeps, oc.File)
	}
	if opts.Format == formatJSON {
		return printJSON(stdout, sweeps)
	}
	t := texttable.New(stdout)
	header := []any{"branch"}
	for _, p := range sweeps[0].Points {
		header = append(header, "eps "+p.Eps255)
	}
	t.Header(append(header, "result")...)
	for _, oc := range outs {
		row := []any{oc.File.Branch}
		for _, p := range oc.File.Points {
			row = append(row, fmt.Sprintf("%.2f%%", 100*p.Accuracy))
		}
		file := oc.Path
		if oc.Reused {
			file += " (already there)"
		}
		t.Append(append(row, file)...)
	}
	if err := t.Render(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s robust accuracy, %d examples, step %.2f x eps; chance %.2f\n", sweeps[0].Attack, sweeps[0].Examples, sweeps[0].StepRatio, sweeps[0].Chance)
	return err
}
