package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"

	"github.com/advbench/advbench/data/cifar"
	"github.com/advbench/advbench/data/source"
	"github.com/advbench/advbench/internal/atomicfile"
	"github.com/advbench/advbench/internal/texttable"
	"github.com/urfave/cli/v2"
)

type dataInspectOptions struct {
	Path   string
	Split  string
	Sheet  string
	Grid   int
	Scale  int
	Format string
	Force  bool
}

func newDataInspectCommand() *cli.Command {
	var opts dataInspectOptions
	return &cli.Command{
		Name:      "inspect",
		Usage:     "count records and classes, channel statistics, and a PNG contact sheet",
		ArgsUsage: "[DIR|TARBALL|FILE|builtin]",
		Description: `Prints the record count, the count of each class and the per-channel mean and
standard deviation of pixel values in [0,1], and with --sheet writes a PNG
contact sheet of the first images (row by row, the first image top left) so
you can see the data. Without an argument it inspects the built-in synthetic
dataset, whose classes are oriented, coloured gratings.

Examples:
  advbench data inspect ../shared/cifar10/test_batch.bin --sheet test.png
  advbench data inspect --split train --sheet builtin.png
  advbench data inspect --split train --format json`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "split", Value: "test", Usage: "for a directory, a tarball or builtin: train or test", Destination: &opts.Split},
			&cli.StringFlag{Name: "sheet", Usage: "write a PNG contact sheet of the first images to `FILE`", Destination: &opts.Sheet},
			&cli.IntFlag{Name: "grid", Value: 8, Usage: "the sheet shows grid x grid images", Destination: &opts.Grid},
			&cli.IntFlag{Name: "scale", Value: 3, Usage: "pixels per image pixel in the sheet", Destination: &opts.Scale},
			forceFlag(&opts.Force),
			formatFlag(&opts.Format, tableJSON),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return usagef("data inspect: want at most one DIR or FILE, got %d arguments", c.NArg())
			}
			opts.Path = c.Args().First()
			return runDataInspect(opts, c.App.Writer)
		},
	}
}

// inspectResult is what inspect reports, as data.
type inspectResult struct {
	Source      string                   `json:"source"`
	Split       string                   `json:"split"`
	Records     int                      `json:"records"`
	ClassCounts [cifar.NumClasses]int    `json:"class_counts"`
	ClassNames  [cifar.NumClasses]string `json:"class_names"`
	Mean        [cifar.Channels]float64  `json:"channel_mean"`
	Std         [cifar.Channels]float64  `json:"channel_std"`
	Sheet       string                   `json:"contact_sheet,omitempty"`
	SheetLabels []int                    `json:"contact_sheet_labels,omitempty"`
}

