package study

import (
	"bytes"
	"math"
	"testing"

	"github.com/advbench/advbench/landscape"
	"github.com/advbench/advbench/train"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// probeLine is a landscape line of two passes at a global step.
func probeLine(step int, lossLo, lossHi float64) landscape.Line {
	r := func(input, branch string, shift float64) landscape.Result {
		return landscape.Result{Input: input, Branch: branch, Loss: lossHi - 0.1 + shift,
			LossRange:       landscape.Range{Min: landscape.Num(lossLo + shift), Max: landscape.Num(lossHi + shift)},
			GradChangeRange: landscape.Range{Min: 0.5, Max: 2},
			Beta:            landscape.Num(3 + shift)}
	}
	return landscape.Line{Schema: landscape.Schema, GlobalStep: step,
		Distance: []landscape.Distance{{Stage: "conv1", Distance: 1}, {Stage: "layer1", Distance: 2}, {Stage: landscape.AllStages, Distance: math.Sqrt(5)}},
		Probes:   []landscape.Result{r("clean", "clean", 0), r("adversarial", "adv", 1)}}
}

// TestLandscapeFigures: each run's passes become a banded series per
// figure, x the global steps, the bands the lines' ranges; the distance
// figure has the last line's stages (not the total); runs without lines
// draw nothing.
func TestLandscapeFigures(t *testing.T) {
	bn := &Run{Record: train.Record{Config: train.Config{Norm: "bn", Objective: "advprop"}},
		Landscape: []landscape.Line{probeLine(0, 2.0, 2.5), probeLine(12, 1.5, 1.8)}}
	none := &Run{Record: train.Record{Config: train.Config{Norm: "saauxbn", Objective: "advprop"}}}
	figs, err := Figures([]*Run{bn, none})
	require.NoError(t, err)
	require.Contains(t, figs, FigLandscapeLoss)
	loss := figs[FigLandscapeLoss]
	assert.True(t, loss.LogY)
	require.Len(t, loss.Series, 2, "the clean and the adversarial pass of the one run with lines")
	clean, adv := loss.Series[0], loss.Series[1]
	assert.Equal(t, []float64{0, 12}, clean.X)
	assert.Equal(t, []float64{2.0, 1.5}, clean.Low)
	assert.Equal(t, []float64{2.5, 1.8}, clean.High)
	assert.Equal(t, []float64{3.0, 2.5}, adv.Low)
	assert.False(t, clean.Dashed)
	assert.True(t, adv.Dashed)
	assert.Contains(t, adv.Label, "adversarial loss, adv branch")
	assert.Equal(t, []float64{4, 4}, figs[FigLandscapeBeta].Series[1].Y)
	assert.Equal(t, []float64{0.5, 0.5}, figs[FigLandscapeGrad].Series[0].Low)
	dist := figs[FigLandscapeDistance]
	require.Len(t, dist.Series, 1)
	assert.Equal(t, []float64{1, 2}, dist.Series[0].Y, "per stage, without the total")
	assert.Contains(t, dist.Series[0].Label, "step 12")

	figs, err = Figures([]*Run{none})
	require.NoError(t, err)
	assert.NotContains(t, figs, FigLandscapeLoss)
}

// TestLandscapeMarkdown: the report's landscape section from hand-made
// lines: the medians per pass, the comparison with `none` at the common
// steps, and the branch gap |ln(4/3)| of β (the adversarial pass's β is 4,
// the clean one's 3; their spans are equal).
func TestLandscapeMarkdown(t *testing.T) {
	run := func(norm string, lines ...landscape.Line) *Run {
		return &Run{Record: train.Record{Config: train.Config{Norm: norm, Objective: "advprop", Seed: 1}}, Landscape: lines}
	}
	none := run("none", probeLine(0, 2, 4), probeLine(12, 1, 3), probeLine(24, 1, 2))
	bn := run("bn", probeLine(0, 2, 2.5), probeLine(12, 1, 3.5), probeLine(24, 1, 1.5), probeLine(36, 1, 1.1))
	var b bytes.Buffer
	landscapeMarkdown(&b, []*Run{none, bn, run("saauxbn")})
	md := b.String()
	t.Log(md)
	assert.Contains(t, md, "## Loss landscape")
	// bn's clean spans 0.5, 2.5 | 0.5, 0.1: early median 1.5, late 0.3.
	assert.Contains(t, md, "clean loss, clean branch | 4 | 1.5 | 0.3 | 0 | 2 | 3 | 2.236 |", "probeLine has no gradient norm")
	assert.Contains(t, md, "| 3 | 2 of 3 (67%) | 0 of 3 (0%) |", "steps 0, 12, 24: spans 0.5<2, 2.5>2, 0.5<1; β equal")
	assert.Contains(t, md, "| BN | clean / adv | 0.000 | 0.288 |")
	assert.NotContains(t, md, "SaAuxBN", "a run without lines has no row")

	b.Reset()
	landscapeMarkdown(&b, []*Run{run("bn")})
	assert.Empty(t, b.String(), "nothing without lines")
}
