package attack

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/advbench/advbench/internal/stats"
	"github.com/advbench/advbench/internal/version"
	"github.com/advbench/advbench/nn"
	"github.com/advbench/advbench/results"
)

// Batches calls fn for every batch of an evaluation set, in a fixed order,
// and stops at the first error fn returns.
type Batches func(fn func(x []float32, y []int) error) error

// EvalConfig says what an evaluation is run against and records its identity.
type EvalConfig struct {
	Setting
	Seed  uint64 `json:"seed"`  // random starts: attack i on batch k draws from a generator seeded (Seed, i<<32 | k)
	Model string `json:"model"` // model or checkpoint identity, recorded as given
	Data  string `json:"data"`  // dataset description, recorded as given
	// Unpruned runs every pruned attack (Params.Pruned: APGD, Square, FAB)
	// on all clean-correct examples instead of only on those still robust
	// after the earlier pruned attacks, and PGD on every example instead
	// of only the clean-correct ones (restarts only on those not yet
	// fooled). The flags are the same (tests show it); it only costs more.
	// For tests and timing comparisons (advbench eval --unpruned).
	Unpruned bool `json:"unpruned,omitempty"`
}

// Result is an evaluation as data. Accuracies are fractions in [0,1].
type Result struct {
	Version string `json:"advbench_version"`
	Model   string `json:"model"`
	Data    string `json:"data"`
	Branch  string `json:"branch"`
	Mode    string `json:"mode"`
	Seed    uint64 `json:"seed"`
	// Measurement holds the accuracies; its WorstCaseRA counts an example
	// as robust only if it survives every attack.
	results.Measurement
}

// Evaluation accumulates an evaluation batch by batch. Its state is plain
// data (JSON): saved between batches, it resumes an interrupted evaluation
// to the identical result, because batch k of attack i draws its random
// starts from a generator seeded (Seed, i, k) rather than from a stream.
type Evaluation struct {
	Config  EvalConfig             `json:"config"`
	Attacks []results.AttackParams `json:"attacks"`
	// Batches is the number of batches added.
	Batches      int           `json:"batches"`
	CleanCorrect []bool        `json:"clean_correct"`
	Robust       [][]bool      `json:"robust"` // per attack, per example
	Stats        []AttackStats `json:"stats"`  // per attack
	// Checked is the number of examples (the first ones, at most
	// CheckExamples) the extra check attacks ran on.
	Checked int `json:"checked_examples"`
}

// CheckExamples is how many examples (the first ones evaluated) the extra
// attacks of the checks run on: FGSM beside every iterative attack, and
// the attack again at LargeEps. On these few the checks cost under 1% of a
// 10,000-example PGD evaluation.
const CheckExamples = 64

// LargeEps is the radius at which an iterative attack must drive robust
// accuracy close to 0 (at most LargeEpsMaxRA); one that does not is
// defeated by masked gradients, not by robustness.
const (
	LargeEps      = 32.0 / 255
	LargeEpsMaxRA = 0.1
)

// UnboundedEps is the radius of the unbounded attack of the diagnostics:
// the whole pixel range, so every image is reachable and a working
// gradient attack fools every example (Carlini et al. 2019, "unbounded
// attacks reach 100% success"); the attack's step scales with the radius.
const UnboundedEps = 1.0

// MinLossRaised is the fraction of clean-correct examples whose loss the
// attack must have raised (loss at x_adv above the loss at x).
const MinLossRaised = 0.9

// MaxSilentFraction is the largest share of examples that some iterate
// fooled while the returned x_adv does not ("silent success") before the
// check fails: the count is always reported, but PGD returns its last
// iterate, so a few such examples are ordinary; more than this overstates
// RA by more than 2 points.
const MaxSilentFraction = 0.02

