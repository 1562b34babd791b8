package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/advbench/advbench/attack"
	"github.com/advbench/advbench/internal/texttable"
	"github.com/advbench/advbench/norms"
	"github.com/advbench/advbench/rundir"
	"github.com/advbench/advbench/train"
	"github.com/urfave/cli/v2"
)

// trainOptions are the command's own options; the run's configuration is
// the preset with the configuration flags that were given applied.
type trainOptions struct {
	Preset string
	Out    string
	Resume string
	Format string
	// Overrides applies the configuration flags given on the command line,
	// in order, and names them.
	Overrides []override
}

// override is one configuration flag given on the command line.
type override struct {
	Flag  string
	Value string
	apply func(c *train.Config, v string) error
}

// configFlag describes a flag that sets one field of train.Config.
type configFlag struct {
	name, usage string
	isBool      bool
	// show prints the field of a config as the flag would be spelled.
	show  func(c train.Config) string
	apply func(c *train.Config, v string) error
}

// field builds the configFlag of one Config field of type T: parse reads
// the flag's text (want says what it takes, for errors), show spells the
// field back.
func field[T any](name, usage, want string, get func(c *train.Config) *T, parse func(string) (T, error), show func(T) string) configFlag {
	_, isBool := any(*new(T)).(bool)
	return configFlag{name: name, usage: usage, isBool: isBool,
		show: func(c train.Config) string { return show(*get(&c)) },
		apply: func(c *train.Config, v string) error {
			x, err := parse(v)
			if err != nil {
				return usagef("--%s %q: want %s", name, v, want)
			}
			*get(c) = x
			return nil
		}}
}

func intField(name, usage string, get func(c *train.Config) *int) configFlag {
	return field(name, usage, "a whole number", get, strconv.Atoi, strconv.Itoa)
}

func uintField(name, usage string, get func(c *train.Config) *uint64) configFlag {
	return field(name, usage, "a non-negative whole number", get,
		func(v string) (uint64, error) { return strconv.ParseUint(v, 10, 64) },
		func(x uint64) string { return strconv.FormatUint(x, 10) })
}

func floatField(name, usage string, get func(c *train.Config) *float64) configFlag {
	return field(name, usage, "a number", get,
		func(v string) (float64, error) { return strconv.ParseFloat(v, 64) },
		func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) })
}

// epsField reads a number or a fraction such as 8/255.
func epsField(name, usage string, get func(c *train.Config) *float64) configFlag {
	return field(name, usage, "a number in [0, 1] or n/255", get, attack.ParseEps, attack.Eps255)
}

func stringField(name, usage string, get func(c *train.Config) *string) configFlag {
	return field(name, usage, "a string", get, func(v string) (string, error) { return v, nil }, func(x string) string { return x })
}

func boolField(name, usage string, get func(c *train.Config) *bool) configFlag {
	return field(name, usage, "true or false", get, strconv.ParseBool, strconv.FormatBool)
}

