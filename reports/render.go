package reports

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/advbench/advbench/internal/textfmt"
	"github.com/advbench/advbench/internal/texttable"
	"github.com/advbench/advbench/results"
)

// Formats are the renderings Render knows.
var Formats = []string{"table", "markdown", "csv", "json", "latex"}

// Render writes the report in a format.
func Render(w io.Writer, r *Report, format string) error {
	switch format {
	case "table":
		return renderText(w, r)
	case "markdown":
		return renderMarkdown(w, r)
	case "csv":
		return renderCSV(w, r)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "latex":
		return renderLaTeX(w, r)
	}
	return fmt.Errorf("reports: format %q: want one of %s", format, strings.Join(Formats, ", "))
}

// pct spells a fraction as a percentage with two decimals.
func pct(v float64) string { return strconv.FormatFloat(100*v, 'f', 2, 64) }

// cellText is a cell in plain text: "41.57 ± 0.50 [40.10, 43.04]*", then
// "(paper 44.93, -3.36)" when the published value is known, then the
// failed checks: "(check failed: loss raised)".
func cellText(c Cell, pm, star string) string {
	var b strings.Builder
	if !c.Present {
		b.WriteString("—")
	} else {
		b.WriteString(pct(c.Mean))
		if c.Runs > 1 {
			b.WriteString(" " + pm + " " + pct(c.Std))
		}
		fmt.Fprintf(&b, " [%s, %s]", pct(c.Lo), pct(c.Hi))
		if c.Significant {
			b.WriteString(star)
		}
	}
	if c.Paper != nil {
		fmt.Fprintf(&b, " (paper %s", pct(*c.Paper))
		if c.Present {
			fmt.Fprintf(&b, ", %+.2f", 100*(c.Mean-*c.Paper))
		}
		b.WriteString(")")
	}
	if c.Mark != "" {
		b.WriteString(" " + c.Mark)
	}
	if len(c.FailedChecks) > 0 {
		fmt.Fprintf(&b, " (check failed: %s)", strings.Join(c.FailedChecks, ", "))
	}
	return b.String()
}

// captionLines says what the tables show, one sentence a line.
func captionLines(r *Report) []string {
	c := r.Caption
	preset := c.Preset
	if preset == "" {
		preset = "unknown"
	}
	lines := []string{
		fmt.Sprintf("Preset %s; test data %s (%d images, sha256 %s); train seeds %s; attack seeds %s.", preset, c.Data, c.Examples, textfmt.ShortHash(c.DataHash), textfmt.JoinSeeds(c.Seeds), textfmt.JoinSeeds(c.EvalSeeds)),
	}
	for _, a := range c.Attacks {
		lines = append(lines, "Attack "+a+"; evaluation mode, white-box on the evaluated branch.")
	}
	if len(c.Attacks) > 0 {
		lines = append(lines, "Row "+AutoAttackLabel+": robust under every attack of AutoAttack's standard suite ("+strings.Join(results.AutoAttackNames(), ", ")+"), each run only on the points still robust; — where a result has no such suite. Row "+WorstCaseLabel+": per example, robust under every attack above.")
	}
	lines = append(lines,
		"Robust-accuracy cells are marked reliable, or warning when a check or diagnostic of their attacks failed (docs/evaluation.md).",
		"Cells: accuracy in % (mean ± std over seeds when several) [95% interval: Wilson for one run, Student's t over seeds].",
		c.Test,
		"Single-branch norms (BN, ModeNorm, ...) report their one network in both tables.")
	return lines
}

func tables(r *Report) []Table {
	var out []Table
	for _, t := range []Table{r.Table3, r.Table4} {
		if len(t.Columns) > 0 {
			out = append(out, t)
		}
	}
	return out
}

func renderText(w io.Writer, r *Report) error {
	for _, t := range tables(r) {
		fmt.Fprintln(w, t.Title)
		tw := texttable.New(w)
		header := []any{""}
		for _, c := range t.Columns {
			header = append(header, c.Label)
		}
		tw.Header(header...)
		for _, row := range t.Rows {
			line := []any{row.Label}
			for _, c := range row.Cells {
				line = append(line, cellText(c, "±", "*"))
			}
			tw.Append(line...)
		}
		if err := tw.Render(); err != nil {
			return err
		}
	}
	for _, l := range captionLines(r) {
		fmt.Fprintln(w, l)
	}
	return nil
}

