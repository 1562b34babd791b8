package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/advbench/advbench/evaluate"
	"github.com/advbench/advbench/internal/texttable"
	"github.com/advbench/advbench/landscape"
	"github.com/advbench/advbench/train"
	"github.com/urfave/cli/v2"
)

// landscapeOptions are the landscape command's options.
type landscapeOptions struct {
	Spec  evaluate.LandscapeSpec
	Eps   string
	Step  string
	Force bool
}

func newLandscapeCommand() *cli.Command {
	var opts landscapeOptions
	return &cli.Command{
		Name:      "landscape",
		Usage:     "probe a checkpoint's loss landscape along the gradient (Santurkar et al. 2018)",
		ArgsUsage: "RUN_DIR|CHECKPOINT",
		Description: `For each of --batches batches of the first test images (the same batches
every time): the loss L(w) and gradient g of each pass of the run's objective
(the clean loss on the clean branch; the adversarial loss on the adversarial
branch, x_adv from PGD on it), in training mode as training computes them,
and along g over the step sizes eta = ` + multiples() + ` x lr: the loss range
[min, max] of L(w - eta g), the gradient-change range |grad L(w - eta g) - g|,
the effective beta-smoothness max |grad L(w - eta g) - g| / |eta g|, the
gradient shift of the first convolution of each stage after the layers
before it took a plain step w - lr g (|G - G'| and cos(G, G')), and the
distance |W - W0| per stage from the initial weights (regenerated from the
checkpoint's seed). lr is the run's learning rate at the checkpoint unless
--lr gives one. Every batch starts from the checkpoint's running statistics,
and the checkpoint is not changed.

One JSON line per batch (schema ` + landscape.Schema + `) goes to
results/landscape-CKPT.jsonl of the run (beside a checkpoint file outside a
run) or --out; an existing file is replaced only with --force. The table
summarises each batch. During training, 'advbench train --landscape-every K'
writes the same lines for every K-th step into RUN_DIR/landscape.jsonl (K = ` + strconv.Itoa(train.DefaultLandscapeEvery) + `
adds under 25% to a quick AdvProp run).

Examples:
  advbench landscape runs/saauxbn-advprop-quick-s1
  advbench landscape runs/bn-advprop-quick-s1 --select epoch-004 --batches 8
  advbench landscape model.safetensors --data ../shared/cifar10 --lr 0.1`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "batches", Value: 4, Usage: "batches probed (the first batches x batch test images)", Destination: &opts.Spec.Batches},
			&cli.IntFlag{Name: "batch", Value: 128, Usage: "batch size", Destination: &opts.Spec.Batch},
			&cli.Float64Flag{Name: "lr", Usage: "learning rate the step sizes multiply (default: the run's at the checkpoint, 0.1 outside a run)", Destination: &opts.Spec.LR},
			&cli.IntFlag{Name: "steps", Value: 10, Usage: "PGD steps of the adversarial inputs", Destination: &opts.Spec.Steps},
			&cli.StringFlag{Name: "eps", Value: "8/255", Usage: "L-inf radius", Destination: &opts.Eps},
			&cli.StringFlag{Name: "step", Value: "2/255", Usage: "PGD step", Destination: &opts.Step},
			&cli.StringFlag{Name: "attack-mode", Value: "train", Usage: "statistics of the attack: train (as the training attack) or eval", Destination: &opts.Spec.AttackMode},
			&cli.Uint64Flag{Name: "seed", Usage: "seed of the attack's random starts", Destination: &opts.Spec.Seed},
			&cli.StringFlag{Name: "data", Usage: "test data (default: the run's)", Destination: &opts.Spec.Data},
			&cli.StringFlag{Name: "select", Value: "last", Usage: "a run's checkpoint: last, best, reference (epoch-190) or epoch-NNN", Destination: &opts.Spec.Select},
			&cli.StringFlag{Name: "out", Usage: "the lines' file (default results/landscape-CKPT.jsonl)", Destination: &opts.Spec.Out},
			forceFlag(&opts.Force),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("landscape: want one RUN_DIR or CHECKPOINT, got %d arguments", c.NArg())
			}
			opts.Spec.Target = c.Args().First()
			ctx, stop := signalContext(c.App.ErrWriter)
			defer stop()
			return runLandscape(ctx, opts, c.App.Writer, c.App.ErrWriter)
		},
	}
}

// multiples spells the grid's multiples of the learning rate.
func multiples() string {
	s := make([]string, len(landscape.DefaultMultiples))
	for i, m := range landscape.DefaultMultiples {
		s[i] = strconv.FormatFloat(m, 'g', -1, 64)
	}
	return "{" + strings.Join(s, ", ") + "}"
}

func runLandscape(ctx context.Context, opts landscapeOptions, stdout, stderr io.Writer) error {
	o, err := attackOptions(opts.Eps, opts.Step)
	if err != nil {
		return err
	}
	for _, c := range []struct {
		flag   string
		v, min int
	}{{"batches", opts.Spec.Batches, 1}, {"batch", opts.Spec.Batch, 1}, {"steps", opts.Spec.Steps, 1}} {
		if err := checkAtLeast(c.flag, c.v, c.min); err != nil {
			return err
		}
	}
	if !(opts.Spec.LR >= 0) {
		return usagef("--lr %v: want a positive learning rate (0: the run's)", opts.Spec.LR)
	}
	if opts.Spec.AttackMode != "train" && opts.Spec.AttackMode != "eval" {
		return usagef("--attack-mode %q: want train or eval", opts.Spec.AttackMode)
	}
	if err := checkSelect(opts.Spec.Select); err != nil {
		return err
	}
	if err := checkDataPath(opts.Spec.Data); err != nil {
		return err
	}
	opts.Spec.Options = &o
	oc, err := evaluate.Landscape(ctx, opts.Spec, evaluate.Options{Progress: stderr, Force: opts.Force})
	var exists *evaluate.ExistsError
	if errors.As(err, &exists) {
		return usagef("landscape: %s exists; give --force to replace it", exists.Path)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "landscape: wrote %s\n", oc.Path)
	t := texttable.New(stdout)
	t.Header("batch", "pass", "L(w)", "|g|", "loss min", "loss max", "|dg| min", "|dg| max", "beta", "|W-W0|")
	num := func(v landscape.Num) string { return strconv.FormatFloat(float64(v), 'g', 4, 64) }
	for _, l := range oc.File {
		dist := l.Distance[len(l.Distance)-1].Distance
		for _, p := range l.Probes {
			t.Append(strconv.Itoa(l.Batch), p.Input, num(landscape.Num(p.Loss)), num(landscape.Num(p.GradNorm)),
				num(p.LossRange.Min), num(p.LossRange.Max), num(p.GradChangeRange.Min), num(p.GradChangeRange.Max), num(p.Beta), num(landscape.Num(dist)))
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	if len(oc.File) > 0 {
		l := oc.File[0]
		fmt.Fprintf(stdout, "epoch %d step %d, lr %g: step sizes %v\n", l.Epoch, l.Step, l.LR, l.Etas)
	}
	return nil
}
