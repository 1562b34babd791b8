package attack

import "fmt"

// DefaultSweep is the eps grid of an accuracy-vs-eps sweep, in /255 units.
var DefaultSweep = []float64{0, 2, 4, 8, 16}

// SweepPoint is the robust accuracy at one eps.
type SweepPoint struct {
	Eps      float64 `json:"eps"`
	Eps255   string  `json:"eps_255"`
	Accuracy float64 `json:"robust_accuracy"`
}

// SweepResult is an accuracy-vs-eps curve with its warnings.
type SweepResult struct {
	Attack   string       `json:"attack"`
	Examples int          `json:"examples"`
	Chance   float64      `json:"chance_accuracy"`
	Points   []SweepPoint `json:"points"`
	Warnings []string     `json:"warnings"`
}

// Sweep evaluates PGD with the given steps and options at each eps (the step
// scales with eps as step/eps in o) and checks that robust accuracy falls
// toward zero: a curve that rises, or stays above chance at the largest eps
// when that eps is at least 16/255, is a sign of gradient masking.
func Sweep(m Model, batches Batches, steps int, o Options, eps []float64, classes int, cfg EvalConfig) (*SweepResult, error) {
	if len(eps) == 0 || classes < 2 {
		return nil, fmt.Errorf("attack: sweep needs eps values and at least 2 classes")
	}
	ratio := 0.25
	if o.Eps > 0 {
		ratio = o.Step / o.Eps
	}
	out := &SweepResult{Chance: 1 / float64(classes)}
	for _, e := range eps {
		oe := o
		oe.Eps, oe.Step = e, e*ratio
		a := NewPGD(steps, oe)
		out.Attack = a.Name()
		r, err := Evaluate(m, batches, []Attack{a}, cfg)
		if err != nil {
			return nil, err
		}
		out.Examples = r.Examples
		out.Points = append(out.Points, SweepPoint{Eps: e, Eps255: Eps255(e), Accuracy: r.Attacks[0].RA})
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