// MaxZeroGradFraction is the largest share of examples whose input
// gradient may be all zero at an attack's first step before the check
// fails. The count is always reported: each such example is one the model
// is locally constant on (a masked example a gradient attack cannot move,
// so RA is overstated by at most that share). A few occur in correct
// models (one of the 200 images of the exact layer's SaAuxBN fixture: its
// adversarial branch's logits do not move within ±0.05 of the image); a
// masked model zeroes most of them.
const MaxZeroGradFraction = 0.02

// AttackStats are an attack's running diagnostics.
type AttackStats struct {
	MaxDelta  float64 `json:"max_linf_delta"`
	MinPixel  float64 `json:"min_pixel"` // over finite values; valid when Finite > 0
	MaxPixel  float64 `json:"max_pixel"`
	Finite    int64   `json:"finite_values"`
	NonFinite int     `json:"non_finite_values"`
	ZeroGrad  int     `json:"zero_gradient_examples"`
	// LossChecked clean-correct examples, of which LossRaised have a loss at
	// x_adv above their loss at x.
	LossChecked int `json:"loss_checked_examples"`
	LossRaised  int `json:"loss_raised_examples"`
	// Silent counts clean-correct examples some iterate fooled but x_adv does not.
	Silent int `json:"silent_success_examples"`
	// On the first Checked examples: robust under this attack, under FGSM
	// at the same eps (FGSMRan says whether it ran: iterative attacks only),
	// fooled by FGSM but robust here, and robust under this attack at LargeEps
	// (LargeRan: attacks with AtRadius only).
	SubsetRobust      int  `json:"subset_robust"`
	FGSMRan           bool `json:"fgsm_ran"`
	SubsetFGSMRobust  int  `json:"subset_fgsm_robust"`
	SubsetFGSMOnly    int  `json:"subset_fgsm_only_fooled"`
	LargeRan          bool `json:"large_eps_ran"`
	SubsetLargeRobust int  `json:"subset_large_eps_robust"`
	// DoubledRan says the attack ran again with twice its iterations on
	// the first Checked examples (the strongest attack only), where it
	// fooled SubsetDoubledOnly examples this attack did not.
	DoubledRan        bool `json:"doubled_ran,omitempty"`
	SubsetDoubledOnly int  `json:"subset_doubled_only_fooled,omitempty"`
	// TransferRan says the strongest attack also ran on the other branch of
	// a two-branch model (same examples, same draws) and its x_adv was
	// scored on this branch: SubsetTransferRobust clean-correct examples
	// stayed correct, SubsetTransferOnly were fooled by the transfer but
	// not by the white-box attack.
	TransferRan          bool `json:"transfer_ran,omitempty"`
	SubsetTransferRobust int  `json:"subset_transfer_robust,omitempty"`
	SubsetTransferOnly   int  `json:"subset_transfer_only_fooled,omitempty"`
	// UnboundedRan says the attack ran at UnboundedEps on the first Checked
	// examples (attacks with AtRadius), where SubsetUnboundedRobust
	// clean-correct examples survived it.
	UnboundedRan          bool `json:"unbounded_ran,omitempty"`
	SubsetUnboundedRobust int  `json:"subset_unbounded_robust,omitempty"`
	// Trace is the loss the attack climbed per iteration, over all batches.
	Trace LossTrace `json:"loss_trace"`
}

// activeAttack is an attack that can run on some examples of a batch
// with the random draws it makes for the whole batch (PGD): the evaluation
// attacks only the clean-correct examples with it (EvalConfig.Unpruned
// attacks all).
type activeAttack interface {
	perturbActive(m Model, x []float32, y []int, s Setting, rng *rand.Rand, active []bool) (*Outcome, error)
}

// radiusAttack is an attack that can be run again at another radius.
type radiusAttack interface {
	AtRadius(eps float64) Attack
}

// NewEvaluation starts an evaluation of the attacks (names must differ).
func NewEvaluation(attacks []Attack, cfg EvalConfig) (*Evaluation, error) {
	e := &Evaluation{Config: cfg, Robust: make([][]bool, len(attacks)), Stats: make([]AttackStats, len(attacks))}
	seen := map[string]bool{}
	for _, a := range attacks {
		if seen[a.Name()] {
			return nil, fmt.Errorf("attack: %s listed twice", a.Name())
		}
		seen[a.Name()] = true
		e.Attacks = append(e.Attacks, a.Params())
	}
	return e, nil
}