// trainConfigFlags are the flags that override fields of the preset.
var trainConfigFlags = []configFlag{
	stringField("norm", "normalization layer in every slot: "+strings.Join(norms.Names(), ", "), func(c *train.Config) *string { return &c.Norm }),
	floatField("width", "width multiplier (1 = 64/128/256/512 channels)", func(c *train.Config) *float64 { return &c.Width }),
	stringField("objective", "advprop, madry or clean", func(c *train.Config) *string { return &c.Objective }),
	uintField("seed", "seed of the weights, shuffling, augmentation and attack starts", func(c *train.Config) *uint64 { return &c.Seed }),
	stringField("data", "CIFAR-10 directory, tarball or batch file (see 'advbench data --help'); empty or builtin for the built-in data", func(c *train.Config) *string { return &c.Data }),
	floatField("val-fraction", "fraction of the training set held out for validation (0.1 = 45k/5k)", func(c *train.Config) *float64 { return &c.ValFraction }),
	uintField("split-seed", "seed of the train/validation split", func(c *train.Config) *uint64 { return &c.SplitSeed }),
	intField("train-n", "training images (first n of the training part; 0 = all)", func(c *train.Config) *int { return &c.TrainN }),
	intField("val-n", "validation images evaluated each epoch (0 = all)", func(c *train.Config) *int { return &c.ValN }),
	intField("test-n", "test images for the per-epoch test losses (0 = all)", func(c *train.Config) *int { return &c.TestN }),
	boolField("augment", "random crop (padding 4) and horizontal flip", func(c *train.Config) *bool { return &c.Augment }),
	intField("epochs", "epochs", func(c *train.Config) *int { return &c.Epochs }),
	intField("batch", "batch size", func(c *train.Config) *int { return &c.Batch }),
	stringField("last-batch", "an epoch's final partial batch: keep (the reference loader) or drop", func(c *train.Config) *string { return &c.LastBatch }),
	floatField("lr", "learning rate", func(c *train.Config) *float64 { return &c.LR }),
	floatField("momentum", "SGD momentum", func(c *train.Config) *float64 { return &c.Momentum }),
	floatField("weight-decay", "weight decay on every parameter", func(c *train.Config) *float64 { return &c.WeightDecay }),
	{name: "milestones", usage: "epochs at which the learning rate is multiplied by --lr-decay, e.g. 50,150 (empty: none)",
		show: func(c train.Config) string { return joinInts(c.Milestones) },
		apply: func(c *train.Config, v string) error {
			ms, err := parseInts(v)
			if err != nil {
				return usagef("--milestones %q: %v", v, err)
			}
			c.Milestones = ms
			return nil
		}},
	floatField("lr-decay", "learning-rate factor at each milestone", func(c *train.Config) *float64 { return &c.LRDecay }),
	intField("warmup-iters", "epoch-0 warm-up length in iterations (0 = none)", func(c *train.Config) *int { return &c.WarmupIters }),
	intField("train-steps", "PGD steps of the training attack (the paper 10, the reference scripts 7)", func(c *train.Config) *int { return &c.TrainSteps }),
	epsField("eps", "L-inf radius of the attacks, a number or n/255", func(c *train.Config) *float64 { return &c.Eps }),
	epsField("step", "PGD step size, a number or n/255", func(c *train.Config) *float64 { return &c.Step }),
	stringField("attack-mode", "statistics of the training attack: train (reference code) or eval", func(c *train.Config) *string { return &c.AttackMode }),
	stringField("attack-precision", "precision of the training and validation attacks' steps: fp32 (\"\" = fp32) or bf16 (needs AVX512_BF16); training passes and final classifications stay fp32", func(c *train.Config) *string { return &c.AttackPrecision }),
	intField("eval-steps", "PGD steps of the per-epoch validation", func(c *train.Config) *int { return &c.EvalSteps }),
	intField("save-every", "write checkpoints/epoch-NNN every this many epochs (0 = never)", func(c *train.Config) *int { return &c.SaveEvery }),
	intField("save-steps", "also write checkpoints/last every this many steps within an epoch (0 = at epoch ends only)", func(c *train.Config) *int { return &c.SaveSteps }),
	intField("landscape-every", "probe the loss landscape along the step's gradient every this many steps into landscape.jsonl (0 = never; "+strconv.Itoa(train.DefaultLandscapeEvery)+" adds under 25% to a quick AdvProp run; see 'advbench landscape --help')", func(c *train.Config) *int { return &c.LandscapeEvery }),
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

func parseInts(v string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a whole number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func newTrainCommand() *cli.Command {
	var opts trainOptions
	flags := []cli.Flag{
		&cli.StringFlag{Name: "preset", Value: "quick", Usage: "starting configuration: " + strings.Join(train.PresetNames(), ", "), Destination: &opts.Preset},
		&cli.StringFlag{Name: "out", Usage: "run directory (default runs/NORM-OBJECTIVE-PRESET-sSEED)", Destination: &opts.Out},
		&cli.StringFlag{Name: "resume", Usage: "continue the run in `RUN_DIR` (its config.json says everything else)", Destination: &opts.Resume},
		formatFlag(&opts.Format, tableJSON),
	}
	for _, f := range trainConfigFlags {
		if f.isBool {
			flags = append(flags, &cli.BoolFlag{Name: f.name, Usage: f.usage + " (--" + f.name + "=false to turn off)"})
		} else {
			flags = append(flags, &cli.StringFlag{Name: f.name, Usage: f.usage})
		}
	}
	return &cli.Command{
		Name:  "train",
		Usage: "train a network with AdvProp, Madry or clean training into a run directory",
		Description: `Trains the PreAct ResNet-18 with the chosen norm in every slot. The default
objective is AdvProp (the paper's Eq. 7): per batch, x_adv from PGD on the
adversarial branch, then (CE(f_clean(x), y) + CE(f_adv(x_adv), y)) / 2 in two
passes; madry trains on x_adv alone, clean on x alone. SGD (momentum 0.9,
weight decay 5e-4 on every parameter), lr 0.1 with the reference epoch-0
warm-up and decays at the milestones.

A preset gives every setting; each flag overrides one. Presets:
` + presetList() + `
The run directory holds config.json (the resolved configuration and a hash
of the data), log.jsonl (one JSON object per epoch: lr, training loss and
accuracy of each pass, validation SA and PGD RA of each branch in eval mode,
test clean and adversarial losses, images/s) and checkpoints/ (last, best by
validation RA of the trained branch, epoch-NNN), each written atomically with
the optimiser state and the run's position.

SIGINT or SIGTERM finishes the step, checkpoints and exits with 130;
--resume RUN_DIR continues, and the finished run is bit-identical to an
uninterrupted one. A NaN or infinite loss stops the run with exit 1, naming
epoch and step and keeping the last good checkpoint.

Examples:
  advbench train --preset smoke
  advbench train --norm saauxbn --data ../shared/cifar10 --preset quick
  advbench train --norm bn --objective clean --epochs 5 --out runs/bn-clean
  advbench train --resume runs/saauxbn-advprop-quick-s1`,
		Flags: flags,
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("train: unexpected argument %q", c.Args().First())
			}
			for _, f := range trainConfigFlags {
				if c.IsSet(f.name) {
					v := c.String(f.name)
					if f.isBool {
						v = strconv.FormatBool(c.Bool(f.name))
					}
					opts.Overrides = append(opts.Overrides, override{Flag: f.name, Value: v, apply: f.apply})
				}
			}
			if c.IsSet("preset") && opts.Resume != "" {
				opts.Overrides = append(opts.Overrides, override{Flag: "preset", Value: opts.Preset, apply: func(cfg *train.Config, v string) error { cfg.Preset = v; return nil }})
			}
			if c.IsSet("out") && opts.Resume != "" {
				return usagef("train: --out and --resume: the run directory is the one --resume names")
			}
			ctx, stop := signalContext(c.App.ErrWriter)
			defer stop()
			return runTrain(ctx, opts, c.App.Writer, c.App.ErrWriter)
		},
	}
}

