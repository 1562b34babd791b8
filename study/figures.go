package study

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"

	"github.com/advbench/advbench/landscape"
	"github.com/advbench/advbench/plots"
	"github.com/advbench/advbench/reports"
	"github.com/advbench/advbench/results"
)

// Figure names (file base names) and what they show.
const (
	FigLosses   = "losses"    // the paper's Fig. 6: test clean and adversarial loss per epoch
	FigAccuracy = "accuracy"  // validation SA and RA per epoch
	FigGradStd  = "gradstats" // the supplement's Fig. 5: std of the two gradient norms per stage
	FigGradCos  = "gradcos"   // cosine of the two gradients per stage
	FigSweep    = "sweep"     // robust accuracy against eps

	// The loss landscape along the gradient (Santurkar et al. 2018), from
	// landscape.jsonl: per probed step, min–max bands on a log axis.
	FigLandscapeLoss     = "landscape-loss"       // the range of L(w − η·g)
	FigLandscapeGrad     = "landscape-gradchange" // the range of ‖∇L(w − η·g) − g‖
	FigLandscapeBeta     = "landscape-beta"       // the effective β-smoothness
	FigLandscapeDistance = "landscape-distance"   // ‖W − W_0‖ per stage at the last probe
)

// Figures builds every figure the runs have data for, by name: a line per
// run, except the gradient statistics, drawn as their table
// (GradFigures).
func Figures(runs []*Run) (map[string]plots.Figure, error) {
	names := labels(runs)
	figs := map[string]plots.Figure{}
	losses := plots.Figure{Title: "Test loss per epoch (Fig. 6)",
		XLabel: "epoch (0-based)", YLabel: "cross-entropy (nats)", IntegerX: true, LogWide: true}
	acc := plots.Figure{Title: "Validation accuracy per epoch (evaluation mode)", XLabel: "epoch (0-based)", YLabel: "accuracy (fraction)", YMin: 0, YMax: 1, IntegerX: true}
	for i, r := range runs {
		if len(r.Log) == 0 {
			continue
		}
		var ep, lc, la, sa, ra []float64
		for _, e := range r.Log {
			ep = append(ep, float64(e.Epoch))
			if e.Test == nil { // no test set: the loss figure has a gap
				lc, la = append(lc, math.NaN()), append(la, math.NaN())
			} else {
				lc, la = append(lc, e.Test.Clean), append(la, e.Test.Adv)
			}
			sa = append(sa, e.Val.Clean.SA)
			ra = append(ra, e.Val.Adv.RA)
		}
		steps := r.Record.Config.EvalSteps
		losses.Series = append(losses.Series,
			plots.Series{Label: names[i] + ": L(f_clean(x))", X: ep, Y: lc, Group: i},
			plots.Series{Label: names[i] + ": L(f_adv(x_adv))", X: ep, Y: la, Group: i, Dashed: true})
		acc.Series = append(acc.Series,
			plots.Series{Label: names[i] + ": SA, clean branch", X: ep, Y: sa, Group: i},
			plots.Series{Label: fmt.Sprintf("%s: PGD-%d RA, adv branch", names[i], steps), X: ep, Y: ra, Group: i, Dashed: true})
	}
	if len(losses.Series) > 0 {
		figs[FigLosses], figs[FigAccuracy] = losses, acc
	}
	var grads []*results.GradStats
	for _, r := range runs {
		if r.GradStats != nil {
			grads = append(grads, r.GradStats)
		}
	}
	if len(grads) > 0 {
		rep, err := reports.BuildGrad(reports.GradSources(grads))
		if err != nil {
			return nil, err
		}
		for n, f := range GradFigures(rep) {
			figs[n] = f
		}
	}
	sw := plots.Figure{Title: "Robust accuracy against eps (eval mode, white-box)",
		XLabel: "eps (/255)", YLabel: "robust accuracy (fraction)", YMin: 0, YMax: 1}
	for i, r := range runs {
		sweeps := append([]*results.Sweep(nil), r.Sweeps...)
		sort.Slice(sweeps, func(a, b int) bool { return sweeps[a].Branch < sweeps[b].Branch })
		for _, s := range sweeps {
			var x, y []float64
			for _, p := range s.Points {
				x = append(x, p.Eps*255)
				y = append(y, p.Accuracy)
			}
			label := names[i]
			if s.Branch != results.BranchShared {
				label += " (" + s.Branch + ")"
			}
			sw.Series = append(sw.Series, plots.Series{Label: label + ", " + s.Attack, X: x, Y: y, Group: i, Dashed: s.Branch == results.BranchClean})
		}
	}
	if len(sw.Series) > 0 {
		figs[FigSweep] = sw
	}
	for n, f := range LandscapeFigures(runs, names) {
		figs[n] = f
	}
	return figs, nil
}

