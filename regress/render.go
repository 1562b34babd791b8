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
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "markdown":
		fmt.Fprintln(w, "| model | metric | baseline % | now % | difference | band | verdict |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
		for _, row := range r.Rows {
			name, metric := label(row.Metric)
			v := row.Verdict
			if v != OK {
				v = "**" + v + "**"
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | ±%s | %s |\n", name, metric, pp(row.Value), pp(row.Now), signedPP(row.Diff), pp(row.Band), v)
		}
		_, err := fmt.Fprintf(w, "\n%s\n", r.Summary())
		return err
	case "table":
		t := texttable.New(w)
		t.Header("model", "metric", "baseline %", "now %", "difference", "band", "verdict")
		for _, row := range r.Rows {
			name, metric := label(row.Metric)
			t.Append(name, metric, pp(row.Value), pp(row.Now), signedPP(row.Diff), "±"+pp(row.Band), row.Verdict)
		}
		if err := t.Render(); err != nil {
			return err
		}
		_, err := fmt.Fprintln(w, r.Summary())
		return err
	}
	return fmt.Errorf("regress: format %q: want one of %s", format, strings.Join(Formats, ", "))
}