func presetList() string {
	var b strings.Builder
	for _, name := range train.PresetNames() {
		p, _ := train.Preset(name)
		fmt.Fprintf(&b, "  %-6s width %g, %s training images, %d epochs, batch %d, PGD-%d (train), PGD-%d (eval)\n",
			name, p.Width, countOrAll(p.TrainN), p.Epochs, p.Batch, p.TrainSteps, p.EvalSteps)
	}
	return b.String()
}

func countOrAll(n int) string {
	if n == 0 {
		return "all"
	}
	return strconv.Itoa(n)
}

func runTrain(ctx context.Context, opts trainOptions, stdout, stderr io.Writer) error {
	if err := checkFormat(opts.Format, tableJSON); err != nil {
		return err
	}
	o := train.Options{Progress: stderr}
	var s *train.Summary
	var err error
	if opts.Resume != "" {
		rec, rerr := train.ReadRecord(opts.Resume)
		if errors.Is(rerr, train.ErrNoRecord) {
			// Resume tells a run stopped before config.json from a stranger.
			_, rerr = train.Resume(ctx, opts.Resume, o)
			var ns *train.NotStartedError
			if errors.As(rerr, &ns) {
				return fmt.Errorf("%w: advbench train --out %s with the flags it was started with", rerr, opts.Resume)
			}
		}
		if rerr != nil {
			return trainHint(rerr, opts.Resume)
		}
		for _, ov := range opts.Overrides {
			want := rec.Config
			want.Milestones = append([]int(nil), want.Milestones...)
			if err := ov.apply(&want, ov.Value); err != nil {
				return err
			}
			if !reflect.DeepEqual(want, rec.Config) {
				return usagef("train: --%s %s contradicts the configuration of %s (%s); drop the flag to resume, or start a new run with --out", ov.Flag, ov.Value, opts.Resume, showField(rec.Config, ov.Flag))
			}
		}
		s, err = train.Resume(ctx, opts.Resume, o)
		err = trainHint(err, opts.Resume)
	} else {
		cfg, perr := train.Preset(opts.Preset)
		if perr != nil {
			return usageError{perr}
		}
		for _, ov := range opts.Overrides {
			if err := ov.apply(&cfg, ov.Value); err != nil {
				return err
			}
		}
		if err := cfg.Validate(); err != nil {
			var ce *train.ConfigError
			if errors.As(err, &ce) {
				return usagef("--%s: %v", strings.ReplaceAll(ce.Field, "_", "-"), err)
			}
			return usageError{err}
		}
		if cfg.AttackPrecision != "" {
			if _, err := parseAttackPrecision(cfg.AttackPrecision); err != nil {
				return err
			}
		}
		out := opts.Out
		if out == "" {
			out = filepath.Join("runs", fmt.Sprintf("%s-%s-%s-s%d", cfg.Norm, cfg.Objective, cfg.Preset, cfg.Seed))
		}
		fmt.Fprintf(stderr, "train: %s, %s objective, preset %s, into %s\n", cfg.Norm, cfg.Objective, cfg.Preset, out)
		s, err = train.Start(ctx, cfg, out, o)
		err = trainHint(err, out)
	}
	if err != nil {
		return err
	}
	return printTrainSummary(s, opts.Format, stdout)
}

