// Package progress reports the progress of long work on stderr: a redrawn bar
// with rate and ETA when the stream is a terminal, plain periodic lines
// otherwise (logs, CI), so results on stdout stay clean.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Reporter reports progress of one task. It is not safe for concurrent use.
type Reporter struct {
	w        io.Writer
	label    string
	unit     string
	total    float64
	tty      bool
	start    time.Time
	last     time.Time
	every    time.Duration
	now      func() time.Time
	finished bool
	drawn    bool    // something was drawn
	lastDone float64 // the amount last drawn
}

// New returns a reporter writing to w. total may be 0 when unknown. unit names
// what is counted ("B" is shown in MiB).
func New(w io.Writer, label string, total float64, unit string) *Reporter {
	now := time.Now
	r := &Reporter{w: w, label: label, unit: unit, total: total, tty: IsTerminal(w), now: now, start: now(), every: 10 * time.Second}
	if r.tty {
		r.every = 200 * time.Millisecond
	}
	return r
}

// IsTerminal reports whether w is a character device such as a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Update reports that done units of the total are complete. Output is rate
// limited; the last call before Done is always shown by Done.
func (r *Reporter) Update(done float64) {
	t := r.now()
	if t.Sub(r.last) < r.every {
		return
	}
	r.last = t
	r.draw(done, t)
}

// Done prints the final state (unless the last line already showed it)
// and ends the line.
func (r *Reporter) Done(done float64) {
	if r.finished {
		return
	}
	r.finished = true
	if r.drawn && r.lastDone == done && !r.tty {
		return
	}
	r.draw(done, r.now())
	if r.tty {
		fmt.Fprintln(r.w)
	}
}

func (r *Reporter) draw(done float64, t time.Time) {
	r.drawn, r.lastDone = true, done
	el := t.Sub(r.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = done / el
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", r.label, r.amount(done))
	if r.total > 0 {
		frac := min(done/r.total, 1)
		fmt.Fprintf(&b, " / %s (%.0f%%)", r.amount(r.total), 100*frac)
		if r.tty {
			const width = 24
			n := int(frac * width)
			b.WriteString(" [" + strings.Repeat("=", n) + strings.Repeat(" ", width-n) + "]")
		}
		if rate > 0 && done < r.total {
			fmt.Fprintf(&b, " ETA %s", (time.Duration((r.total-done)/rate) * time.Second).Round(time.Second))
		}
	}
	b.WriteString(" " + r.rate(rate))
	if r.tty {
		fmt.Fprintf(r.w, "\r\033[K%s", b.String())
	} else {
		fmt.Fprintln(r.w, b.String())
	}
}

func (r *Reporter) amount(v float64) string {
	if r.unit == "B" {
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	}
	return fmt.Sprintf("%.0f %s", v, r.unit)
}

// rate renders a rate with three significant figures; below one unit a
// second it gives the time per unit instead ("19.5 s/img"), so slow work such
// as AutoAttack never reads "0 img/s".
func (r *Reporter) rate(v float64) string {
	switch {
	case r.unit == "B":
		return r.amount(v) + "/s"
	case v <= 0:
		return fmt.Sprintf("0 %s/s", r.unit)
	case v < 1:
		return fmt.Sprintf("%.3g s/%s", 1/v, r.unit)
	case v < 100:
		return fmt.Sprintf("%.3g %s/s", v, r.unit)
	}
	return fmt.Sprintf("%.0f %s/s", v, r.unit)
}

// SetTotal sets the total once it becomes known.
func (r *Reporter) SetTotal(total float64) { r.total = total }
