package attack

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/advbench/advbench/internal/classify"
	"github.com/advbench/advbench/internal/registry"
	"github.com/advbench/advbench/nn"
	"github.com/advbench/advbench/results"
)

// Model is what an attack needs from a classifier. x holds N images of
// 3x32x32 pixel values in [0,1], row-major; logits are N x classes.
type Model interface {
	// LossGrad returns the batch-mean loss of the given kind, the logits and
	// the gradient of the loss with respect to x, for a branch in a mode.
	LossGrad(x []float32, y []int, loss nn.Loss, b nn.Branch, m nn.Mode) (float64, []float32, []float32, error)
	// Logits returns the logits of x for a branch in a mode.
	Logits(x []float32, b nn.Branch, m nn.Mode) ([]float32, error)
}

// TargetedModel is a Model that also differentiates a targeted loss
// (nn.Loss.Targeted: targeted DLR, targeted margin) toward a target class
// per example. APGD-T and FAB-T need it; the ResNet implements it.
type TargetedModel interface {
	Model
	// TargetedLossGrad is LossGrad for a targeted loss, toward the class
	// t[i] for example i.
	TargetedLossGrad(x []float32, y, t []int, loss nn.Loss, b nn.Branch, m nn.Mode) (float64, []float32, []float32, error)
}

// Setting is what an attack is run against: the branch attacked (the same
// branch that is evaluated: white-box) and the mode of its statistics.
type Setting struct {
	Branch nn.Branch `json:"branch"`
	Mode   nn.Mode   `json:"mode"`
}

// Outcome is the result of attacking one batch.
type Outcome struct {
	// XAdv is the adversarial batch: per example, the first perturbation that
	// fooled the model, else the last restart's.
	XAdv []float32
	// Fooled says, per example, whether some restart's x_adv was misclassified.
	Fooled []bool
	// ZeroGrad says, per example, whether its input gradient was exactly zero
	// at the first step (a sign of masked or saturated gradients).
	ZeroGrad []bool
	// FooledAny says, per example, whether any point the attack classified
	// on its way (any iterate of any restart, or XAdv) was misclassified.
	// FooledAny without Fooled is a silent success: the attack returned a
	// point that does not fool although it had found one that does.
	FooledAny []bool
	// Trace is the loss the attack climbed per iteration (nil for attacks
	// that do not record it).
	Trace *LossTrace
}

// Attack perturbs batches.
type Attack interface {
	// Name is the registry name, e.g. "pgd-20".
	Name() string
	// Params describes the attack as data (for results).
	Params() results.AttackParams
	// Perturb attacks one batch with labels y.
	Perturb(m Model, x []float32, y []int, s Setting, rng *rand.Rand) (*Outcome, error)
}

// Options are the knobs of the registered attacks. DefaultOptions gives the
// paper's values: eps 8/255, step 2/255, one restart, random start not
// clamped to [0,1] (as the reference code), cross-entropy.
type Options struct {
	Eps        float64
	Step       float64
	Restarts   int
	NoRandom   bool // no random start
	ClampStart bool // clamp the random start to [0,1]
	Loss       nn.Loss
	// Precision is the precision of the model's attack steps (the
	// convolutions of its input gradients, nn.Precision), recorded in
	// Params; whoever runs the attack sets the model's to the same
	// (resnet.Model.SetAttackPrecision). Square, which only queries
	// logits (float32 whatever this says), records none.
	Precision nn.Precision
}

// precision is Params' record of o.Precision: "" for float32 (so that
// results written before bf16 existed keep their identity), "bf16".
func (o Options) precision() string {
	if o.Precision == nn.FP32 {
		return ""
	}
	return o.Precision.String()
}

// DefaultOptions returns the paper's attack settings.
func DefaultOptions() Options {
	return Options{Eps: 8.0 / 255, Step: 2.0 / 255, Restarts: 1}
}

var known = registry.New[func(Options) Attack]("attack")

func register(name, summary string, f func(Options) Attack) { known.Register(name, summary, f) }

// Names returns the registered attack names, sorted.
func Names() []string { return known.Names() }

// Summary describes a registered attack in one line.
func Summary(name string) string { return known.Summary(name) }

