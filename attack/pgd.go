package attack

import (
	"fmt"
	"math/rand/v2"

	"github.com/advbench/advbench/results"
)

func init() {
	register("pgd-10", "PGD, 10 steps (Madry et al.): the paper's training and evaluation attack", func(o Options) Attack { return newPGD("pgd-10", 10, o) })
	register("pgd-20", "PGD, 20 steps: the paper's stronger evaluation attack", func(o Options) Attack { return newPGD("pgd-20", 20, o) })
}

// PGD is projected gradient descent on the loss in the L-inf ball: from a
// random start x + U(−eps, eps) (optionally clamped to [0,1]; the reference
// code does not clamp), Steps times x ← Π(x + Step · sign(∇x loss)), Π
// projecting onto the eps-ball around the clean input and onto [0,1]. With
// several restarts an example counts as robust only if it survives all of
// them. Untargeted; the loss is cross-entropy or the CW margin.
//
// Paper: Madry et al., "Towards Deep Learning Models Resistant to
// Adversarial Attacks", ICLR 2018, arXiv:1706.06083. It implements the
// paper's PGD update x^{t+1} = Π_{x+S}(x^t + α·sgn(∇x L(θ, x^t, y))) with S
// the L-inf ball of radius eps (Eps) and α the step (Step), from a random
// start in S as in the paper's experiments; Π here also projects every
// iterate onto the valid pixel range [0,1].
//
// Fields are used as given (eps 0 is the identity attack); the registered
// pgd-10 and pgd-20 take DefaultOptions: eps 8/255, step 2/255, 1 restart.
type PGD struct {
	name string
	Options
	Steps int
}

var _ Attack = (*PGD)(nil)

func newPGD(name string, steps int, o Options) *PGD {
	return &PGD{name: name, Options: o, Steps: steps}
}

// NewPGD returns a PGD attack with a custom number of steps.
func NewPGD(steps int, o Options) *PGD {
	if o.Restarts < 1 {
		o.Restarts = 1
	}
	return newPGD(fmt.Sprintf("pgd-%d", steps), steps, o)
}

// Name returns e.g. "pgd-20".
func (p *PGD) Name() string { return p.name }

// Params returns the attack's hyper-parameters.
func (p *PGD) Params() results.AttackParams {
	return results.AttackParams{Name: p.name, Eps: p.Eps, Eps255: Eps255(p.Eps), Step: p.Step, Steps: p.Steps, Restarts: p.Restarts,
		RandomStart: !p.NoRandom, ClampStart: p.ClampStart, Loss: p.Loss.String(), Precision: p.precision()}
}

// Perturb runs every restart on the batch and keeps, per example, the first
// x_adv that fools the model.
func (p *PGD) Perturb(m Model, x []float32, y []int, s Setting, rng *rand.Rand) (*Outcome, error) {
	n := len(y)
	if len(x) != n*imageSize {
		return nil, fmt.Errorf("attack: %s: %d values for %d labels", p.name, len(x), n)
	}
	out := &Outcome{XAdv: make([]float32, len(x)), Fooled: make([]bool, n), ZeroGrad: make([]bool, n), FooledAny: make([]bool, n), Trace: &LossTrace{}}
	cur := make([]float32, len(x))
	restarts := max(1, p.Restarts)
	for r := 0; r < restarts; r++ {
		zero := out.ZeroGrad
		if r > 0 {
			zero = nil
		}
		if err := p.iterate(m, cur, x, y, s, rng, zero, out.FooledAny, out.Trace); err != nil {
			return nil, err
		}
		logits, err := m.Logits(cur, s.Branch, s.Mode)
		if err != nil {
			return nil, fmt.Errorf("attack: %s: %w", p.name, err)
		}
		pred := predictions(logits, n)
		last := r == restarts-1
		for i := 0; i < n; i++ {
			if pred[i] != y[i] {
				out.FooledAny[i] = true
			}
			if out.Fooled[i] {
				continue
			}
			if pred[i] != y[i] || last {
				copy(out.XAdv[i*imageSize:(i+1)*imageSize], cur[i*imageSize:(i+1)*imageSize])
				out.Fooled[i] = pred[i] != y[i]
			}
		}
	}
	return out, nil
}

// Run returns the last iterate of one restart and nothing else: no final
// classification, no restarts. It is the attack of adversarial training,
// where the reference code feeds x_adv straight into the training step (in
// training mode an extra forward pass would also move running statistics).
func (p *PGD) Run(m Model, x []float32, y []int, s Setting, rng *rand.Rand) ([]float32, error) {
	if len(x) != len(y)*imageSize {
		return nil, fmt.Errorf("attack: %s: %d values for %d labels", p.name, len(x), len(y))
	}
	cur := make([]float32, len(x))
	if err := p.iterate(m, cur, x, y, s, rng, nil, nil, nil); err != nil {
		return nil, err
	}
	return cur, nil
}