// Check reports whether attacks are the ones the evaluation was started
// with (a resumed evaluation must continue with the same attacks).
func (e *Evaluation) Check(attacks []Attack) error {
	if len(attacks) != len(e.Attacks) {
		return fmt.Errorf("attack: evaluation of %d attacks continued with %d", len(e.Attacks), len(attacks))
	}
	for i, a := range attacks {
		if a.Params() != e.Attacks[i] {
			return fmt.Errorf("attack: evaluation started with %+v continued with %+v", e.Attacks[i], a.Params())
		}
	}
	// A saved state read back from disk must be one Add could have built.
	if len(e.Robust) != len(e.Attacks) || len(e.Stats) != len(e.Attacks) {
		return fmt.Errorf("attack: saved evaluation has %d robust lists and %d stats for %d attacks", len(e.Robust), len(e.Stats), len(e.Attacks))
	}
	for i, r := range e.Robust {
		if len(r) != len(e.CleanCorrect) {
			return fmt.Errorf("attack: saved evaluation: attack %s has %d robust flags for %d examples", e.Attacks[i].Name, len(r), len(e.CleanCorrect))
		}
	}
	if e.Batches < 0 || e.Batches > len(e.CleanCorrect) || (e.Batches == 0) != (len(e.CleanCorrect) == 0) {
		return fmt.Errorf("attack: saved evaluation: %d batches for %d examples", e.Batches, len(e.CleanCorrect))
	}
	return nil
}

// Examples returns the number of examples added.
func (e *Evaluation) Examples() int { return len(e.CleanCorrect) }

// Add evaluates the next batch: standard accuracy and every attack (the
// attacks the evaluation was started with, in order).
func (e *Evaluation) Add(m Model, attacks []Attack, x []float32, y []int) error {
	if len(attacks) != len(e.Attacks) {
		return fmt.Errorf("attack: evaluation of %d attacks given %d", len(e.Attacks), len(attacks))
	}
	logits, err := m.Logits(x, e.Config.Branch, e.Config.Mode)
	if err != nil {
		return err
	}
	clean := predictions(logits, len(y))
	first := len(e.CleanCorrect) // the evaluation index of the batch's first example
	for i := range y {
		e.CleanCorrect = append(e.CleanCorrect, clean[i] == y[i])
	}
	sub := min(len(y), max(0, CheckExamples-e.Checked))
	xs, ys := x[:sub*imageSize], y[:sub]
	chain := make([]bool, len(y)) // fooled by an earlier pruned attack
	for ai, a := range attacks {
		var out *Outcome
		attacked := make([]bool, len(y)) // the examples this attack ran on
		if sa, ok := a.(seededAttack); ok && a.Params().Pruned {
			if out, err = e.perturbPruned(m, sa, ai, first, x, y, clean, chain, attacked); err != nil {
				return err
			}
			copy(chain, out.Fooled)
		} else {
			// An activeAttack (PGD) attacks only the clean-correct examples,
			// with the draws of the whole batch; others attack all.
			pa, active := a.(activeAttack)
			for i := range y {
				attacked[i] = !active || e.Config.Unpruned || clean[i] == y[i]
			}
			rng := rand.New(rand.NewPCG(e.Config.Seed, uint64(ai)<<32|uint64(e.Batches)))
			if active {
				out, err = pa.perturbActive(packed{m: m, full: len(y)}, x, y, e.Config.Setting, rng, attacked)
			} else {
				out, err = a.Perturb(m, x, y, e.Config.Setting, rng)
			}
			if err != nil {
				return err
			}
		}
		st := &e.Stats[ai]
		st.Trace.merge(out.Trace)
		for i := range y {
			e.Robust[ai] = append(e.Robust[ai], clean[i] == y[i] && !out.Fooled[i])
			if out.ZeroGrad[i] {
				st.ZeroGrad++
			}
			if clean[i] == y[i] && out.FooledAny != nil && out.FooledAny[i] && !out.Fooled[i] {
				st.Silent++
			}
		}
		p := a.Params()
		if lc, ok := a.(interface{ raisesLoss() bool }); ok && !lc.raisesLoss() {
			// A minimum-norm attack leaves the examples it cannot fool as they are.
		} else if p.Eps > 0 {
			if err := e.lossRaised(m, st, p, x, y, logits, clean, out.XAdv, attacked); err != nil {
				return err
			}
		}
		if p.Eps > 0 {
			if sub > 0 {
				top := ai == strongest(e.Attacks, func(i int) bool { _, ok := attacks[i].(doublingAttack); return ok })
				if err := e.subsetChecks(m, a, ai, st, xs, ys, clean[:sub], out.Fooled[:sub], top); err != nil {
					return err
				}
			}
		}
		for i, v := range out.XAdv {
			f := float64(v)
			if math.IsNaN(f) || math.IsInf(f, 0) {
				st.NonFinite++
				continue
			}
			st.MaxDelta = math.Max(st.MaxDelta, math.Abs(f-float64(x[i])))
			if st.Finite == 0 {
				st.MinPixel, st.MaxPixel = f, f
			}
			st.MinPixel, st.MaxPixel = math.Min(st.MinPixel, f), math.Max(st.MaxPixel, f)
			st.Finite++
		}
	}
	e.Checked += sub
	e.Batches++
	return nil
}

