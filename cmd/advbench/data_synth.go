package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/advbench/advbench/data/cifar"
	"github.com/advbench/advbench/data/synth"
	"github.com/advbench/advbench/internal/atomicfile"
	"github.com/urfave/cli/v2"
)

type dataSynthOptions struct {
	Out    string
	Seed   uint64
	NTrain int
	NTest  int
	Force  bool
}

func newDataSynthCommand() *cli.Command {
	var opts dataSynthOptions
	return &cli.Command{
		Name:  "synth",
		Usage: "write the built-in synthetic dataset in the CIFAR-10 binary format",
		Description: `Writes the built-in dataset (the default of every command when no --data is
given) as files in the official layout: the training records split over
data_batch_1.bin .. data_batch_5.bin, the test records in test_batch.bin. The
same seed and sizes always give the same bytes.

Each image is a soft patch of an oriented grating at a random place and size
over a weaker random grating, with noise; the class sets the patch's
orientation and hue (both jittered so neighbouring classes overlap).

Example:
  advbench data synth --out /tmp/synth --n-train 5000 --n-test 1000
  advbench data inspect /tmp/synth/test_batch.bin`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Required: true, Usage: "directory to write into (created if needed)", Destination: &opts.Out},
			&cli.Uint64Flag{Name: "seed", Value: synth.DefaultSeed, Usage: "generator seed", Destination: &opts.Seed},
			&cli.IntFlag{Name: "n-train", Value: 10000, Usage: "training records", Destination: &opts.NTrain},
			&cli.IntFlag{Name: "n-test", Value: 2000, Usage: "test records", Destination: &opts.NTest},
			forceFlag(&opts.Force),
		},
		Action: func(c *cli.Context) error {
			return runDataSynth(opts, c.App.Writer)
		},
	}
}

func runDataSynth(opts dataSynthOptions, stdout io.Writer) error {
	if opts.NTrain < len(cifar.TrainFiles) || opts.NTest < 1 {
		return usagef("data synth: --n-train must be at least %d (a record per training file) and --n-test at least 1 (got %d, %d)",
			len(cifar.TrainFiles), opts.NTrain, opts.NTest)
	}
	if opts.Seed == 0 {
		return usagef("data synth: --seed must be positive")
	}
	for _, name := range append(append([]string(nil), cifar.TrainFiles...), cifar.TestFile) {
		if err := refuseOverwrite("out", filepath.Join(opts.Out, name), opts.Force); err != nil {
			return err
		}
	}
	cfg := synth.Config{Seed: opts.Seed, NTrain: opts.NTrain, NTest: opts.NTest}
	train, err := synth.Split(cfg, cifar.Train)
	if err != nil {
		return err
	}
	test, err := synth.Split(cfg, cifar.Test)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return fmt.Errorf("data synth: %w", err)
	}
	// Spread the training records over the five files as evenly as possible.
	nf := len(cifar.TrainFiles)
	lo := 0
	for i, name := range cifar.TrainFiles {
		hi := lo + opts.NTrain/nf
		if i < opts.NTrain%nf {
			hi++
		}
		idx := make([]int, 0, hi-lo)
		for j := lo; j < hi; j++ {
			idx = append(idx, j)
		}
		if err := atomicfile.WriteFile(filepath.Join(opts.Out, name), cifar.Encode(train.Subset(idx))); err != nil {
			return fmt.Errorf("data synth: %w", err)
		}
		lo = hi
	}
	if err := atomicfile.WriteFile(filepath.Join(opts.Out, cifar.TestFile), cifar.Encode(test)); err != nil {
		return fmt.Errorf("data synth: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %d training and %d test records (seed %d) to %s\n", opts.NTrain, opts.NTest, opts.Seed, opts.Out)
	return nil
}