// LandscapeFigures draws the runs' landscape lines (labels name the runs):
// per probed global step, the loss range and the gradient-change range as
// bands (the line is L(w), and the largest change), the effective
// β-smoothness, each on a log axis, a colour per run, the adversarial pass
// dashed; and ‖W − W_0‖ per stage at each run's last probe. None without
// lines.
func LandscapeFigures(runs []*Run, labels []string) map[string]plots.Figure {
	loss := plots.Figure{Title: "Loss along the gradient: range of L(w − η·g) per step (Santurkar et al. Fig. 4a)",
		XLabel: "training step", YLabel: "cross-entropy (nats)", LogY: true}
	grad := plots.Figure{Title: "Gradient predictiveness: range of ‖∇L(w − η·g) − g‖ per step (Fig. 4b)",
		XLabel: "training step", YLabel: "ℓ2 change of the gradient", LogY: true}
	beta := plots.Figure{Title: "Effective β-smoothness per step (Fig. 4c)",
		XLabel: "training step", YLabel: "max ‖∇L(w − η·g) − g‖ / ‖η·g‖", LogY: true}
	dist := plots.Figure{Title: "Distance from initialisation per stage at the last probed step",
		XLabel: "stage (0 stem, 1-4 layer1-4, 5 classifier)", YLabel: "‖W − W_0‖₂"}
	for i, r := range runs {
		if len(r.Landscape) == 0 {
			continue
		}
		for k, p := range r.Landscape[0].Probes {
			var x, l, lmin, lmax, gmin, gmax, b []float64
			for _, line := range r.Landscape {
				if k >= len(line.Probes) {
					continue
				}
				q := line.Probes[k]
				x = append(x, float64(line.GlobalStep))
				l, b = append(l, q.Loss), append(b, float64(q.Beta))
				lmin, lmax = append(lmin, float64(q.LossRange.Min)), append(lmax, float64(q.LossRange.Max))
				gmin, gmax = append(gmin, float64(q.GradChangeRange.Min)), append(gmax, float64(q.GradChangeRange.Max))
			}
			label := fmt.Sprintf("%s: %s loss, %s branch", labels[i], p.Input, p.Branch)
			dashed := p.Input != "clean"
			loss.Series = append(loss.Series, plots.Series{Label: label, X: x, Y: l, Low: lmin, High: lmax, Group: i, Dashed: dashed})
			grad.Series = append(grad.Series, plots.Series{Label: label, X: x, Y: gmax, Low: gmin, High: gmax, Group: i, Dashed: dashed})
			beta.Series = append(beta.Series, plots.Series{Label: label, X: x, Y: b, Group: i, Dashed: dashed})
		}
		last := r.Landscape[len(r.Landscape)-1]
		var x, y []float64
		for s, d := range last.Distance {
			if d.Stage == landscape.AllStages {
				continue
			}
			x, y = append(x, float64(s)), append(y, d.Distance)
		}
		dist.Series = append(dist.Series, plots.Series{Label: fmt.Sprintf("%s (step %d)", labels[i], last.GlobalStep), X: x, Y: y, Group: i})
		if len(dist.XTicks) < len(x) {
			dist.XTicks = x
		}
	}
	if len(loss.Series) == 0 {
		return map[string]plots.Figure{}
	}
	return map[string]plots.Figure{FigLandscapeLoss: loss, FigLandscapeGrad: grad, FigLandscapeBeta: beta, FigLandscapeDistance: dist}
}

// GradFigures draws the gradient table: the std of the two norms and the
// cosine of the two gradients per stage, a line per column (a model, its
// seeds pooled as the table pools them; none without a table).
func GradFigures(rep *reports.GradReport) map[string]plots.Figure {
	if rep == nil || len(rep.Columns) == 0 {
		return map[string]plots.Figure{}
	}
	stages := []float64{1, 2, 3, 4}
	std := plots.Figure{Title: "Gradient balance per stage (supp. Fig. 5; lower = more balanced)",
		XLabel: "stage (its last convolution)", YLabel: "std of the clean and adversarial gradient norms", XTicks: stages}
	cos := plots.Figure{Title: "Gradient direction per stage",
		XLabel: "stage (its last convolution)", YLabel: "cosine of the clean and adversarial gradients", XTicks: stages, YMin: -1, YMax: 1}
	for i, label := range rep.Columns {
		var x, s, c []float64
		for _, row := range rep.Rows {
			x = append(x, float64(row.Stage))
			s = append(s, row.Cells[i].NormStd.Mean)
			c = append(c, row.Cells[i].Cosine.Mean)
		}
		std.Series = append(std.Series, plots.Series{Label: label, X: x, Y: s, Group: i})
		cos.Series = append(cos.Series, plots.Series{Label: label, X: x, Y: c, Group: i})
	}
	return map[string]plots.Figure{FigGradStd: std, FigGradCos: cos}
}

// WritePlots saves every figure the runs have data for into dir, as PNG and
// SVG, and returns the paths written.
func WritePlots(runs []*Run, dir string) ([]string, error) {
	figs, err := Figures(runs)
	if err != nil {
		return nil, err
	}
	if len(figs) == 0 {
		return nil, fmt.Errorf("study: the runs hold nothing to plot (no log, gradient statistics or sweep)")
	}
	var names []string
	for n := range figs {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []string
	for _, n := range names {
		paths, err := plots.Save(figs[n], filepath.Join(dir, n))
		out = append(out, paths...)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}
