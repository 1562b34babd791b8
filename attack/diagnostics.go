package attack

import (
	"fmt"
	"math"

	"github.com/advbench/advbench/results"
)

// Thresholds of the attack-failure diagnostics (docs/evaluation.md,
// "Diagnostics of an evaluation"; Carlini et al. 2019, "On Evaluating
// Adversarial Robustness", arXiv:1902.06705; Pintor et al. 2022,
// "Indicators of Attack Failure", arXiv:2106.09947; AutoAttack's flags).
const (
	// MaxDoubledDrop is the most the strongest attack run with twice its
	// steps may lower RA on the first CheckExamples examples (counting an
	// example as fooled when either run fools it) before the attack is
	// judged not converged.
	MaxDoubledDrop = 0.05
	// MaxSquareOnly is the largest share of examples Square (a black-box
	// attack) may fool that no white-box attack of the evaluation fooled:
	// AutoAttack's flag (0.2 points).
	MaxSquareOnly = 0.002
	// MaxLateRise is the largest share of an attack's whole gain in loss
	// (from its first iteration to its last) that the last tenth of its
	// iterations may still add over the tenth before them.
	MaxLateRise = 0.05
)

// LossTrace is the loss an attack climbed, per iteration: the sum over the
// examples and runs (restarts, targets) of the loss at that iteration (PGD:
// at the iterate; APGD: the best so far), and how many terms each sum has.
type LossTrace struct {
	Sum []float64 `json:"sum"`
	N   []int     `json:"n"`
}

// add adds n examples' total loss v at iteration k.
func (t *LossTrace) add(k int, v float64, n int) {
	for len(t.Sum) <= k {
		t.Sum, t.N = append(t.Sum, 0), append(t.N, 0)
	}
	t.Sum[k] += v
	t.N[k] += n
}

// merge adds another trace.
func (t *LossTrace) merge(o *LossTrace) {
	if o == nil {
		return
	}
	for k := range o.Sum {
		t.add(k, o.Sum[k], o.N[k])
	}
}

// lateRise returns the mean loss of the first iteration, of the tenth of
// the iterations before the last tenth, and of the last tenth; ok is false
// when the trace is too short (fewer than 4 iterations).
func (t *LossTrace) lateRise() (first, prev, last float64, ok bool) {
	n := len(t.Sum)
	if n < 4 {
		return 0, 0, 0, false
	}
	w := max(1, int(math.Ceil(0.1*float64(n))))
	mean := func(lo, hi int) float64 {
		s, c := 0.0, 0
		for k := lo; k < hi; k++ {
			s, c = s+t.Sum[k], c+t.N[k]
		}
		return s / float64(max(c, 1))
	}
	return mean(0, 1), mean(n-2*w, n-w), mean(n-w, n), true
}

// doublingAttack is an attack that can be run with twice its iterations.
type doublingAttack interface {
	doubled() Attack
}

// strongest returns the index of the attack the doubling diagnostic reruns:
// of those that can double their iterations, the one with the most
// gradient steps per example (steps x restarts x targets), the later one on
// a tie; -1 when none can.
func strongest(attacks []results.AttackParams, can func(int) bool) int {
	best, most := -1, -1
	for i, p := range attacks {
		if !can(i) || p.Eps == 0 {
			continue
		}
		work := p.Steps * max(1, p.Restarts) * max(1, p.Targets)
		if work >= most {
			best, most = i, work
		}
	}
	return best
}

