// Package plots draws advbench's figures (loss and accuracy curves, the
// gradient statistics per stage, accuracy against eps) as PNG and SVG with
// gonum.org/v1/plot. It draws series it is given and reads no files of its
// own: the caller turns run logs and result files into series.
package plots

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"slices"

	"github.com/advbench/advbench/internal/atomicfile"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Series is one line of a figure.
type Series struct {
	Label string
	X, Y  []float64
	// Group picks the colour: series of one group (one model) share it.
	Group int
	// Dashed draws the line dashed (the second quantity of a group, e.g.
	// the adversarial loss beside the clean one).
	Dashed bool
	// Low and High, when set (a value per X), fill the band between them
	// in the group's colour, translucent, under the line (a min–max range
	// per step, say); points where either is not finite are left out.
	Low, High []float64
}

// Figure is a line plot.
type Figure struct {
	Title          string
	XLabel, YLabel string
	Series         []Series
	// XTicks, when set, labels the x axis at these values only (stages
	// 1..4, say).
	XTicks []float64
	// YMin and YMax fix the y range when YMax > YMin (accuracies: 0..1).
	YMin, YMax float64
	// IntegerX marks the x axis at whole numbers only (epochs).
	IntegerX bool
	// LogWide draws y on a log scale when the values are all positive and
	// span more than WideRange (an untrained branch's loss of 1e5 beside
	// trained ones near 2 would flatten them into one line otherwise).
	LogWide bool
	// LogY always draws y on a log scale, leaving out values that are not
	// positive.
	LogY bool
}

// WideRange is the ratio of the largest to the smallest y value beyond
// which a LogWide figure switches to a log scale.
const WideRange = 100

// Formats are the file types Save writes.
var Formats = []string{"png", "svg"}

// Size is the figures' size (the legend takes a column on the right).
var Size = struct{ W, H vg.Length }{9 * vg.Inch, 4.5 * vg.Inch}

