package plots

import (
	"bytes"
	"image/png"
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
