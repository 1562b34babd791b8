package attack

import (
	"fmt"
	"math"

	"github.com/advbench/advbench/results"
)

// DefaultSweep is the eps grid of an accuracy-vs-eps sweep, in /255 units.
var DefaultSweep = []float64{0, 2, 4, 8, 16}

// SweepError reports a sweep that cannot run: Field is "steps" (the PGD
// length), "eps" or "step" (the options whose ratio scales the step with
// each eps), or "grid" (the eps values).
type SweepError struct {
	Field  string
	Value  any
	Reason string
}

func (e *SweepError) Error() string {
	return fmt.Sprintf("attack: sweep %s %v: %s", e.Field, e.Value, e.Reason)
}

// CheckSweep reports, as a *SweepError, what makes a sweep impossible or
// meaningless: steps below 1; options without a positive eps and step (the
// step at each point is o.Step/o.Eps of its eps, undefined at eps 0); an
// empty grid, or one that is not strictly increasing within [0, 1] (the
// masking check compares neighbouring points, so an unsorted grid or a
// repeated eps would warn of nothing or of noise). Eps 0 belongs in a grid:
// it is the standard accuracy.
func CheckSweep(steps int, o Options, eps []float64) error {
	switch {
	case steps < 1:
		return &SweepError{"steps", steps, "want at least 1"}
	case !(o.Eps > 0) || o.Eps > 1:
		return &SweepError{"eps", o.Eps, "want eps in (0, 1]: each point's step is step/eps of its eps"}
	case !(o.Step > 0) || math.IsInf(o.Step, 0):
		return &SweepError{"step", o.Step, "want a positive step: each point's step is step/eps of its eps"}
	case len(eps) == 0:
		return &SweepError{"grid", "(empty)", "want at least one eps"}
	}
	for i, e := range eps {
		if !(e >= 0 && e <= 1) {
			return &SweepError{"grid", Eps255(e), "want every eps in [0, 1]"}
		}
		if i > 0 && e <= eps[i-1] {
			return &SweepError{"grid", Eps255(e), fmt.Sprintf("follows %s: want eps values in increasing order, each once", Eps255(eps[i-1]))}
		}
	}
	return nil
}

// SweepAttacks returns the PGD of each point of a sweep: steps steps at the
// point's eps, with the step o.Step/o.Eps of that eps and o's other
// options.
func SweepAttacks(steps int, o Options, eps []float64) []*PGD {
	ratio := o.Step / o.Eps
	out := make([]*PGD, len(eps))
	for i, e := range eps {
		oe := o
		oe.Eps, oe.Step = e, e*ratio
		out[i] = NewPGD(steps, oe)
	}
	return out
}

// Sweep evaluates PGD with the given steps and options at each eps (the step
// scales with eps as step/eps in o; SweepAttacks) and checks that robust
// accuracy falls toward zero: a curve that rises, or stays above chance at
// the largest eps when that eps is at least 16/255, is a sign of gradient
// masking. What CheckSweep refuses is refused before any attack runs.
//
// The curve is a results.Sweep holding what the sweep measures (attack,
// step ratio, examples, chance accuracy, points, warnings); the caller adds
// the provenance and the setting.
func Sweep(m Model, batches Batches, steps int, o Options, eps []float64, classes int, cfg EvalConfig) (*results.Sweep, error) {
	if err := CheckSweep(steps, o, eps); err != nil {
		return nil, err
	}
	if classes < 2 {
		return nil, fmt.Errorf("attack: sweep needs at least 2 classes, got %d", classes)
	}
	out := &results.Sweep{StepRatio: o.Step / o.Eps, Chance: 1 / float64(classes)}
	for _, a := range SweepAttacks(steps, o, eps) {
		out.Attack = a.Name()
		r, err := Evaluate(m, batches, []Attack{a}, cfg)
		if err != nil {
			return nil, err
		}
		out.Examples = r.Examples
		out.Points = append(out.Points, results.SweepPoint{AttackParams: a.Params(), Accuracy: r.Attacks[0].RA})
	}
	tol := 2 / float64(max(out.Examples, 1)) // random starts may move a count or two
	for i := 1; i < len(out.Points); i++ {
		if p, q := out.Points[i-1], out.Points[i]; q.Accuracy > p.Accuracy+tol {
			out.Warnings = append(out.Warnings, fmt.Sprintf("robust accuracy rises from %.4f at eps %s to %.4f at eps %s: a sign of gradient masking", p.Accuracy, p.Eps255, q.Accuracy, q.Eps255))
		}
	}
	last := out.Points[len(out.Points)-1]
	if last.Eps >= 16.0/255 && last.Accuracy > out.Chance+0.05 {
		out.Warnings = append(out.Warnings, fmt.Sprintf("robust accuracy %.4f at eps %s is above chance (%.2f): a sign of gradient masking or too weak an attack", last.Accuracy, last.Eps255, out.Chance))
	}
	return out, nil
}
