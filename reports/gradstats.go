package reports

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/advbench/advbench/internal/stats"
	"github.com/advbench/advbench/internal/texttable"
	"github.com/advbench/advbench/results"
)

// GradSource is one model's gradient statistics and its column label.
type GradSource struct {
	Label string
	Stats *results.GradStats
}

// GradReport is the gradient table: one row per stage, one column per
// model.
type GradReport struct {
	Columns []string  `json:"columns"`
	Rows    []GradRow `json:"rows"`
	Caption string    `json:"caption"`
}

// GradRow is one stage.
type GradRow struct {
	Stage int        `json:"stage"`
	Param string     `json:"param"`
	Cells []GradCell `json:"cells"`
}

// GradCell is one model's numbers for a stage: means and standard
// deviations over batches.
type GradCell struct {
	NormStd   results.MeanStd `json:"norm_std"`
	Cosine    results.MeanStd `json:"cosine"`
	CleanNorm float64         `json:"clean_norm"`
	AdvNorm   float64         `json:"adv_norm"`
}

// GradSources labels gradient statistics for the gradient table and its
// figures, by the one rule every caller uses: the norm as the paper spells
// it (DisplayName), followed by the training objective when the
// statistics given differ in it. The training seed is never part of a
// label, so the seeds of one model share a column (BuildGrad: the mean of
// their means ± the spread over them), as Tables 3 and 4 pool seeds.
func GradSources(all []*results.GradStats) []GradSource {
	objectives := map[string]bool{}
	for _, g := range all {
		objectives[g.Model.Objective] = true
	}
	out := make([]GradSource, len(all))
	for i, g := range all {
		label := DisplayName(g.Model.Norm)
		if len(objectives) > 1 && g.Model.Objective != "" {
			label += " " + g.Model.Objective
		}
		out[i] = GradSource{Label: label, Stats: g}
	}
	return out
}

// BuildGrad assembles the gradient table; every source must cover the same
// stages. Sources with the same label (several seeds of one norm) share a
// column: the mean of their means, ± the standard deviation over them
// (over batches for a single source).
func BuildGrad(srcs []GradSource) (*GradReport, error) {
	if len(srcs) == 0 {
		return nil, fmt.Errorf("reports: no gradient statistics")
	}
	g := &GradReport{}
	first := srcs[0].Stats
	for _, st := range first.Stages {
		g.Rows = append(g.Rows, GradRow{Stage: st.Stage, Param: st.Param})
	}
	groups := map[string][]*results.GradStats{}
	for _, s := range srcs {
		if len(s.Stats.Stages) != len(first.Stages) {
			return nil, fmt.Errorf("reports: %s has %d stages, %s %d", s.Label, len(s.Stats.Stages), srcs[0].Label, len(first.Stages))
		}
		for i, st := range s.Stats.Stages {
			if st.Param != g.Rows[i].Param {
				return nil, fmt.Errorf("reports: %s stage %d is %s, %s's is %s", s.Label, st.Stage, st.Param, srcs[0].Label, g.Rows[i].Param)
			}
		}
		if groups[s.Label] == nil {
			g.Columns = append(g.Columns, s.Label)
		}
		groups[s.Label] = append(groups[s.Label], s.Stats)
	}
	seeds := false
	for _, label := range g.Columns {
		runs := groups[label]
		seeds = seeds || len(runs) > 1
		for i := range g.Rows {
			g.Rows[i].Cells = append(g.Rows[i].Cells, gradCell(runs, i))
		}
	}
	spread := "mean ± std over batches"
	if seeds {
		spread = "mean ± std over batches for one run, over the seeds' means for several"
	}
	g.Caption = fmt.Sprintf("Per stage, the last convolution's gradients of the clean loss (clean branch, clean inputs) and of the adversarial loss (adversarial branch, %s inputs, %s-mode attack), in training mode, over %d batches of %d test images: std of the two L2 norms (lower = more balanced; %s) and their cosine similarity.",
		strings.ToUpper(first.Attack.Name), first.AttackMode, first.Batches, first.Batch, spread)
	return g, nil
}

// gradCell summarises stage i over one or several runs.
func gradCell(runs []*results.GradStats, i int) GradCell {
	if len(runs) == 1 {
		st := runs[0].Stages[i]
		return GradCell{NormStd: st.NormStd, Cosine: st.Cosine, CleanNorm: st.CleanNorm.Mean, AdvNorm: st.AdvNorm.Mean}
	}
	var std, cos, clean, adv []float64
	for _, r := range runs {
		st := r.Stages[i]
		std, cos = append(std, st.NormStd.Mean), append(cos, st.Cosine.Mean)
		clean, adv = append(clean, st.CleanNorm.Mean), append(adv, st.AdvNorm.Mean)
	}
	var c GradCell
	c.NormStd.Mean, c.NormStd.Std = stats.MeanStd(std)
	c.Cosine.Mean, c.Cosine.Std = stats.MeanStd(cos)
	c.CleanNorm, _ = stats.MeanStd(clean)
	c.AdvNorm, _ = stats.MeanStd(adv)
	return c
}

// GradFormats are the renderings of the gradient table.
var GradFormats = []string{"table", "markdown", "csv", "json"}

// RenderGrad writes the gradient table: table, markdown, csv or json.
func RenderGrad(w io.Writer, g *GradReport, format string) error {
	cell := func(c GradCell) string {
		return fmt.Sprintf("%.4g ± %.2g (cos %.3f)", c.NormStd.Mean, c.NormStd.Std, c.Cosine.Mean)
	}
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(g)
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write([]string{"stage", "param", "model", "norm_std_mean", "norm_std_std", "cosine_mean", "cosine_std", "clean_norm", "adv_norm"})
		for _, r := range g.Rows {
			for i, c := range r.Cells {
				f := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
				cw.Write([]string{strconv.Itoa(r.Stage), r.Param, g.Columns[i], f(c.NormStd.Mean), f(c.NormStd.Std), f(c.Cosine.Mean), f(c.Cosine.Std), f(c.CleanNorm), f(c.AdvNorm)})
			}
		}
		cw.Flush()
		return cw.Error()
	case "markdown":
		fmt.Fprintf(w, "| stage |")
		for _, c := range g.Columns {
			fmt.Fprintf(w, " %s |", c)
		}
		fmt.Fprint(w, "\n|---|")
		for range g.Columns {
			fmt.Fprint(w, "---|")
		}
		fmt.Fprintln(w)
		for _, r := range g.Rows {
			fmt.Fprintf(w, "| %d (%s) |", r.Stage, r.Param)
			for _, c := range r.Cells {
				fmt.Fprintf(w, " %s |", cell(c))
			}
			fmt.Fprintln(w)
		}
		_, err := fmt.Fprintf(w, "\n_%s_\n", g.Caption)
		return err
	case "table":
		t := texttable.New(w)
		header := []any{"stage"}
		for _, c := range g.Columns {
			header = append(header, c)
		}
		t.Header(header...)
		for _, r := range g.Rows {
			row := []any{fmt.Sprintf("%d (%s)", r.Stage, r.Param)}
			for _, c := range r.Cells {
				row = append(row, cell(c))
			}
			t.Append(row...)
		}
		if err := t.Render(); err != nil {
			return err
		}
		_, err := fmt.Fprintln(w, g.Caption)
		return err
	}
	return fmt.Errorf("reports: format %q: want table, markdown, csv or json", format)
}