func renderMarkdown(w io.Writer, r *Report) error {
	for _, t := range tables(r) {
		fmt.Fprintf(w, "**%s**\n\n|   |", t.Title)
		for _, c := range t.Columns {
			fmt.Fprintf(w, " %s |", c.Label)
		}
		fmt.Fprint(w, "\n|---|")
		for range t.Columns {
			fmt.Fprint(w, "---|")
		}
		fmt.Fprintln(w)
		for _, row := range t.Rows {
			fmt.Fprintf(w, "| %s |", row.Label)
			for _, c := range row.Cells {
				fmt.Fprintf(w, " %s |", strings.ReplaceAll(cellText(c, "±", "\\*"), "|", "\\|"))
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w)
	}
	for _, l := range captionLines(r) {
		fmt.Fprintf(w, "_%s_\n", strings.ReplaceAll(l, "*", "\\*"))
	}
	return nil
}

// renderCSV writes one line per cell (long format), percentages as
// numbers.
func renderCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"table", "row", "norm", "branch", "runs", "mean_pct", "std_pct", "ci_lo_pct", "ci_hi_pct", "interval", "p_value", "significant", "paper_pct", "diff_pct", "mark"})
	for ti, t := range []Table{r.Table3, r.Table4} {
		for _, row := range t.Rows {
			for i, c := range row.Cells {
				col := t.Columns[i]
				rec := []string{strconv.Itoa(ti + 3), row.Label, col.Norm, col.Branch, strconv.Itoa(c.Runs), "", "", "", "", c.Interval, "", strconv.FormatBool(c.Significant), "", "", c.Mark}
				if c.Present {
					rec[5], rec[6], rec[7], rec[8] = pct(c.Mean), pct(c.Std), pct(c.Lo), pct(c.Hi)
				}
				if c.PValue != nil {
					rec[10] = strconv.FormatFloat(*c.PValue, 'g', 6, 64)
				}
				if c.Paper != nil {
					rec[12] = pct(*c.Paper)
					if c.Present {
						rec[13] = strconv.FormatFloat(100*(c.Mean-*c.Paper), 'f', 2, 64)
					}
				}
				cw.Write(rec)
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

var latexEscaper = strings.NewReplacer(`\`, `\textbackslash{}`, "&", `\&`, "%", `\%`, "$", `\$`, "#", `\#`, "_", `\_`, "{", `\{`, "}", `\}`, "~", `\textasciitilde{}`, "^", `\textasciicircum{}`)

func renderLaTeX(w io.Writer, r *Report) error {
	caption := latexEscaper.Replace(strings.Join(captionLines(r), " "))
	caption = strings.ReplaceAll(caption, "±", `$\pm$`)
	for _, t := range tables(r) {
		fmt.Fprintf(w, "\\begin{table}[t]\n\\centering\n\\caption{%s. %s}\n\\begin{tabular}{l%s}\n\\toprule\n", latexEscaper.Replace(t.Title), caption, strings.Repeat("c", len(t.Columns)))
		for _, c := range t.Columns {
			fmt.Fprintf(w, " & %s", latexEscaper.Replace(c.Label))
		}
		fmt.Fprint(w, " \\\\\n\\midrule\n")
		for _, row := range t.Rows {
			fmt.Fprint(w, latexEscaper.Replace(row.Label))
			for _, c := range row.Cells {
				s := latexEscaper.Replace(cellText(c, "±", "*"))
				s = strings.ReplaceAll(s, "±", `$\pm$`)
				s = strings.ReplaceAll(s, "]*", `]$^{*}$`)
				fmt.Fprintf(w, " & %s", s)
			}
			fmt.Fprint(w, " \\\\\n")
		}
		fmt.Fprint(w, "\\bottomrule\n\\end{tabular}\n\\end{table}\n")
	}
	return nil
}