// perturbPruned runs a pruned attack on the clean-correct examples of the
// batch that no earlier pruned attack fooled (all clean-correct ones when
// Unpruned), gathered into one smaller batch, each with its own seed
// (from the evaluation seed, the attack's index and the example's index
// in the evaluation). The outcome is the whole batch's, its Fooled
// cumulative over the pruned attacks so far; attacked receives the
// examples it ran on.
func (e *Evaluation) perturbPruned(m Model, a seededAttack, ai, first int, x []float32, y, clean []int, chain, attacked []bool) (*Outcome, error) {
	var idx []int
	var seeds []uint64
	for i := range y {
		if clean[i] == y[i] && (!chain[i] || e.Config.Unpruned) {
			idx = append(idx, i)
			attacked[i] = true
			seeds = append(seeds, rand.New(rand.NewPCG(e.Config.Seed, 1<<62|uint64(ai)<<40|uint64(first+i))).Uint64())
		}
	}
	out, err := seededOn(m, a, x, y, e.Config.Setting, idx, seeds)
	if err != nil {
		return nil, err
	}
	for i, c := range chain {
		out.Fooled[i] = out.Fooled[i] || c
	}
	return out, nil
}

// seededOn runs a on the examples idx of the batch, gathered into one
// smaller batch (re-packed), example idx[j] with seed seeds[j]. The outcome
// is the whole batch's: the others returned as given and not fooled.
func seededOn(m Model, a seededAttack, x []float32, y []int, s Setting, idx []int, seeds []uint64) (*Outcome, error) {
	n := len(y)
	out := &Outcome{XAdv: append([]float32(nil), x...), Fooled: make([]bool, n), ZeroGrad: make([]bool, n)}
	out.FooledAny = out.Fooled
	if len(idx) == 0 {
		return out, nil
	}
	sub, err := a.perturbSeeded(packed{m: m, full: n}, gather(x, idx), gatherInts(y, idx), s, seeds)
	if err != nil {
		return nil, err
	}
	for j, i := range idx {
		copy(out.XAdv[i*imageSize:(i+1)*imageSize], sub.XAdv[j*imageSize:(j+1)*imageSize])
		out.Fooled[i], out.ZeroGrad[i] = sub.Fooled[j], sub.ZeroGrad[j]
	}
	out.Trace = sub.Trace
	return out, nil
}