func runDataInspect(opts dataInspectOptions, stdout io.Writer) error {
	if err := checkFormat(opts.Format, tableJSON); err != nil {
		return err
	}
	split := cifar.Split(opts.Split)
	if split != cifar.Train && split != cifar.Test {
		return usagef("data inspect: --split %q: want train or test", opts.Split)
	}
	if opts.Grid < 1 || opts.Grid > maxSheetGrid {
		return usagef("data inspect: --grid %d: want 1..%d (a sheet of up to %d images)", opts.Grid, maxSheetGrid, maxSheetGrid*maxSheetGrid)
	}
	if opts.Scale < 1 || opts.Scale > maxSheetScale {
		return usagef("data inspect: --scale %d: want 1..%d pixels per image pixel", opts.Scale, maxSheetScale)
	}
	if side := opts.Grid * (32*opts.Scale + 1); side > maxSheetSide {
		return usagef("data inspect: --grid %d --scale %d: the sheet would be %d pixels a side, more than %d; lower --grid or --scale", opts.Grid, opts.Scale, side, maxSheetSide)
	}
	if opts.Sheet != "" {
		if err := refuseOverwrite("sheet", opts.Sheet, opts.Force); err != nil {
			return err
		}
	}
	spec := source.Spec{Path: opts.Path}
	d, err := source.Load(spec, split)
	if err != nil {
		return err
	}
	res := inspectResult{Source: spec.Describe(), Split: opts.Split, Records: d.Len(), ClassCounts: d.ClassCounts(), ClassNames: spec.ClassNames()}
	res.Mean, res.Std = channelStats(d)
	if opts.Sheet != "" {
		n := min(opts.Grid*opts.Grid, d.Len())
		if err := writeSheet(opts.Sheet, d, n, opts.Grid, opts.Scale); err != nil {
			return fmt.Errorf("data inspect: %s: %w", opts.Sheet, err)
		}
		res.Sheet = opts.Sheet
		for i := 0; i < n; i++ {
			res.SheetLabels = append(res.SheetLabels, int(d.Labels[i]))
		}
	}
	if opts.Format == formatJSON {
		return printJSON(stdout, res)
	}
	fmt.Fprintf(stdout, "source:  %s (%s split)\nrecords: %d\n", res.Source, res.Split, res.Records)
	t := texttable.New(stdout)
	t.Header("class", "name", "count")
	for k, n := range res.ClassCounts {
		t.Append(fmt.Sprint(k), res.ClassNames[k], fmt.Sprint(n))
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "channel mean (R,G,B): %.4f %.4f %.4f\n", res.Mean[0], res.Mean[1], res.Mean[2])
	fmt.Fprintf(stdout, "channel std  (R,G,B): %.4f %.4f %.4f\n", res.Std[0], res.Std[1], res.Std[2])
	if res.Sheet != "" {
		fmt.Fprintf(stdout, "contact sheet: %s (first %d images, row by row; first label %d = %s)\n",
			res.Sheet, len(res.SheetLabels), res.SheetLabels[0], res.ClassNames[res.SheetLabels[0]])
	}
	return nil
}

// channelStats returns the mean and (population) standard deviation of each
// channel's pixel values in [0,1] over the whole dataset.
func channelStats(d *cifar.Dataset) (mean, std [cifar.Channels]float64) {
	const plane = cifar.Height * cifar.Width
	var sum, sq [cifar.Channels]float64
	for i := 0; i < d.Len(); i++ {
		img := d.Image(i)
		for c := 0; c < cifar.Channels; c++ {
			var s, q uint64
			for _, v := range img[c*plane : (c+1)*plane] {
				s += uint64(v)
				q += uint64(v) * uint64(v)
			}
			sum[c] += float64(s)
			sq[c] += float64(q)
		}
	}
	n := float64(d.Len() * plane)
	for c := range mean {
		m := sum[c] / n
		mean[c] = m / 255
		std[c] = math.Sqrt(math.Max(sq[c]/n-m*m, 0)) / 255
	}
	return mean, std
}

// Bounds of a contact sheet: up to 100 x 100 images (the whole test set), up
// to 16x, and at most 8192 pixels a side (256 MiB in memory): a sheet is
// for looking at, and a bigger one only exhausts memory.
const (
	maxSheetGrid  = 100
	maxSheetScale = 16
	maxSheetSide  = 8192
)

// writeSheet writes the first n images as a grid with 1-pixel gaps.
func writeSheet(path string, d *cifar.Dataset, n, grid, scale int) error {
	const s = cifar.Width
	cell := s*scale + 1
	rows := (n + grid - 1) / grid
	img := image.NewRGBA(image.Rect(0, 0, grid*cell+1, rows*cell+1))
	for i := range img.Pix {
		img.Pix[i] = 255 // white gaps
	}
	for i := 0; i < n; i++ {
		src := d.Image(i)
		ox, oy := (i%grid)*cell+1, (i/grid)*cell+1
		for y := 0; y < s*scale; y++ {
			for x := 0; x < s*scale; x++ {
				p := (y/scale)*s + x/scale
				img.SetRGBA(ox+x, oy+y, color.RGBA{src[p], src[s*s+p], src[2*s*s+p], 255})
			}
		}
	}
	return atomicfile.Write(path, func(w io.Writer) error { return png.Encode(w, img) })
}