// New returns the named attack with the given options.
func New(name string, o Options) (Attack, error) {
	f, err := known.Get(name)
	if err != nil {
		return nil, fmt.Errorf("attack: %w", err)
	}
	if o.Eps < 0 || o.Step < 0 || math.IsNaN(o.Eps) || math.IsNaN(o.Step) {
		return nil, fmt.Errorf("attack: eps %v and step %v must be non-negative", o.Eps, o.Step)
	}
	if o.Restarts < 1 {
		o.Restarts = 1
	}
	return f(o), nil
}

// ParseEps reads an eps as a number ("0.0314") or a fraction ("8/255").
func ParseEps(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if num, den, ok := strings.Cut(s, "/"); ok {
		n, err1 := strconv.ParseFloat(strings.TrimSpace(num), 64)
		d, err2 := strconv.ParseFloat(strings.TrimSpace(den), 64)
		if err1 != nil || err2 != nil || d == 0 {
			return 0, fmt.Errorf("attack: eps %q: want a number or n/d such as 8/255", s)
		}
		return checkEps(s, n/d)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("attack: eps %q: want a number or n/d such as 8/255", s)
	}
	return checkEps(s, v)
}

func checkEps(s string, v float64) (float64, error) {
	if v < 0 || v > 1 || math.IsNaN(v) {
		return 0, fmt.Errorf("attack: eps %q = %v out of range [0, 1]", s, v)
	}
	return v, nil
}

// Eps255 spells an eps as n/255 (n to two decimals when not whole).
func Eps255(eps float64) string {
	n := eps * 255
	if math.Abs(n-math.Round(n)) < 1e-9 {
		return fmt.Sprintf("%d/255", int(math.Round(n)))
	}
	return fmt.Sprintf("%.2f/255", n)
}

// predictions returns the arg-max class of each row of logits.
func predictions(logits []float32, n int) []int {
	k := len(logits) / n
	out := make([]int, n)
	for i := range out {
		out[i] = classify.Argmax(logits[i*k : (i+1)*k])
	}
	return out
}

// project clips x_adv into the eps-ball around x and into [0,1], in place.
func project(xAdv, x []float32, eps float64) {
	e := float32(eps)
	for i, v := range xAdv {
		lo, hi := max(x[i]-e, 0), min(x[i]+e, 1)
		xAdv[i] = min(max(v, lo), hi)
	}
}

// lossGrad returns the logits at x and the gradient of the batch-mean loss
// (targeted toward t when the loss is) with respect to x.
func lossGrad(m Model, name string, x []float32, y, t []int, loss nn.Loss, s Setting) (logits, grad []float32, err error) {
	if loss.Targeted() {
		tm, ok := m.(TargetedModel)
		if !ok {
			return nil, nil, fmt.Errorf("attack: %s: the model cannot differentiate the targeted loss %s", name, loss)
		}
		_, logits, grad, err = tm.TargetedLossGrad(x, y, t, loss, s.Branch, s.Mode)
	} else {
		_, logits, grad, err = m.LossGrad(x, y, loss, s.Branch, s.Mode)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("attack: %s: %w", name, err)
	}
	return logits, grad, nil
}

// exampleRNGs returns one generator per example from its seed: an
// example's random draws do not depend on the other examples of its batch,
// so attacking a subset gives each example what attacking all gives it.
func exampleRNGs(seeds []uint64) []*rand.Rand {
	out := make([]*rand.Rand, len(seeds))
	for i, s := range seeds {
		out[i] = rand.New(rand.NewPCG(s, 0x5eed))
	}
	return out
}

// drawSeeds draws one seed per example from rng.
func drawSeeds(rng *rand.Rand, n int) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = rng.Uint64()
	}
	return out
}

// seededAttack is an attack whose randomness is drawn per example from the
// example's own seed, and which runs AutoAttack's protocol: only on the
// points still robust after the earlier such attacks of an evaluation
// (Params.Pruned).
type seededAttack interface {
	Attack
	perturbSeeded(m Model, x []float32, y []int, s Setting, seeds []uint64) (*Outcome, error)
}

func sign(v float32) float32 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

const imageSize = 3 * 32 * 32