// Save writes the figure to base.png and base.svg and returns the paths.
func Save(f Figure, base string) ([]string, error) {
	if len(f.Series) == 0 {
		return nil, fmt.Errorf("plots: %s: nothing to draw", f.Title)
	}
	p := plot.New()
	p.Title.Text = f.Title
	p.X.Label.Text = f.XLabel
	p.Y.Label.Text = f.YLabel
	p.Add(plotter.NewGrid())
	legend := plot.NewLegend()
	legend.Top, legend.Left = true, false
	for _, s := range f.Series {
		if len(s.X) != len(s.Y) {
			return nil, fmt.Errorf("plots: %s: series %q has %d x and %d y values", f.Title, s.Label, len(s.X), len(s.Y))
		}
		if (s.Low != nil || s.High != nil) && (len(s.Low) != len(s.X) || len(s.High) != len(s.X)) {
			return nil, fmt.Errorf("plots: %s: series %q has %d x values and a band of %d low and %d high", f.Title, s.Label, len(s.X), len(s.Low), len(s.High))
		}
		drawable := func(y float64) bool { return !math.IsNaN(y) && !math.IsInf(y, 0) && (!f.LogY || y > 0) }
		xys := make(plotter.XYs, 0, len(s.X))
		for i := range s.X {
			if drawable(s.Y[i]) {
				xys = append(xys, plotter.XY{X: s.X[i], Y: s.Y[i]})
			}
		}
		if len(xys) == 0 {
			continue
		}
		if s.Low != nil {
			var hi, lo plotter.XYs
			for i := range s.X {
				if drawable(s.Low[i]) && drawable(s.High[i]) {
					hi = append(hi, plotter.XY{X: s.X[i], Y: s.High[i]})
					lo = append(lo, plotter.XY{X: s.X[i], Y: s.Low[i]})
				}
			}
			slices.Reverse(lo)
			if len(hi) > 1 {
				band, err := plotter.NewPolygon(append(hi, lo...))
				if err != nil {
					return nil, fmt.Errorf("plots: %s: %w", f.Title, err)
				}
				r, g, b, _ := plotutil.Color(s.Group).RGBA()
				band.Color = color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: 64}
				band.LineStyle.Width = 0
				p.Add(band)
			}
		}
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, fmt.Errorf("plots: %s: %w", f.Title, err)
		}
		c := plotutil.Color(s.Group)
		line.Color, line.Width = c, vg.Points(1.5)
		points.Color, points.Shape = c, plotutil.Shape(s.Group)
		if s.Dashed {
			line.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			points.Shape = draw.CrossGlyph{}
		}
		p.Add(line, points)
		legend.Add(s.Label, line, points)
	}
	if f.IntegerX {
		p.X.Tick.Marker = integerTicks{}
	}
	if len(f.XTicks) > 0 {
		ticks := make([]plot.Tick, len(f.XTicks))
		for i, v := range f.XTicks {
			ticks[i] = plot.Tick{Value: v, Label: fmt.Sprintf("%g", v)}
		}
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
		p.X.Min, p.X.Max = f.XTicks[0]-0.2, f.XTicks[len(f.XTicks)-1]+0.2
	}
	if f.YMax > f.YMin {
		p.Y.Min, p.Y.Max = f.YMin, f.YMax
	}
	if f.LogY || (f.LogWide && wide(f.Series)) {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
		p.Y.Label.Text += " (log scale)"
	}
	var paths []string
	for _, ext := range Formats {
		path := base + "." + ext
		c, err := canvas(ext)
		if err == nil {
			draw2(p, legend, c)
			err = atomicfile.Write(path, func(w io.Writer) error { _, err := c.WriteTo(w); return err })
		}
		if err != nil {
			return paths, fmt.Errorf("plots: %s: %w", filepath.Base(path), err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// wide says whether the series' finite y values are all positive and span
// more than WideRange.
func wide(series []Series) bool {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for _, y := range s.Y {
			if math.IsNaN(y) || math.IsInf(y, 0) {
				continue
			}
			if y <= 0 {
				return false
			}
			lo, hi = min(lo, y), max(hi, y)
		}
	}
	return hi > WideRange*lo
}

// canvasWriter is a canvas that writes itself as a file.
type canvasWriter interface {
	vg.CanvasSizer
	io.WriterTo
}

func canvas(ext string) (canvasWriter, error) {
	switch ext {
	case "png":
		return vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(Size.W, Size.H), vgimg.UseDPI(96))}, nil
	case "svg":
		return vgsvg.New(Size.W, Size.H), nil
	}
	return nil, fmt.Errorf("unknown format %q", ext)
}

// draw2 draws the legend in a column on the right, outside the data, and
// the plot in the rest of the canvas.
func draw2(p *plot.Plot, legend plot.Legend, c vg.CanvasSizer) {
	dc := draw.New(c)
	r := legend.Rectangle(dc)
	width := r.Max.X - r.Min.X
	legend.YOffs = -p.Title.TextStyle.FontExtents().Height - vg.Points(6)
	legend.Draw(dc)
	p.Draw(draw.Crop(dc, 0, -width-vg.Points(8), 0, 0))
}

// logTicks marks a log axis at powers of ten when it spans more than a
// decade, and at plot's usual round numbers within one (where powers of ten
// would leave it unlabelled).
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	if max > 10*min {
		return plot.LogTicks{Prec: -1}.Ticks(min, max)
	}
	var out []plot.Tick
	for _, t := range (plot.DefaultTicks{}).Ticks(min, max) {
		if t.Value > 0 {
			out = append(out, t)
		}
	}
	return out
}

// integerTicks marks whole numbers only (epochs), at most about ten.
type integerTicks struct{}

func (integerTicks) Ticks(min, max float64) []plot.Tick {
	lo, hi := math.Ceil(min), math.Floor(max)
	step := math.Max(1, math.Ceil((hi-lo)/10))
	var out []plot.Tick
	for v := lo; v <= hi; v += step {
		out = append(out, plot.Tick{Value: v, Label: fmt.Sprintf("%g", v)})
	}
	return out
}