// checkLoss is the untargeted loss the checks measure an attack by: its
// own, or for a targeted loss the CW margin (FGSM beside a targeted
// attack climbs it; lossRaised measures a targeted attack by its own loss).
func checkLoss(p results.AttackParams) (nn.Loss, error) {
	loss, err := nn.ParseLoss(p.Loss)
	if err != nil {
		return 0, fmt.Errorf("attack: %s: %w", p.Name, err)
	}
	if loss.Targeted() {
		loss = nn.CWMargin
	}
	return loss, nil
}

// lossRaised counts the clean-correct examples the attack ran on whose loss
// (the attack's own, per example, in float64) at x_adv exceeds their loss
// at x: an attack that ascends the loss raises it for nearly all of them.
// A targeted attack (APGD-T) returns, for an example it did not fool, the
// best point of its last run, toward the class ranked Targets+1 by the
// clean logits: its targeted loss toward that class is compared (the
// untargeted margin need not rise: targeted DLR also grows with its
// denominator); an example it fooled has raised any loss that a
// misclassification raises, and counts as raised.
func (e *Evaluation) lossRaised(m Model, st *AttackStats, p results.AttackParams, x []float32, y []int, cleanLogits []float32, clean []int, xAdv []float32, attacked []bool) error {
	loss, err := nn.ParseLoss(p.Loss)
	if err != nil {
		return fmt.Errorf("attack: %s: %w", p.Name, err)
	}
	advLogits, err := m.Logits(xAdv, e.Config.Branch, e.Config.Mode)
	if err != nil {
		return fmt.Errorf("attack: %s: %w", p.Name, err)
	}
	var t []int
	if loss.Targeted() {
		if p.Targets < 1 {
			return fmt.Errorf("attack: %s: targeted loss %s without targets", p.Name, loss)
		}
		t = rankedTargets(cleanLogits, len(y), p.Targets)[p.Targets-1]
	}
	before, after := exampleLosses(cleanLogits, y, t, loss), exampleLosses(advLogits, y, t, loss)
	pred := predictions(advLogits, len(y))
	for i := range y {
		if clean[i] != y[i] || !attacked[i] {
			continue
		}
		st.LossChecked++
		if after[i] > before[i] || (t != nil && pred[i] != y[i]) {
			st.LossRaised++
		}
	}
	return nil
}

