package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/advbench/advbench/internal/texttable"
	"github.com/advbench/advbench/models/resnet"
	"github.com/advbench/advbench/norms"
	"github.com/urfave/cli/v2"
)

type modelSummaryOptions struct {
	Norm   string
	Width  float64
	Format string
}

func newModelSummaryCommand() *cli.Command {
	var opts modelSummaryOptions
	return &cli.Command{
		Name:  "summary",
		Usage: "layers, output shapes, parameter counts and MACs per image",
		Description: `Prints every layer of the CIFAR-10 PreAct ResNet-18 for one 32x32 image: its
output shape, its parameters and its multiply-accumulates (convolutions and the
classifier; norms, ReLU and pooling count none). Width scales the stage widths
64/128/256/512 (rounded, at least 1); MACs scale with width squared.

Norms:
` + normList() + `
Examples:
  advbench model summary
  advbench model summary --norm saauxbn --width 0.25 --format json`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "norm", Value: "bn", Usage: "normalization layer in every slot: " + strings.Join(norms.Names(), ", "), Destination: &opts.Norm},
			&cli.Float64Flag{Name: "width", Value: 1, Usage: "width multiplier (1 = 64/128/256/512 channels)", Destination: &opts.Width},
			formatFlag(&opts.Format, tableJSON),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("model summary: unexpected argument %q", c.Args().First())
			}
			return runModelSummary(opts, c.App.Writer)
		},
	}
}

// modelSummary is what the command reports, as data.
type modelSummary struct {
	Norm   string         `json:"norm"`
	Width  float64        `json:"width"`
	Params int            `json:"params"`
	MACs   int64          `json:"macs_per_image"`
	Layers []resnet.Layer `json:"layers"`
}

func runModelSummary(opts modelSummaryOptions, stdout io.Writer) error {
	if err := checkFormat(opts.Format, tableJSON); err != nil {
		return err
	}
	if err := checkNorm(opts.Norm); err != nil {
		return err
	}
	if opts.Width <= 0 {
		return usagef("--width %v: must be positive", opts.Width)
	}
	m, err := resnet.New(resnet.Config{Norm: opts.Norm, Width: opts.Width})
	if err != nil {
		return err
	}
	s := modelSummary{Norm: opts.Norm, Width: opts.Width, Params: m.NumParams(), MACs: m.MACs(), Layers: m.Summary()}
	if opts.Format == formatJSON {
		return printJSON(stdout, s)
	}
	t := texttable.New(stdout)
	t.Header("layer", "kind", "output", "params", "MACs")
	for _, l := range s.Layers {
		shape := make([]string, len(l.Shape))
		for i, d := range l.Shape {
			shape[i] = fmt.Sprint(d)
		}
		t.Append(l.Name, l.Kind, strings.Join(shape, "x"), fmt.Sprint(l.Params), fmt.Sprint(l.MACs))
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "norm %s, width %g: %d parameters, %.1f M MACs per image\n", s.Norm, s.Width, s.Params, float64(s.MACs)/1e6)
	return nil
}

// normList is one help line per registered norm with its summary.
func normList() string {
	var b strings.Builder
	for _, n := range norms.Names() {
		fmt.Fprintf(&b, "  %-11s %s\n", n, norms.Summary(n))
	}
	return b.String()
}