// perturbActive is Perturb on the examples active marks, with the same
// random starts: each restart draws the whole batch's start as Perturb does
// and runs only on the active examples no earlier restart fooled, gathered
// into one smaller batch (the evaluation passes a model that re-packs it).
// The others are returned as given and not fooled. In evaluation mode an
// example's iterates do not depend on the others in its batch, so an active
// example's outcome is Perturb's (TestPrunedPGDFlagsUnchanged).
func (p *PGD) perturbActive(m Model, x []float32, y []int, s Setting, rng *rand.Rand, active []bool) (*Outcome, error) {
	n := len(y)
	if len(x) != n*imageSize || len(active) != n {
		return nil, fmt.Errorf("attack: %s: %d values and %d flags for %d labels", p.name, len(x), len(active), n)
	}
	out := &Outcome{XAdv: append([]float32(nil), x...), Fooled: make([]bool, n), ZeroGrad: make([]bool, n), FooledAny: make([]bool, n), Trace: &LossTrace{}}
	starts := make([]float32, len(x))
	restarts := max(1, p.Restarts)
	for r := 0; r < restarts; r++ {
		p.start(starts, x, rng)
		var idx []int
		for i := range y {
			if active[i] && !out.Fooled[i] {
				idx = append(idx, i)
			}
		}
		if len(idx) == 0 {
			continue
		}
		cur, xs, ys := gather(starts, idx), gather(x, idx), gatherInts(y, idx)
		var zero []bool
		if r == 0 {
			zero = make([]bool, len(idx))
		}
		fooledAny := make([]bool, len(idx))
		if err := p.steps(m, cur, xs, ys, s, zero, fooledAny, out.Trace); err != nil {
			return nil, err
		}
		logits, err := m.Logits(cur, s.Branch, s.Mode)
		if err != nil {
			return nil, fmt.Errorf("attack: %s: %w", p.name, err)
		}
		pred := predictions(logits, len(idx))
		last := r == restarts-1
		for j, i := range idx {
			if zero != nil {
				out.ZeroGrad[i] = zero[j]
			}
			if fooledAny[j] || pred[j] != y[i] {
				out.FooledAny[i] = true
			}
			if pred[j] != y[i] || last {
				copy(out.XAdv[i*imageSize:(i+1)*imageSize], cur[j*imageSize:(j+1)*imageSize])
				out.Fooled[i] = pred[j] != y[i]
			}
		}
	}
	return out, nil
}

// iterate runs one restart in cur: a fresh start, then Steps steps (steps).
func (p *PGD) iterate(m Model, cur, x []float32, y []int, s Setting, rng *rand.Rand, zero, fooled []bool, trace *LossTrace) error {
	p.start(cur, x, rng)
	return p.steps(m, cur, x, y, s, zero, fooled, trace)
}

// steps takes the Steps steps of a restart from the start in cur. When
// zero is not nil it receives the first step's all-zero-gradient flags;
// when fooled is not nil, every example that an iterate before a step
// misclassifies is marked in it (from the logits the step computes anyway).
func (p *PGD) steps(m Model, cur, x []float32, y []int, s Setting, zero, fooled []bool, trace *LossTrace) error {
	for k := 0; k < p.Steps; k++ {
		loss, grad, logits, err := p.step(m, cur, x, y, s)
		if err != nil {
			return err
		}
		if trace != nil {
			trace.add(k, loss*float64(len(y)), len(y))
		}
		if k == 0 && zero != nil {
			markZeroGrad(grad, zero)
		}
		if fooled != nil {
			for i, pr := range predictions(logits, len(y)) {
				if pr != y[i] {
					fooled[i] = true
				}
			}
		}
	}
	return nil
}

// AtRadius returns the same attack (steps, restarts, loss, start) at radius
// eps, with the step scaled by eps/Eps so the attack can still cross the
// ball. The evaluation's large-radius and unbounded checks run it.
func (p *PGD) AtRadius(eps float64) Attack {
	o := p.Options
	if p.Eps > 0 {
		o.Step = p.Step * eps / p.Eps
	}
	o.Eps = eps
	return newPGD(p.name, p.Steps, o)
}

// step takes one PGD step in place: cur ← Π(cur + Step·sign(∇ loss(cur))).
// It returns the gradient it used and the logits at cur before the step.
func (p *PGD) step(m Model, cur, x []float32, y []int, s Setting) (float64, []float32, []float32, error) {
	loss, logits, grad, err := m.LossGrad(cur, y, p.Loss, s.Branch, s.Mode)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("attack: %s: %w", p.name, err)
	}
	step := float32(p.Step)
	for i, g := range grad {
		cur[i] += step * sign(g)
	}
	project(cur, x, p.Eps)
	return loss, grad, logits, nil
}

// doubled is the attack with twice the steps (the doubling diagnostic).
func (p *PGD) doubled() Attack { return newPGD(p.name, 2*p.Steps, p.Options) }

// start writes the starting point of a restart: x plus uniform noise in
// [−eps, eps] (clamped to [0,1] if asked), or x itself without random start.
func (p *PGD) start(cur, x []float32, rng *rand.Rand) {
	copy(cur, x)
	if p.NoRandom || p.Eps == 0 {
		return
	}
	for i := range cur {
		cur[i] += float32(p.Eps * (2*rng.Float64() - 1))
		if p.ClampStart {
			cur[i] = min(max(cur[i], 0), 1)
		}
	}
}

// markZeroGrad flags the examples whose whole input gradient is zero.
func markZeroGrad(grad []float32, flags []bool) {
	for i := range flags {
		zero := true
		for _, g := range grad[i*imageSize : (i+1)*imageSize] {
			if g != 0 {
				zero = false
				break
			}
		}
		flags[i] = zero
	}
}
