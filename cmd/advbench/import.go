package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/advbench/advbench/interop"
	"github.com/advbench/advbench/models/resnet"
	"github.com/urfave/cli/v2"
)

type importOptions struct {
	File      string
	Norm      string
	Width     float64
	InputNorm string
	Out       string
}

func newImportCommand() *cli.Command {
	var opts importOptions
	return &cli.Command{
		Name:      "import",
		Usage:     "read a PyTorch or safetensors state dict into an advbench checkpoint",
		ArgsUsage: "FILE",
		Description: `Reads a state dict saved by torch.save (the zip format: a bare state dict, or a
dict holding "state_dict" as the reference Adv/train.py writes it) or by the
safetensors package, into a PreAct ResNet-18 of the given norm and width, and
writes an advbench checkpoint. A "module." prefix (DataParallel) is stripped,
BatchNorm's num_batches_tracked counters are read and ignored, float64 and
bfloat16 tensors are converted. The model standardises its inputs with the
file's input-normalisation buffers (the reference's normal.mean, normal.std,
whatever their values); a file without them needs --input-normalization
(imagenet, none, MEAN,STD or M1,M2,M3,S1,S2,S3), since assuming ImageNet's
statistics for a model that never had them scores another function.
Every name and shape is checked; a mismatch names the tensor, both shapes and
the likely cause (another width or norm, a prefix).

'advbench eval --checkpoint FILE --norm NAME --width W' evaluates such a file
directly.

Examples:
  advbench import model.pt --norm saauxbn --width 1 --out saauxbn.safetensors
  advbench import best_model.pt --norm auxbn --width 1`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "norm", Required: true, Usage: "the model's norm", Destination: &opts.Norm},
			&cli.Float64Flag{Name: "width", Value: 1, Usage: "the model's width multiplier", Destination: &opts.Width},
			&cli.StringFlag{Name: "input-normalization", Usage: "how the model standardises its [0,1] inputs, for a file without normal.mean/normal.std: imagenet, none, MEAN,STD or M1,M2,M3,S1,S2,S3", Destination: &opts.InputNorm},
			&cli.StringFlag{Name: "out", Usage: "checkpoint to write (default FILE's name with .advbench.safetensors)", Destination: &opts.Out},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("import: want one FILE, got %d arguments", c.NArg())
			}
			opts.File = c.Args().First()
			return runImport(opts, c.App.Writer)
		},
	}
}

func runImport(opts importOptions, stdout io.Writer) error {
	if err := checkNorm(opts.Norm); err != nil {
		return err
	}
	out := opts.Out
	if out == "" {
		out = strings.TrimSuffix(opts.File, filepath.Ext(opts.File)) + ".advbench.safetensors"
	}
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("import: %s exists: remove it or choose another --out", out)
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	sd, err := interop.Read(opts.File)
	if err != nil {
		return err
	}
	m, err := interop.Load(sd, resnet.Config{Norm: opts.Norm, Width: opts.Width, InputNorm: opts.InputNorm})
	if errors.Is(err, interop.ErrInputNormUnknown) {
		return usagef("import: %v: give --input-normalization", err)
	}
	if err != nil {
		return err
	}
	if err := m.Save(out, nil, map[string]string{"advbench.imported_from": opts.File, "advbench.imported_format": sd.Format}); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "imported %s (%s, %d tensors) as %s, width %g: %s\n", opts.File, sd.Format, len(sd.Names), opts.Norm, opts.Width, out)
	return err
}
