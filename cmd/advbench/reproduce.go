package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/advbench/advbench/attack"
	"github.com/advbench/advbench/results"
	"github.com/advbench/advbench/study"
	"github.com/advbench/advbench/train"
	"github.com/urfave/cli/v2"
)

type reproduceOptions struct {
	Plan    study.Plan
	norms   string
	seeds   string
	attacks string
	// landscape asks for the landscape study (study.LandscapeNorms, the
	// landscape preset, probes every step interval).
	landscape bool
	// Cell runs one cell only: its index, or "auto" for the batch engine's
	// index (JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID).
	Cell string
}

// planFlags are the flags that describe a plan, shared by reproduce and
// reproduce plan.
func planFlags(opts *reproduceOptions) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "preset", Usage: "training preset: " + strings.Join(train.PresetNames(), ", ") + " (default: smoke, or landscape with --landscape)", Destination: &opts.Plan.Preset},
		&cli.StringFlag{Name: "data", Usage: "CIFAR-10 directory, tarball or batch file (default: the built-in data)", Destination: &opts.Plan.Data},
		&cli.StringFlag{Name: "norms", Usage: "comma-separated norms (default: " + strings.Join(study.DefaultNorms, ",") + "; with --landscape, " + strings.Join(study.LandscapeNorms, ",") + " and any given)", Destination: &opts.norms},
		&cli.StringFlag{Name: "seeds", Value: "1", Usage: "comma-separated train seeds", Destination: &opts.seeds},
		&cli.IntFlag{Name: "eval-n", Usage: "test images evaluated (0: the preset's)", Destination: &opts.Plan.EvalN},
		&cli.IntFlag{Name: "grad-n", Usage: "test images for the gradient statistics (0: the preset's)", Destination: &opts.Plan.GradN},
		&cli.StringFlag{Name: "attacks", Value: strings.Join(study.DefaultAttacks, ","), Usage: "comma-separated attacks or suites each cell is evaluated with (aa: AutoAttack's)", Destination: &opts.attacks},
		&cli.BoolFlag{Name: "landscape", Usage: "the loss-landscape study: norms " + strings.Join(study.LandscapeNorms, ",") + " (and any --norms), the landscape preset unless --preset, every run probing its landscape (landscape.jsonl, report.md's \"Loss landscape\")", Destination: &opts.landscape},
		&cli.IntFlag{Name: "landscape-every", Usage: "probe the loss landscape every `K` training steps (0: the preset's; --landscape on a preset without probes: " + fmt.Sprint(train.DefaultLandscapeEvery) + ")", Destination: &opts.Plan.LandscapeEvery},
	}
}

// plan parses the norms and seeds into the plan.
func (opts reproduceOptions) plan() (study.Plan, error) {
	p := opts.Plan
	p.Norms, p.Seeds = nil, nil
	if p.Preset == "" {
		p.Preset = "smoke"
		if opts.landscape {
			p.Preset = "landscape"
		}
	}
	norms := opts.norms
	if norms == "" && !opts.landscape {
		norms = strings.Join(study.DefaultNorms, ",")
	}
	if opts.landscape {
		p.Norms = slices.Clone(study.LandscapeNorms)
	}
	for _, n := range strings.Split(norms, ",") {
		// A norm given twice is refused (Plan.Validate); one the landscape
		// study has already is not repeated.
		if n = strings.TrimSpace(n); n != "" && !(opts.landscape && slices.Contains(study.LandscapeNorms, n)) {
			if err := checkNorm(n); err != nil {
				return p, err
			}
			p.Norms = append(p.Norms, n)
		}
	}
	if p.LandscapeEvery < 0 {
		return p, usagef("--landscape-every %d: want 0 (the preset's) or a positive number of steps", p.LandscapeEvery)
	}
	if opts.landscape && p.LandscapeEvery == 0 {
		if spec, err := train.LookupPreset(p.Preset); err == nil && spec.Config.LandscapeEvery == 0 {
			p.LandscapeEvery = train.DefaultLandscapeEvery
		}
	}
	for _, s := range strings.Split(opts.seeds, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return p, usagef("--seeds %q: %q is not a seed", opts.seeds, s)
		}
		p.Seeds = append(p.Seeds, v)
	}
	var names []string
	for _, a := range strings.Split(opts.attacks, ",") {
		if a = strings.TrimSpace(a); a != "" {
			names = append(names, a)
		}
	}
	p.Attacks = attack.ExpandSuites(names)
	if slices.Equal(p.Attacks, study.DefaultAttacks) {
		p.Attacks = nil // the default, as plans before --attacks recorded it
	}
	for _, a := range p.Attacks {
		if _, err := attack.New(a, attack.DefaultOptions()); err != nil {
			return p, usagef("--attacks %s: %v", a, err)
		}
	}
	return p, nil
}

// cellEnv are the batch engines' task-index variables --cell auto reads.
var cellEnv = []string{"JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID"}

