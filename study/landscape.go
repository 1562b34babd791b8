package study

import (
	"bytes"
	"fmt"
	"math"

	"github.com/advbench/advbench/landscape"
)

// LandscapeNorms are the norms `reproduce --landscape` always studies: no
// normalization, BN, and the two dual-branch norms whose branches the
// paper compares.
var LandscapeNorms = []string{"none", "bn", "auxbn", "saauxbn"}

// landscapeMarkdown writes report.md's landscape section: per run and
// pass the medians of the probes; against the `none` run (when there is
// one), at how many common probed steps each run's clean-pass loss span
// and β are smaller; for two-pass runs, how far the branches' landscapes
// differ. Nothing when no run has landscape lines.
func landscapeMarkdown(b *bytes.Buffer, runs []*Run) {
	names := labels(runs)
	var none *Run
	any := false
	for _, r := range runs {
		if len(r.Landscape) > 0 {
			any = true
			if r.Record.Config.Norm == "none" && none == nil {
				none = r
			}
		}
	}
	if !any {
		return
	}
	b.WriteString("\n## Loss landscape\n\n")
	b.WriteString("Probes along each probed step's own gradient g over η in multiples of the learning rate (landscape.jsonl; Santurkar et al. 2018). " +
		"Loss span: max − min of L(w − η·g), median over the first and the second half of the probes; " +
		"‖g‖: median gradient norm (for small steps the span grows as η·‖g‖²); gradient change: median of the largest ‖∇L(w − η·g) − g‖; β: median effective β-smoothness; ‖W − W0‖ at the last probe.\n\n")
	b.WriteString("| run | pass | probes | loss span, early | loss span, late | ‖g‖ | gradient change | β | ‖W − W0‖ |\n|---|---|---|---|---|---|---|---|---|\n")
	for i, r := range runs {
		if len(r.Landscape) == 0 {
			continue
		}
		dist := math.NaN()
		for _, d := range r.Landscape[len(r.Landscape)-1].Distance {
			if d.Stage == landscape.AllStages {
				dist = d.Distance
			}
		}
		for _, s := range landscape.Summarize(r.Landscape) {
			nf := ""
			if s.NonFinite > 0 {
				nf = fmt.Sprintf(" (%d grid points not finite)", s.NonFinite)
			}
			fmt.Fprintf(b, "| %s | %s loss, %s branch | %d%s | %.4g | %.4g | %.4g | %.4g | %.4g | %.4g |\n",
				names[i], s.Input, s.Branch, s.Probes, nf, s.LossSpanEarly, s.LossSpanLate, s.GradNorm, s.GradChangeMax, s.Beta, dist)
		}
	}
	beta := func(r landscape.Result) float64 { return float64(r.Beta) }
	if none != nil {
		b.WriteString("\nAgainst no normalization, clean pass (the first pass of each run), at the steps both runs probed: " +
			"how often this run's loss span and β are below `none`'s.\n\n| run | steps compared | loss span below none's | β below none's |\n|---|---|---|---|\n")
		for i, r := range runs {
			if r == none || len(r.Landscape) == 0 {
				continue
			}
			sb, sc := landscape.Paired(r.Landscape, none.Landscape, 0, landscape.LossSpan)
			bb, bc := landscape.Paired(r.Landscape, none.Landscape, 0, beta)
			fmt.Fprintf(b, "| %s | %d | %s | %s |\n", names[i], max(sc, bc), ofCount(sb, sc), ofCount(bb, bc))
		}
	}
	header := false
	for i, r := range runs {
		if len(r.Landscape) == 0 || len(r.Landscape[0].Probes) < 2 {
			continue
		}
		if !header {
			b.WriteString("\nBranch heterogeneity: median over the probes of |ln(adversarial pass / clean pass)| " +
				"(0: the two passes' landscapes agree; ln 2 = 0.69: one is twice the other). A single-branch norm's two passes share its one network and differ in the input only.\n\n| run | branches | loss span | β |\n|---|---|---|---|\n")
			header = true
		}
		p := r.Landscape[0].Probes
		fmt.Fprintf(b, "| %s | %s / %s | %.3f | %.3f |\n", names[i], p[0].Branch, p[1].Branch, landscape.BranchGap(r.Landscape, landscape.LossSpan), landscape.BranchGap(r.Landscape, beta))
	}
}

// ofCount renders k of n with the percentage.
func ofCount(k, n int) string {
	if n == 0 {
		return "—"
	}
	return fmt.Sprintf("%d of %d (%.0f%%)", k, n, 100*float64(k)/float64(n))
}