// subsetChecks runs the extra check attacks on the first examples: FGSM at
// the attack's eps beside an iterative attack, the attack at LargeEps and
// at UnboundedEps, and for the strongest attack (top) the attack with
// twice its iterations and, on a two-branch model, the attack crafted on
// the other branch.
func (e *Evaluation) subsetChecks(m Model, a Attack, ai int, st *AttackStats, x []float32, y []int, clean []int, fooled []bool, top bool) error {
	p := a.Params()
	for i := range y {
		if clean[i] == y[i] && !fooled[i] {
			st.SubsetRobust++
		}
	}
	if p.Steps > 1 {
		loss, err := checkLoss(p)
		if err != nil {
			return err
		}
		if loss == nn.DLR {
			loss = nn.CE // FGSM's own loss, defined for any number of classes
		}
		f := &FGSM{Options{Eps: p.Eps, Loss: loss}}
		out, err := f.Perturb(m, x, y, e.Config.Setting, nil)
		if err != nil {
			return fmt.Errorf("attack: %s: fgsm check: %w", p.Name, err)
		}
		st.FGSMRan = true
		for i := range y {
			if clean[i] != y[i] {
				continue
			}
			if !out.Fooled[i] {
				st.SubsetFGSMRobust++
			} else if !fooled[i] {
				st.SubsetFGSMOnly++
			}
		}
	}
	if da, ok := a.(doublingAttack); ok && top {
		rng := rand.New(rand.NewPCG(e.Config.Seed, 1<<61|uint64(ai)<<32|uint64(e.Batches)))
		out, err := e.checkPerturb(m, da.doubled(), x, y, e.Config.Setting, rng, func(i int) bool { return clean[i] == y[i] && !fooled[i] })
		if err != nil {
			return fmt.Errorf("attack: %s: doubled steps check: %w", p.Name, err)
		}
		st.DoubledRan = true
		for i := range y {
			if clean[i] == y[i] && !fooled[i] && out.Fooled[i] {
				st.SubsetDoubledOnly++
			}
		}
	}
	if ra, ok := a.(radiusAttack); ok {
		rng := rand.New(rand.NewPCG(e.Config.Seed, 1<<63|uint64(ai)<<32|uint64(e.Batches)))
		correct := func(i int) bool { return clean[i] == y[i] }
		out, err := e.checkPerturb(m, ra.AtRadius(LargeEps), x, y, e.Config.Setting, rng, correct)
		if err != nil {
			return fmt.Errorf("attack: %s: eps %s check: %w", p.Name, Eps255(LargeEps), err)
		}
		st.LargeRan = true
		for i := range y {
			if clean[i] == y[i] && !out.Fooled[i] {
				st.SubsetLargeRobust++
			}
		}
		rng = rand.New(rand.NewPCG(e.Config.Seed, 1<<60|uint64(ai)<<32|uint64(e.Batches)))
		if out, err = e.checkPerturb(m, ra.AtRadius(UnboundedEps), x, y, e.Config.Setting, rng, correct); err != nil {
			return fmt.Errorf("attack: %s: unbounded check: %w", p.Name, err)
		}
		st.UnboundedRan = true
		for i := range y {
			if clean[i] == y[i] && !out.Fooled[i] {
				st.SubsetUnboundedRobust++
			}
		}
	}
	if bm, ok := m.(interface{ Branches() int }); ok && top && bm.Branches() == 2 {
		if err := e.transferCheck(m, a, ai, st, x, y, clean, fooled); err != nil {
			return fmt.Errorf("attack: %s: transfer check: %w", p.Name, err)
		}
	}
	return nil
}

// checkPerturb runs a check attack on the examples whose outcome the
// check counts (counts(i)), with the draws a.Perturb would take for the
// whole batch, so that each counted example's outcome is a.Perturb's
// (TestPrunedFlagsUnchanged compares the checks too): PGD through
// perturbActive, a per-example seeded attack on the gathered examples with
// their own seeds. The others are returned as given and not fooled. With
// Unpruned, or for another attack, it is a.Perturb on the whole batch.
func (e *Evaluation) checkPerturb(m Model, a Attack, x []float32, y []int, s Setting, rng *rand.Rand, counts func(i int) bool) (*Outcome, error) {
	if e.Config.Unpruned {
		return a.Perturb(m, x, y, s, rng)
	}
	active := make([]bool, len(y))
	var idx []int
	for i := range y {
		if active[i] = counts(i); active[i] {
			idx = append(idx, i)
		}
	}
	switch a := a.(type) {
	case activeAttack:
		return a.perturbActive(packed{m: m, full: len(y)}, x, y, s, rng, active)
	case seededAttack:
		seeds := drawSeeds(rng, len(y))
		pick := make([]uint64, len(idx))
		for j, i := range idx {
			pick[j] = seeds[i]
		}
		return seededOn(m, a, x, y, s, idx, pick)
	}
	return a.Perturb(m, x, y, s, rng)
}

// transferCheck crafts the attack on the other branch of a two-branch
// model (the same mode, its own draws) and scores its x_adv on this one.
func (e *Evaluation) transferCheck(m Model, a Attack, ai int, st *AttackStats, x []float32, y []int, clean []int, fooled []bool) error {
	other := e.Config.Setting
	other.Branch = 1 - other.Branch
	rng := rand.New(rand.NewPCG(e.Config.Seed, 1<<59|uint64(ai)<<32|uint64(e.Batches)))
	out, err := e.checkPerturb(m, a, x, y, other, rng, func(i int) bool { return clean[i] == y[i] })
	if err != nil {
		return err
	}
	logits, err := m.Logits(out.XAdv, e.Config.Branch, e.Config.Mode)
	if err != nil {
		return err
	}
	pred := predictions(logits, len(y))
	st.TransferRan = true
	for i := range y {
		if clean[i] != y[i] {
			continue
		}
		if pred[i] == y[i] {
			st.SubsetTransferRobust++
		} else if !fooled[i] {
			st.SubsetTransferOnly++
		}
	}
	return nil
}

