package attack

import (
	"fmt"
	"math"
	"math/rand/v2"

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

// AttackResult, PerExample and Check are the result types of package
// results, which renders and stores them without depending on this package.
type (
	AttackResult = results.AttackResult
	PerExample   = results.PerExample
	Check        = results.Check
)

// Evaluation accumulates an evaluation batch by batch. Its state is plain
// data (JSON): saved between batches, it resumes an interrupted evaluation
// to the identical result, because batch k of attack i draws its random
// starts from a generator seeded (Seed, i, k) rather than from a stream.
type Evaluation struct {
	Config  EvalConfig `json:"config"`
	Attacks []Params   `json:"attacks"`
	// Batches is the number of batches added.
	Batches      int           `json:"batches"`
	CleanCorrect []bool        `json:"clean_correct"`
	Robust       [][]bool      `json:"robust"` // per attack, per example
	Stats        []AttackStats `json:"stats"`  // per attack
}

// AttackStats are an attack's running diagnostics.
type AttackStats struct {
	MaxDelta  float64 `json:"max_linf_delta"`
	MinPixel  float64 `json:"min_pixel"` // over finite values; valid when Finite > 0
	MaxPixel  float64 `json:"max_pixel"`
	Finite    int64   `json:"finite_values"`
	NonFinite int     `json:"non_finite_values"`
	ZeroGrad  int     `json:"zero_gradient_examples"`
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
	for i := range y {
		e.CleanCorrect = append(e.CleanCorrect, clean[i] == y[i])
	}
	for ai, a := range attacks {
		rng := rand.New(rand.NewPCG(e.Config.Seed, uint64(ai)<<32|uint64(e.Batches)))
		out, err := a.Perturb(m, x, y, e.Config.Setting, rng)
		if err != nil {
			return err
		}
		st := &e.Stats[ai]
		for i := range y {
			e.Robust[ai] = append(e.Robust[ai], clean[i] == y[i] && !out.Fooled[i])
			if out.ZeroGrad[i] {
				st.ZeroGrad++
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
	e.Batches++
	return nil
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
		Measurement: results.Measurement{Examples: n, SA: fraction(e.CleanCorrect),
			PerExample: &PerExample{CleanCorrect: e.CleanCorrect, Robust: map[string][]bool{}, WorstCase: append([]bool(nil), e.CleanCorrect...)}},
	}
	for i, p := range e.Attacks {
		flags := e.Robust[i]
		st := e.Stats[i]
		ar := AttackResult{AttackParams: p, RA: fraction(flags), Robust: count(flags), MaxDelta: st.MaxDelta,
			MinPixel: st.MinPixel, MaxPixel: st.MaxPixel, NonFinite: st.NonFinite, ZeroGradFraction: float64(st.ZeroGrad) / float64(n)}
		res.Attacks = append(res.Attacks, ar)
		res.PerExample.Robust[p.Name] = flags
		for j, r := range flags {
			res.PerExample.WorstCase[j] = res.PerExample.WorstCase[j] && r
		}
	}
	res.WorstCaseRA = fraction(res.PerExample.WorstCase)
	res.Checks = sanityChecks(res)
	for _, c := range res.Checks {
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

// sanityChecks runs the checks every evaluation reports.
func sanityChecks(r *Result) []Check {
	var cs []Check
	add := func(name string, ok bool, format string, args ...any) {
		cs = append(cs, Check{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
	}
	for i, a := range r.Attacks {
		add(a.Name+": delta within eps", a.MaxDelta <= a.Eps+1e-6, "max |x_adv - x| = %.8f, eps = %.8f", a.MaxDelta, a.Eps)
		add(a.Name+": x_adv within [0,1]", a.MinPixel >= 0 && a.MaxPixel <= 1, "pixels in [%g, %g]", a.MinPixel, a.MaxPixel)
		add(a.Name+": finite", a.NonFinite == 0, "%d NaN or Inf values in x_adv", a.NonFinite)
		add(a.Name+": gradients not zero", a.ZeroGradFraction == 0, "%.4f of examples have an all-zero input gradient", a.ZeroGradFraction)
		add(a.Name+": RA <= SA", a.RA <= r.SA, "RA %.4f, SA %.4f", a.RA, r.SA)
		if a.Eps == 0 {
			add(a.Name+": eps 0 reproduces SA", a.RA == r.SA, "RA %.4f, SA %.4f", a.RA, r.SA)
		}
		// Per example: robust under all attacks implies robust under this one.
		worst := r.PerExample.WorstCase
		flags := r.PerExample.Robust[a.Name]
		bad := 0
		for j := range worst {
			if worst[j] && !flags[j] {
				bad++
			}
		}
		add(a.Name+": worst case <= this attack", bad == 0 && r.WorstCaseRA <= r.Attacks[i].RA, "%d examples robust in the worst case but not under this attack", bad)
	}
	return cs
}

func fraction(flags []bool) float64 {
	if len(flags) == 0 {
		return 0
	}
	return float64(count(flags)) / float64(len(flags))
}

func count(flags []bool) int {
	c := 0
	for _, f := range flags {
		if f {
			c++
		}
	}
	return c
}
