package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/advbench/advbench/evaluate"
	"github.com/advbench/advbench/interop"
	"github.com/advbench/advbench/models/resnet"
	"github.com/urfave/cli/v2"
)

type exportOptions struct {
	Checkpoint string
	Out        string
	Force      bool
}

func newExportCommand() *cli.Command {
	var opts exportOptions
	return &cli.Command{
		Name:      "export",
		Usage:     "write a checkpoint as a state dict the reference PyTorch model loads",
		ArgsUsage: "CHECKPOINT|RUN_DIR",
		Description: `Writes an advbench checkpoint (a run directory's last checkpoint) as a
safetensors state dict with the reference code's names: parameters and
running statistics, a num_batches_tracked counter beside every set of
BatchNorm statistics, and the input-normalisation buffers normal.mean and
normal.std, so that the reference PyTorch model loads it with
load_state_dict(strict=True), e.g.

  from safetensors.torch import load_file
  model.load_state_dict(load_file("model.safetensors"), strict=True)

Examples:
  advbench export runs/saauxbn-advprop-quick-s1 --out saauxbn.safetensors
  advbench export runs/x/checkpoints/best.safetensors --out best.safetensors`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Required: true, Usage: "state dict to write (.safetensors)", Destination: &opts.Out},
			forceFlag(&opts.Force),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("export: want one CHECKPOINT or RUN_DIR, got %d arguments", c.NArg())
			}
			opts.Checkpoint = c.Args().First()
			return runExport(opts, c.App.Writer)
		},
	}
}

func runExport(opts exportOptions, stdout io.Writer) error {
	if !strings.HasSuffix(opts.Out, ".safetensors") {
		return usagef("export: --out %q: want a file name ending in .safetensors", opts.Out)
	}
	path, err := evaluate.CheckpointPath(opts.Checkpoint, "last")
	if err != nil {
		return err
	}
	if a, err := os.Stat(path); err == nil {
		if b, err := os.Stat(opts.Out); err == nil && os.SameFile(a, b) {
			return usagef("export: --out %s is the checkpoint being exported; write the state dict elsewhere", opts.Out)
		}
	}
	if err := refuseOverwrite("out", opts.Out, opts.Force); err != nil {
		return err
	}
	m, _, err := resnet.Load(path)
	if err != nil {
		return err
	}
	if err := interop.Export(m, opts.Out, map[string]string{"advbench.exported_from": path}); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "exported %s (%s, width %g) to %s\n", path, m.Config().Norm, m.Config().Width, opts.Out)
	return err
}