// exampleLosses returns each example's loss from its logits, in float64
// (nn.ExampleLoss), toward the targets t of a targeted loss (nil otherwise).
func exampleLosses(logits []float32, y, t []int, loss nn.Loss) []float64 {
	k := len(logits) / len(y)
	out := make([]float64, len(y))
	row := make([]float64, k)
	for i, yi := range y {
		for j := range row {
			row[j] = float64(logits[i*k+j])
		}
		ti := 0
		if t != nil {
			ti = t[i]
		}
		out[i] = nn.ExampleLoss(loss, row, yi, ti, nil)
	}
	return out
}

// Result finishes the evaluation: accuracies, the worst case over attacks
// per example, and the sanity checks.
func (e *Evaluation) Result() (*Result, error) {
	n := len(e.CleanCorrect)
	if n == 0 {
		return nil, fmt.Errorf("attack: no examples to evaluate")
	}
	cfg := e.Config
	res := &Result{
		Version: version.Version, Model: cfg.Model, Data: cfg.Data, Branch: cfg.Branch.String(), Mode: cfg.Mode.String(), Seed: cfg.Seed,
		Measurement: results.Measurement{Examples: n, SA: stats.Fraction(e.CleanCorrect),
			PerExample: &results.PerExample{CleanCorrect: e.CleanCorrect, Robust: map[string][]bool{}, WorstCase: append([]bool(nil), e.CleanCorrect...)}},
	}
	for i, p := range e.Attacks {
		flags := e.Robust[i]
		st := e.Stats[i]
		ar := results.AttackResult{AttackParams: p, RA: stats.Fraction(flags), Robust: stats.Count(flags), MaxDelta: st.MaxDelta,
			MinPixel: st.MinPixel, MaxPixel: st.MaxPixel, NonFinite: st.NonFinite, ZeroGradFraction: float64(st.ZeroGrad) / float64(n)}
		res.Attacks = append(res.Attacks, ar)
		res.PerExample.Robust[p.Name] = flags
		for j, r := range flags {
			res.PerExample.WorstCase[j] = res.PerExample.WorstCase[j] && r
		}
	}
	res.WorstCaseRA = stats.Fraction(res.PerExample.WorstCase)
	res.Checks = sanityChecks(res, e.Stats, e.Checked)
	res.Diagnostics = diagnostics(res, e.Stats, e.Robust, e.CleanCorrect, e.Checked)
	for _, c := range append(slices.Clone(res.Checks), res.Diagnostics...) {
		if !c.OK {
			res.Warnings = append(res.Warnings, c.Name+": "+c.Detail)
		}
	}
	if cfg.Mode == nn.Train {
		res.Warnings = append(res.Warnings, "evaluated in training mode: batch statistics make predictions depend on the batch and update running statistics; robust accuracy is usually reported in eval mode")
	}
	return res, nil
}

// Evaluate measures standard accuracy and, for each attack, robust accuracy
// on every batch, with per-example results and the sanity checks.
func Evaluate(m Model, batches Batches, attacks []Attack, cfg EvalConfig) (*Result, error) {
	e, err := NewEvaluation(attacks, cfg)
	if err != nil {
		return nil, err
	}
	if err := batches(func(x []float32, y []int) error { return e.Add(m, attacks, x, y) }); err != nil {
		return nil, err
	}
	return e.Result()
}

