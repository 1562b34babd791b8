package landscape

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// line is a two-pass landscape line at a global step: the clean pass with
// loss range [lo, hi] and β beta, the adversarial pass with twice the
// span and β·ratio.
func line(step int, lo, hi, beta, ratio float64) Line {
	return Line{Schema: Schema, GlobalStep: step, Probes: []Result{
		{Input: "clean", Branch: "clean", GradNorm: 2 * beta, LossRange: Range{Num(lo), Num(hi)}, GradChangeRange: Range{0, Num(10 * beta)}, Beta: Num(beta)},
		{Input: "adversarial", Branch: "adv", LossRange: Range{Num(lo), Num(lo + 2*(hi-lo))}, GradChangeRange: Range{0, 1}, Beta: Num(beta * ratio), NonFinite: 1},
	}}
}

// TestSummarize: medians by hand over the first and second halves.
func TestSummarize(t *testing.T) {
	lines := []Line{line(0, 1, 4, 1, 2), line(8, 1, 2, 3, 2), line(16, 1, 1.5, 2, 2), line(24, 1, 1.1, 5, 2), line(32, 1, 1.3, 4, 2)}
	s := Summarize(lines)
	require.Len(t, s, 2)
	c := s[0]
	assert.Equal(t, "clean", c.Input)
	assert.Equal(t, 5, c.Probes)
	// spans 3, 1, 0.5 | 0.1, 0.3: early median 1, late median 0.2.
	assert.InDelta(t, 1.0, c.LossSpanEarly, 1e-12)
	assert.InDelta(t, 0.2, c.LossSpanLate, 1e-12)
	assert.InDelta(t, 3.0, c.Beta, 1e-12, "median of 1, 3, 2, 5, 4")
	assert.InDelta(t, 30.0, c.GradChangeMax, 1e-12)
	assert.InDelta(t, 6.0, c.GradNorm, 1e-12, "median of 2, 6, 4, 10, 8")
	assert.InDelta(t, 2.0, s[1].LossSpanEarly, 1e-12)
	assert.Equal(t, 5, s[1].NonFinite)
	assert.Nil(t, Summarize(nil))
}

// TestPaired counts only the steps both runs probed, with finite values.
func TestPaired(t *testing.T) {
	a := []Line{line(0, 1, 2, 1, 1), line(8, 1, 1.2, 1, 1), line(16, 1, 5, 1, 1), line(24, 1, 1.5, 1, 1), line(99, 1, 1.1, 1, 1)}
	b := []Line{line(0, 1, 3, 1, 1), line(8, 1, 1.1, 1, 1), line(16, 1, 6, 1, 1), line(24, 1, 2, 1, 1)}
	b[2].Probes[0].LossRange.Max = Num(math.NaN())
	below, common := Paired(a, b, 0, LossSpan)
	assert.Equal(t, 3, common, "steps 0, 8 and 24: 16 is not finite in b, 99 not probed in b")
	assert.Equal(t, 2, below, "step 0: 1 < 2; step 8: 0.2 > 0.1; step 24: 0.5 < 1")
}

// TestBranchGap: |ln(β_adv/β_clean)| is ln 2 at every probe when the
// adversarial pass's β is twice the clean one's, 0 when equal.
func TestBranchGap(t *testing.T) {
	beta := func(r Result) float64 { return float64(r.Beta) }
	assert.InDelta(t, math.Log(2), BranchGap([]Line{line(0, 1, 2, 1, 2), line(8, 1, 2, 3, 0.5)}, beta), 1e-12)
	assert.InDelta(t, 0, BranchGap([]Line{line(0, 1, 2, 1, 1)}, beta), 1e-12)
	assert.InDelta(t, math.Log(2), BranchGap([]Line{line(0, 1, 2, 1, 1)}, LossSpan), 1e-12, "the adversarial span is twice the clean one")
	one := line(0, 1, 2, 1, 1)
	one.Probes = one.Probes[:1]
	assert.True(t, math.IsNaN(BranchGap([]Line{one}, beta)))
}