// diagnostics are the attack-failure diagnostics of an evaluation
// (docs/evaluation.md): each names the numbers it compared.
func diagnostics(r *Result, st []AttackStats, robust [][]bool, clean []bool, checked int) []results.Check {
	var cs []results.Check
	add := func(a, name string, ok bool, offending int, values map[string]float64, format string, args ...any) {
		cs = append(cs, results.Check{Name: a + ": " + name, Attack: a, OK: ok, Offending: offending, Values: values, Detail: fmt.Sprintf(format, args...)})
	}
	n := float64(r.Examples)
	for i, a := range r.Attacks {
		s := st[i]
		if s.DoubledRan && checked > 0 {
			m := float64(checked)
			ra, ra2 := float64(s.SubsetRobust)/m, float64(s.SubsetRobust-s.SubsetDoubledOnly)/m
			add(a.Name, "doubled steps agree", ra-ra2 <= MaxDoubledDrop, s.SubsetDoubledOnly,
				map[string]float64{"ra": ra, "ra_doubled": ra2, "steps": float64(a.Steps), "steps_doubled": float64(2 * a.Steps), "examples": m, "max_drop": MaxDoubledDrop},
				"on the first %d examples RA %.4f with %d steps, %.4f counting also the run with %d steps: %d examples only the longer run fooled (want a drop <= %.2f)",
				checked, ra, a.Steps, ra2, 2*a.Steps, s.SubsetDoubledOnly, MaxDoubledDrop)
		}
		if s.TransferRan && checked > 0 {
			m := float64(checked)
			ra, tra := float64(s.SubsetRobust)/m, float64(s.SubsetTransferRobust)/m
			add(a.Name, "transfer weaker than white-box", tra >= ra, s.SubsetTransferOnly,
				map[string]float64{"ra": ra, "transfer_ra": tra, "transfer_only": float64(s.SubsetTransferOnly), "examples": m},
				"on the first %d examples the attack crafted on the other branch leaves RA %.4f here, the white-box attack %.4f; %d examples fooled by the transfer only (want transfer RA >= white-box RA)",
				checked, tra, ra, s.SubsetTransferOnly)
		}
		if s.UnboundedRan && checked > 0 {
			m := float64(checked)
			ura := float64(s.SubsetUnboundedRobust) / m
			add(a.Name, "unbounded attack succeeds", s.SubsetUnboundedRobust == 0, s.SubsetUnboundedRobust,
				map[string]float64{"unbounded_eps": UnboundedEps, "ra": ura, "examples": m},
				"on the first %d examples the attack at eps %s (any image in [0,1]) leaves RA %.4f: %d examples survive (want 0)",
				checked, Eps255(UnboundedEps), ura, s.SubsetUnboundedRobust)
		}
		if first, prev, last, ok := s.Trace.lateRise(); ok {
			gain := last - first
			frac := 0.0
			if gain > 0 {
				frac = (last - prev) / gain
			}
			add(a.Name, "loss converged", frac <= MaxLateRise, 0,
				map[string]float64{"loss_first": first, "loss_previous_tenth": prev, "loss_last_tenth": last, "late_rise_fraction": frac, "max_fraction": MaxLateRise, "iterations": float64(len(s.Trace.Sum))},
				"mean loss %.4g at the first iteration, %.4g over the tenth before the last, %.4g over the last tenth: the last tenth adds %.4f of the whole gain (want <= %.2f)",
				first, prev, last, frac, MaxLateRise)
		}
	}
	// Square (black box) against the white-box attacks, per example.
	for i, a := range r.Attacks {
		if a.Name != "square" {
			continue
		}
		white := append([]bool(nil), clean...) // robust under every white-box attack
		var names []string
		for j, b := range r.Attacks {
			if j == i || b.Name == "square" || b.Pruned && j > i {
				continue // a later pruned attack never ran on what Square fooled
			}
			names = append(names, b.Name)
			for e, v := range robust[j] {
				white[e] = white[e] && v
			}
		}
		if len(names) == 0 {
			continue
		}
		only := 0
		for e, v := range robust[i] {
			if white[e] && !v {
				only++
			}
		}
		frac := float64(only) / n
		add(a.Name, "square does not beat white-box", frac <= MaxSquareOnly, only,
			map[string]float64{"square_only": float64(only), "examples": n, "square_only_fraction": frac, "max_fraction": MaxSquareOnly},
			"%d examples (%.4f) fooled by square and by none of %v (want <= %.3f)", only, frac, names, MaxSquareOnly)
	}
	return cs
}
