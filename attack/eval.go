package attack

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/advbench/advbench/internal/version"
	"github.com/advbench/advbench/nn"
)

// Batches calls fn for every batch of an evaluation set, in a fixed order,
// and stops at the first error fn returns.
type Batches func(fn func(x []float32, y []int) error) error

// EvalConfig says what an evaluation is run against and records its identity.
type EvalConfig struct {
	Setting
	Seed  uint64 // random starts: attack i draws from a generator seeded (Seed, i)
	Model string // model or checkpoint identity, recorded as given
	Data  string // dataset description, recorded as given
}

// Result is an evaluation as data. Accuracies are fractions in [0,1].
type Result struct {
	Version  string         `json:"advbench_version"`
	Model    string         `json:"model"`
	Data     string         `json:"data"`
	Branch   string         `json:"branch"`
	Mode     string         `json:"mode"`
	Seed     uint64         `json:"seed"`
	Examples int            `json:"examples"`
	SA       float64        `json:"standard_accuracy"`
	Attacks  []AttackResult `json:"attacks"`
	// WorstCaseRA counts an example as robust only if it survives every attack.
	WorstCaseRA float64     `json:"worst_case_robust_accuracy"`
	PerExample  *PerExample `json:"per_example"`
	Checks      []Check     `json:"checks"`
	Warnings    []string    `json:"warnings"`
}

// AttackResult is one attack's robust accuracy and diagnostics.
type AttackResult struct {
	Params
	RA               float64 `json:"robust_accuracy"`
	Robust           int     `json:"robust_examples"`
	MaxDelta         float64 `json:"max_linf_delta"`
	MinPixel         float64 `json:"min_pixel"`
	MaxPixel         float64 `json:"max_pixel"`
	NonFinite        int     `json:"non_finite_values"`
	ZeroGradFraction float64 `json:"zero_gradient_fraction"`
}

// PerExample holds per-example flags in evaluation order. An example is
// robust under an attack when it is classified correctly both clean and at
// the attack's x_adv (the clean point lies in its own eps-ball).
type PerExample struct {
	CleanCorrect []bool            `json:"clean_correct"`
	Robust       map[string][]bool `json:"robust"`
	WorstCase    []bool            `json:"worst_case_robust"`
}

// Check is one sanity check.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Evaluate measures standard accuracy and, for each attack, robust accuracy
// on every batch, with per-example results and the sanity checks.
func Evaluate(m Model, batches Batches, attacks []Attack, cfg EvalConfig) (*Result, error) {
	res := &Result{
		Version: version.Version, Model: cfg.Model, Data: cfg.Data, Branch: cfg.Branch.String(), Mode: cfg.Mode.String(), Seed: cfg.Seed,
		PerExample: &PerExample{Robust: map[string][]bool{}},
	}
	rngs := make([]*rand.Rand, len(attacks))
	res.Attacks = make([]AttackResult, len(attacks))
	zero := make([]int, len(attacks))
	for i, a := range attacks {
		rngs[i] = rand.New(rand.NewPCG(cfg.Seed, uint64(i)))
		res.Attacks[i] = AttackResult{Params: a.Params(), MinPixel: math.Inf(1), MaxPixel: math.Inf(-1)}
		if _, dup := res.PerExample.Robust[a.Name()]; dup {
			return nil, fmt.Errorf("attack: %s listed twice", a.Name())
		}
		res.PerExample.Robust[a.Name()] = nil
	}
	err := batches(func(x []float32, y []int) error {
		logits, err := m.Logits(x, cfg.Branch, cfg.Mode)
		if err != nil {
			return err
		}
		clean := predictions(logits, len(y))
		worst := make([]bool, len(y))
		for i := range y {
			worst[i] = clean[i] == y[i]
			res.PerExample.CleanCorrect = append(res.PerExample.CleanCorrect, worst[i])
		}
		for ai, a := range attacks {
			out, err := a.Perturb(m, x, y, cfg.Setting, rngs[ai])
			if err != nil {
				return err
			}
			ar := &res.Attacks[ai]
			for i := range y {
				robust := clean[i] == y[i] && !out.Fooled[i]
				res.PerExample.Robust[a.Name()] = append(res.PerExample.Robust[a.Name()], robust)
				worst[i] = worst[i] && robust
				if out.ZeroGrad[i] {
					zero[ai]++
				}
			}
			for i, v := range out.XAdv {
				f := float64(v)
				if math.IsNaN(f) || math.IsInf(f, 0) {
					ar.NonFinite++
					continue
				}
				ar.MaxDelta = math.Max(ar.MaxDelta, math.Abs(f-float64(x[i])))
				ar.MinPixel, ar.MaxPixel = math.Min(ar.MinPixel, f), math.Max(ar.MaxPixel, f)
			}
		}
		res.PerExample.WorstCase = append(res.PerExample.WorstCase, worst...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	n := len(res.PerExample.CleanCorrect)
	if n == 0 {
		return nil, fmt.Errorf("attack: no examples to evaluate")
	}
	res.Examples = n
	res.SA = fraction(res.PerExample.CleanCorrect)
	res.WorstCaseRA = fraction(res.PerExample.WorstCase)
	for i, a := range attacks {
		flags := res.PerExample.Robust[a.Name()]
		res.Attacks[i].RA = fraction(flags)
		res.Attacks[i].Robust = count(flags)
		res.Attacks[i].ZeroGradFraction = float64(zero[i]) / float64(n)
	}
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