// cellIndex resolves --cell.
func cellIndex(spec string, n int) (int, error) {
	if spec == "auto" {
		for _, v := range cellEnv {
			if s := os.Getenv(v); s != "" {
				spec = s
				break
			}
		}
		if spec == "auto" {
			return 0, usagef("--cell auto: neither %s is set (run it as a Kubernetes Indexed Job or a Slurm array task, or give the index)", strings.Join(cellEnv, " nor "))
		}
	}
	k, err := strconv.Atoi(spec)
	if err != nil || k < 0 || k >= n {
		return 0, usagef("--cell %q: want an index in 0..%d or auto", spec, n-1)
	}
	return k, nil
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

Test images evaluated / analysed per preset: smoke 256/128, ci 500/128, quick
1000/512, landscape 500/256, paper all/1024 (--eval-n, --grad-n override).

--landscape is the loss-landscape study: norms none (no normalization), bn,
auxbn and saauxbn plus any --norms, trained with the landscape preset (the
quick network at the largest learning rate the none network sustains,
constant after warm-up) unless --preset says otherwise, every run probing the
loss along its steps' gradients (landscape.jsonl); report.md gains the
landscape tables (loss span, gradient change, beta-smoothness, each norm
against none, the gap between the two branches) and plots/ the figures.

On a cluster, each cell runs alone ('--cell K', or '--cell auto' inside a
Kubernetes Indexed Job or a Slurm array), writing only into its own
directory; 'advbench reproduce plan' writes the Job or sbatch script and
'advbench reproduce merge DIR' renders the finished cells.

Examples:
  advbench reproduce --preset smoke
  advbench reproduce --preset quick --data ../shared/cifar10 --seeds 1,2,3
  advbench reproduce --landscape --data ../shared/cifar10
  advbench reproduce --preset paper --data cifar10 --norms bn,saauxbn --out repro-paper`,
		Flags: append(planFlags(&opts),
			&cli.StringFlag{Name: "out", Usage: "output directory (default repro-PRESET)", Destination: &opts.Plan.Out},
			&cli.StringFlag{Name: "cell", Usage: "run only cell `K` (or auto: JOB_COMPLETION_INDEX / SLURM_ARRAY_TASK_ID); 'reproduce merge' renders", Destination: &opts.Cell},
		),
		Subcommands: []*cli.Command{newReproducePlanCommand(), newReproduceMergeCommand()},
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

// keepHint turns what a reproduction refuses to reuse or replace in its
// --out (a cell's result file of another evaluation, a run of another
// configuration, another plan) into a usage error (exit 2) that says what
// to do.
func keepHint(err error) error {
	var other *results.OtherEvaluationError
	var otherRun *study.OtherRunError
	var otherPlan *study.OtherPlanError
	switch {
	case errors.As(err, &other):
		return usagef("%v; a reproduction neither reuses nor replaces it: move it away, or give another --out", err)
	case errors.As(err, &otherRun), errors.As(err, &otherPlan):
		return usagef("%v: choose another --out", err)
	}
	return err
}

func runReproduce(ctx context.Context, opts reproduceOptions, stdout, stderr io.Writer) error {
	p, err := opts.plan()
	if err != nil {
		return err
	}
	if p.Out == "" {
		p.Out = "repro-" + p.Preset
	}
	if p.EvalN < 0 {
		return usagef("--eval-n %d: want 0 (the preset's) or a positive count of test images", p.EvalN)
	}
	if p.GradN < 0 {
		return usagef("--grad-n %d: want 0 (the preset's) or a positive count of test images", p.GradN)
	}
	if err := p.Validate(); err != nil {
		return usageError{err}
	}
	if opts.Cell != "" {
		cells := p.Cells()
		k, err := cellIndex(opts.Cell, len(cells))
		if err != nil {
			return err
		}
		if err := p.Record(); err != nil {
			return keepHint(err)
		}
		c := cells[k]
		fmt.Fprintf(stderr, "reproduce: cell %d of %d (%s, seed %d) into %s\n", k, len(cells), c.Norm, c.Seed, c.Dir)
		if err := p.RunCell(ctx, c, study.Options{Progress: stderr}); err != nil {
			return keepHint(err)
		}
		_, err = fmt.Fprintf(stdout, "cell %d (%s, seed %d) done: %s\n", k, c.Norm, c.Seed, c.Dir)
		return err
	}
	fmt.Fprintf(stderr, "reproduce: preset %s, %d cells (%s x seeds %s) into %s\n", p.Preset, len(p.Cells()), strings.Join(p.Norms, ","), opts.seeds, p.Out)
	out, err := study.Reproduce(ctx, p, study.Options{Progress: stderr})
	if err != nil {
		return keepHint(err)
	}
	fmt.Fprint(stdout, out.Tables)
	fmt.Fprintf(stdout, "\nreport: %s\nplots: %s\n", out.Report, filepath.Join(p.Out, "plots"))
	fmt.Fprintf(stderr, "reproduce: done in %s\n", out.Duration.Round(1e9))
	return nil
}