// sanityChecks runs the checks every evaluation reports (docs/evaluation.md, "Checks
// of an evaluation"). Each can fail on a broken attack or a masked model;
// none holds by construction.
func sanityChecks(r *Result, stats []AttackStats, checked int) []results.Check {
	var cs []results.Check
	add := func(a, name string, ok bool, offending int, values map[string]float64, format string, args ...any) {
		cs = append(cs, results.Check{Name: a + ": " + name, Attack: a, OK: ok, Offending: offending, Values: values, Detail: fmt.Sprintf(format, args...)})
	}
	for i, a := range r.Attacks {
		st := stats[i]
		add(a.Name, "delta within eps", a.MaxDelta <= a.Eps+1e-6, 0, map[string]float64{"max_linf_delta": a.MaxDelta, "eps": a.Eps},
			"max |x_adv - x| = %.8f, eps = %.8f", a.MaxDelta, a.Eps)
		add(a.Name, "x_adv within [0,1]", a.MinPixel >= 0 && a.MaxPixel <= 1, 0, map[string]float64{"min_pixel": a.MinPixel, "max_pixel": a.MaxPixel},
			"pixels in [%g, %g]", a.MinPixel, a.MaxPixel)
		add(a.Name, "finite", a.NonFinite == 0, 0, map[string]float64{"non_finite_values": float64(a.NonFinite)}, "%d NaN or Inf values in x_adv", a.NonFinite)
		add(a.Name, "gradients not zero", a.ZeroGradFraction <= MaxZeroGradFraction, st.ZeroGrad,
			map[string]float64{"zero_gradient_fraction": a.ZeroGradFraction, "max_fraction": MaxZeroGradFraction},
			"%d examples (%.4f) have an all-zero input gradient (want <= %.2f)", st.ZeroGrad, a.ZeroGradFraction, MaxZeroGradFraction)
		if a.Eps == 0 {
			continue
		}
		if st.LossChecked > 0 {
			notRaised := st.LossChecked - st.LossRaised
			frac := float64(st.LossRaised) / float64(st.LossChecked)
			add(a.Name, "loss raised", frac >= MinLossRaised, notRaised,
				map[string]float64{"raised_fraction": frac, "min_fraction": MinLossRaised, "clean_correct": float64(st.LossChecked)},
				"loss at x_adv above the loss at x for %d of %d clean-correct examples (%.4f, want >= %.2f)", st.LossRaised, st.LossChecked, frac, MinLossRaised)
		}
		silent := float64(st.Silent) / float64(max(r.Examples, 1))
		add(a.Name, "no silent success", silent <= MaxSilentFraction, st.Silent, map[string]float64{"silent_examples": float64(st.Silent), "examples": float64(r.Examples), "max_fraction": MaxSilentFraction},
			"%d examples fooled by an iterate but not by the returned x_adv (RA overstated by %.4f, want <= %.2f)", st.Silent, silent, MaxSilentFraction)
		if checked == 0 {
			continue
		}
		n := float64(checked)
		if st.FGSMRan {
			fra, ra := float64(st.SubsetFGSMRobust)/n, float64(st.SubsetRobust)/n
			add(a.Name, "fgsm RA >= this RA", fra >= ra, st.SubsetFGSMOnly,
				map[string]float64{"fgsm_ra": fra, "ra": ra, "examples": n},
				"on the first %d examples FGSM at eps %s leaves RA %.4f, this attack %.4f; %d examples fooled by FGSM only", checked, a.Eps255, fra, ra, st.SubsetFGSMOnly)
		}
		if st.LargeRan {
			lra := float64(st.SubsetLargeRobust) / n
			add(a.Name, "large eps RA near 0", lra <= LargeEpsMaxRA, st.SubsetLargeRobust,
				map[string]float64{"large_eps": LargeEps, "ra": lra, "max_ra": LargeEpsMaxRA, "examples": n},
				"on the first %d examples the attack at eps %s leaves RA %.4f (want <= %.2f): %d examples survive", checked, Eps255(LargeEps), lra, LargeEpsMaxRA, st.SubsetLargeRobust)
		}
	}
	return cs
}
