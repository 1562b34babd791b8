package regress

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/advbench/advbench/internal/texttable"
	"github.com/advbench/advbench/reports"
)

// Formats are the renderings of a report.
var Formats = []string{"table", "json", "markdown"}

func pp(v float64) string { return fmt.Sprintf("%.2f", 100*v) }

func signedPP(v float64) string {
	if math.Abs(100*v) < 0.005 {
		return "+0.00" // not "-0.00" for a rounding residue
	}
	return fmt.Sprintf("%+.2f", 100*v)
}

func label(m Metric) (string, string) {
	name := reports.DisplayName(m.Norm) + " (" + m.Branch + ")"
	if m.Norm == Pooled {
		name = fmt.Sprintf("mean of %d results", len(m.Of))
	}
	metric := "SA"
	if m.Metric != SA {
		metric = strings.ToUpper(m.Metric) + " RA"
	}
	return name, metric
}

// Summary is the one-line verdict.
func (r *Report) Summary() string {
	verdict := "PASS"
	if r.Failed() {
		verdict = "FAIL"
	}
	s := fmt.Sprintf("%s: %d metrics, %d regressions, %d improvements beyond their bands", verdict, len(r.Rows), r.Regressions, r.Improvements)
	if shown := len(r.Rows) - r.Gated; shown > 0 {
		s += fmt.Sprintf(" (%d gated; %d shown only, their seed spread too wide to gate at this size)", r.Gated, shown)
	}
	if r.Strict && r.Improvements > 0 {
		s += " (--strict: improvements fail too; update the baseline on purpose)"
	}
	return s
}

// Failures names each failing metric with baseline, now and band.
func (r *Report) Failures() []string {
	var out []string
	for _, row := range r.Rows {
		if row.Verdict == Regression || r.Strict && row.Verdict == Improvement {
			name, metric := label(row.Metric)
			out = append(out, fmt.Sprintf("%s %s: %s in the baseline, %s now (%s), band %s percentage points", name, metric, pp(row.Value), pp(row.Now), signedPP(row.Diff), pp(row.Band)))
		}
	}
	return out
}

// Render writes the difference table in a format.
func Render(w io.Writer, r *Report, format string) error {
	header := []string{"model", "metric", "baseline %", "now %", "difference", "band", "verdict"}
	return render(w, r, format, header, func(markdown bool) [][]string {
		var rows [][]string
		for _, row := range r.Rows {
			name, metric := label(row.Metric)
			v := row.Verdict
			if markdown && v != OK {
				v = "**" + v + "**"
			}
			rows = append(rows, []string{name, metric, pp(row.Value), pp(row.Now), signedPP(row.Diff), "±" + pp(row.Band), v})
		}
		return rows
	}, r.Summary())
}

// render writes a report in a format of Formats: v itself as JSON, or a
// table (text or Markdown) of header and rows followed by the summary line.
func render(w io.Writer, v any, format string, header []string, rows func(markdown bool) [][]string, summary string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "markdown":
		fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(header, " | "), strings.Repeat("---|", len(header)))
		for _, row := range rows(true) {
			fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
		}
		_, err := fmt.Fprintf(w, "\n%s\n", summary)
		return err
	case "table":
		t := texttable.New(w)
		t.Header(header)
		for _, row := range rows(false) {
			if err := t.Append(row); err != nil {
				return err
			}
		}
		if err := t.Render(); err != nil {
			return err
		}
		_, err := fmt.Fprintln(w, summary)
		return err
	}
	return fmt.Errorf("regress: format %q: want one of %s", format, strings.Join(Formats, ", "))
}
