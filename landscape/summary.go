package landscape

import (
	"math"

	"github.com/advbench/advbench/internal/stats"
)

// PassSummary condenses one pass (an input on a branch) of a run's lines:
// medians over the probes, the loss span early (the first half of the
// probes) and late (the second half) in training.
type PassSummary struct {
	Input  string `json:"input"`
	Branch string `json:"branch"`
	Probes int    `json:"probes"`
	// LossSpanEarly and LossSpanLate are the medians of max − min of
	// L(w − η·g) over the first and the second half of the probes.
	LossSpanEarly float64 `json:"loss_span_early"`
	LossSpanLate  float64 `json:"loss_span_late"`
	// GradNorm is the median of ‖g‖₂, the gradient the probes move along:
	// for small steps the loss span grows as η·‖g‖².
	GradNorm float64 `json:"grad_norm"`
	// GradChangeMax is the median of the largest ‖∇L(w − η·g) − g‖₂.
	GradChangeMax float64 `json:"grad_change_max"`
	// Beta is the median effective β-smoothness.
	Beta float64 `json:"beta"`
	// NonFinite counts the grid points left out of the ranges (all probes).
	NonFinite int `json:"non_finite"`
}

// LossSpan is the width max − min of a probe's loss range (NaN when the
// range is not finite).
func LossSpan(r Result) float64 { return float64(r.LossRange.Max) - float64(r.LossRange.Min) }

// Summarize condenses each pass of the lines (the passes of the first
// line, matched by position). None for no lines.
func Summarize(lines []Line) []PassSummary {
	if len(lines) == 0 {
		return nil
	}
	var out []PassSummary
	for k, p := range lines[0].Probes {
		s := PassSummary{Input: p.Input, Branch: p.Branch}
		var spans, norms, grads, betas []float64
		for _, l := range lines {
			if k >= len(l.Probes) {
				continue
			}
			q := l.Probes[k]
			spans = append(spans, LossSpan(q))
			norms = append(norms, q.GradNorm)
			grads = append(grads, float64(q.GradChangeRange.Max))
			betas = append(betas, float64(q.Beta))
			s.NonFinite += q.NonFinite
		}
		s.Probes = len(spans)
		half := (len(spans) + 1) / 2
		s.LossSpanEarly, s.LossSpanLate = finiteMedian(spans[:half]), finiteMedian(spans[half:])
		s.GradNorm, s.GradChangeMax, s.Beta = finiteMedian(norms), finiteMedian(grads), finiteMedian(betas)
		out = append(out, s)
	}
	return out
}

// finiteMedian is the median of the finite values (NaN for none).
func finiteMedian(xs []float64) float64 {
	var f []float64
	for _, x := range xs {
		if finite(x) {
			f = append(f, x)
		}
	}
	return stats.Median(f)
}

// Paired compares two runs probed at the same global steps: at how many of
// the steps both probed (with a finite metric for the pass) a's metric of
// pass k is below b's.
func Paired(a, b []Line, k int, metric func(Result) float64) (below, common int) {
	at := map[int]float64{}
	for _, l := range b {
		if k < len(l.Probes) {
			if v := metric(l.Probes[k]); finite(v) {
				at[l.GlobalStep] = v
			}
		}
	}
	for _, l := range a {
		if k >= len(l.Probes) {
			continue
		}
		w, ok := at[l.GlobalStep]
		v := metric(l.Probes[k])
		if !ok || !finite(v) {
			continue
		}
		common++
		if v < w {
			below++
		}
	}
	return below, common
}

// BranchGap is, for a run with two passes (the clean loss on the clean
// branch and the adversarial loss on the adversarial one), the median over
// its probes of |ln(metric of pass 1 / metric of pass 0)|: 0 when the two
// branches' landscapes agree, ln 2 when one is twice the other. NaN for a
// one-pass run or no finite positive pair.
func BranchGap(lines []Line, metric func(Result) float64) float64 {
	var gaps []float64
	for _, l := range lines {
		if len(l.Probes) < 2 {
			continue
		}
		a, b := metric(l.Probes[0]), metric(l.Probes[1])
		if a > 0 && b > 0 && finite(a) && finite(b) {
			gaps = append(gaps, math.Abs(math.Log(b/a)))
		}
	}
	return stats.Median(gaps)
}
