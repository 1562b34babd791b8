package attack

import (
	"fmt"
	"math/rand/v2"

	"github.com/advbench/advbench/results"
)

func init() {
	register("fgsm", "FGSM (Goodfellow et al.): one signed-gradient step of size eps from the clean input", func(o Options) Attack { return &FGSM{Options: o} })
}

// FGSM is the fast gradient sign method: x_adv = clamp(x + eps·sign(∇x loss),
// 0, 1), one step, no random start (Options.Step, Restarts and the start
// options are ignored).
//
// Paper: Goodfellow et al., "Explaining and Harnessing Adversarial
// Examples", ICLR 2015, arXiv:1412.6572. It implements the paper's
// perturbation η = ε·sign(∇x J(θ, x, y)), x_adv = x + η, followed by a clip
// to the pixel range [0,1] that the paper's equation leaves out.
type FGSM struct{ Options }

var _ Attack = (*FGSM)(nil)

// Name returns "fgsm".
func (f *FGSM) Name() string { return "fgsm" }

// Params returns the attack's hyper-parameters.
func (f *FGSM) Params() results.AttackParams {
	return results.AttackParams{Name: "fgsm", Eps: f.Eps, Eps255: Eps255(f.Eps), Step: f.Eps, Steps: 1, Restarts: 1, Loss: f.Loss.String(), Precision: f.precision()}
}

// Perturb takes the one step.
func (f *FGSM) Perturb(m Model, x []float32, y []int, s Setting, _ *rand.Rand) (*Outcome, error) {
	n := len(y)
	if len(x) != n*imageSize {
		return nil, fmt.Errorf("attack: fgsm: %d values for %d labels", len(x), n)
	}
	_, _, grad, err := m.LossGrad(x, y, f.Loss, s.Branch, s.Mode)
	if err != nil {
		return nil, fmt.Errorf("attack: fgsm: %w", err)
	}
	out := &Outcome{XAdv: make([]float32, len(x)), Fooled: make([]bool, n), ZeroGrad: make([]bool, n)}
	markZeroGrad(grad, out.ZeroGrad)
	for i, g := range grad {
		out.XAdv[i] = x[i] + float32(f.Eps)*sign(g)
	}
	project(out.XAdv, x, f.Eps)
	logits, err := m.Logits(out.XAdv, s.Branch, s.Mode)
	if err != nil {
		return nil, fmt.Errorf("attack: fgsm: %w", err)
	}
	for i, p := range predictions(logits, n) {
		out.Fooled[i] = p != y[i]
	}
	out.FooledAny = out.Fooled
	return out, nil
}