// trainHint adds to an error of the run in dir the flags that act on it:
// an interrupted run continues with --resume DIR, and a directory Start
// refuses is resumed or another --out chosen.
func trainHint(err error, dir string) error {
	var full *train.NotEmptyError
	switch {
	case errors.Is(err, rundir.ErrInterrupted):
		return fmt.Errorf("%w; the run continues with --resume %s", err, dir)
	case errors.As(err, &full):
		return fmt.Errorf("%w: continue it with --resume %s, or choose another --out", err, full.Dir)
	}
	return err
}

// showField spells a flag's field of c.
func showField(c train.Config, flag string) string {
	if flag == "preset" {
		return "preset " + c.Preset
	}
	for _, f := range trainConfigFlags {
		if f.name == flag {
			return flag + " " + f.show(c)
		}
	}
	return flag
}

func printTrainSummary(s *train.Summary, format string, stdout io.Writer) error {
	if format == formatJSON {
		return printJSON(stdout, s)
	}
	c := s.Record.Config
	fmt.Fprintf(stdout, "run %s: %s, width %g, %s objective, %d epochs on %s\n", s.Dir, c.Norm, c.Width, c.Objective, c.Epochs, s.Record.Data.Source)
	if s.Final == nil {
		return nil
	}
	f := s.Final
	t := texttable.New(stdout)
	t.Header("branch", "val SA", fmt.Sprintf("val PGD-%d RA", c.EvalSteps))
	pct := func(v float64) string { return fmt.Sprintf("%.2f%%", 100*v) }
	t.Append("clean", pct(f.Val.Clean.SA), pct(f.Val.Clean.RA))
	t.Append("adv", pct(f.Val.Adv.SA), pct(f.Val.Adv.RA))
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "final epoch %d: train loss %.4f, %s; best validation RA %s after epoch %d\n",
		f.Epoch, f.Train.Loss, f.Test, pct(s.BestRA), s.BestEpoch)
	fmt.Fprintf(stdout, "checkpoints: %s\n", rundir.Dir(s.Dir).Checkpoints())
	return nil
}
