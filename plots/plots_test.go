package plots

import (
	"bytes"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSaveWritesPNGAndSVG: a figure becomes a decodable PNG of the set size
// and an SVG holding its title, axis labels and legend; bad series are
// refused.
func TestSaveWritesPNGAndSVG(t *testing.T) {
	base := filepath.Join(t.TempDir(), "losses")
	f := Figure{Title: "Test losses per epoch", XLabel: "epoch", YLabel: "cross-entropy",
		Series: []Series{
			{Label: "bn clean", X: []float64{0, 1, 2}, Y: []float64{2.3, 1.9, 1.7}},
			{Label: "bn adv", X: []float64{0, 1, 2}, Y: []float64{2.4, 2.2, 2.1}, Dashed: true},
			{Label: "saauxbn clean", X: []float64{0, 1, 2}, Y: []float64{2.2, 1.8, 1.6}, Group: 1},
		}}
	paths, err := Save(f, base)
	require.NoError(t, err)
	require.Equal(t, []string{base + ".png", base + ".svg"}, paths)
	raw, err := os.ReadFile(base + ".png")
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(raw))
	require.NoError(t, err)
	assert.Equal(t, 9*96, img.Bounds().Dx(), "9 inches at 96 dpi")
	svg, err := os.ReadFile(base + ".svg")
	require.NoError(t, err)
	for _, want := range []string{"Test losses per epoch", "cross-entropy", "epoch", "saauxbn clean"} {
		assert.True(t, bytes.Contains(svg, []byte(want)), want)
	}
	_, err = Save(Figure{Title: "empty"}, base)
	assert.ErrorContains(t, err, "nothing to draw")
	_, err = Save(Figure{Title: "bad", Series: []Series{{Label: "x", X: []float64{1}, Y: nil}}}, base)
	assert.ErrorContains(t, err, `series "x" has 1 x and 0 y values`)
}

// TestLogWide: a loss figure whose values span more than WideRange switches
// to a log y axis (and says so on the axis), one within it or with a zero
// does not.
func TestLogWide(t *testing.T) {
	trained := Series{Label: "clean", X: []float64{0, 1}, Y: []float64{2.3, 1.7}}
	untrained := Series{Label: "adv (untrained)", X: []float64{0, 1}, Y: []float64{8.1e5, math.NaN()}, Dashed: true}
	assert.False(t, wide([]Series{trained}))
	assert.True(t, wide([]Series{trained, untrained}))
	assert.False(t, wide([]Series{trained, {X: []float64{0}, Y: []float64{0}}, untrained}), "a zero has no logarithm")
	assert.False(t, wide([]Series{{X: []float64{0, 1}, Y: []float64{1, 100}}}), "exactly WideRange stays linear")
	dir := t.TempDir()
	for _, c := range []struct {
		name   string
		series []Series
		log    bool
	}{{"narrow", []Series{trained}, false}, {"wide", []Series{trained, untrained}, true}} {
		f := Figure{Title: "losses", XLabel: "epoch", YLabel: "cross-entropy", Series: c.series, LogWide: true}
		_, err := Save(f, filepath.Join(dir, c.name))
		require.NoError(t, err)
		svg, err := os.ReadFile(filepath.Join(dir, c.name+".svg"))
		require.NoError(t, err)
		assert.Equal(t, c.log, bytes.Contains(svg, []byte("cross-entropy (log scale)")), c.name)
	}
}

// TestBand: a series with Low and High fills its band translucently (the
// one fill with an opacity in the SVG), on a forced log axis; a band of
// another length than X is refused.
func TestBand(t *testing.T) {
	dir := t.TempDir()
	line := Series{Label: "bn clean", X: []float64{0, 10, 20}, Y: []float64{2.3, 1.9, 1.7}}
	banded := line
	banded.Low, banded.High = []float64{2.0, 1.5, math.NaN()}, []float64{2.6, 2.4, 2.0}
	count := func(s Series) int {
		base := filepath.Join(dir, s.Label)
		_, err := Save(Figure{Title: "loss range", LogY: true, Series: []Series{s}}, base)
		require.NoError(t, err)
		svg, err := os.ReadFile(base + ".svg")
		require.NoError(t, err)
		assert.True(t, bytes.Contains(svg, []byte("(log scale)")))
		return bytes.Count(svg, []byte("fill-opacity:0.25"))
	}
	assert.Equal(t, 0, count(line))
	banded.Label = "banded"
	assert.Equal(t, 1, count(banded))
	banded.High = banded.High[:2]
	_, err := Save(Figure{Title: "bad band", Series: []Series{banded}}, filepath.Join(dir, "bad"))
	assert.ErrorContains(t, err, `series "banded" has 3 x values and a band of 3 low and 2 high`)
}
