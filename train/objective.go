package train

import (
	"maps"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/advbench/advbench/attack"
	"github.com/advbench/advbench/models/resnet"
	"github.com/advbench/advbench/nn"
)

// passResult is one forward pass of a training step: its loss and logits.
type passResult struct {
	loss   float64
	logits []float32
	grads  []resnet.Grad // the pass's own gradient (views, valid until the next pass on its branch)
}

// stepResult is what one training step computed before the update.
type stepResult struct {
	loss       float64     // the objective's loss, the one differentiated
	clean, adv *passResult // the passes the objective ran (nil: not run)
	grads      []resnet.Grad
	xAdv       []float32 // the training attack's batch (nil: no attack)
}

// stepInput is what an objective needs for one step.
type stepInput struct {
	m      *resnet.Model
	x      []float32
	y      []int
	pgd    *attack.PGD
	attack attack.Setting // the adversarial branch in the configured mode
	rng    *rand.Rand     // the step's attack randomness
}

// objective computes a step's loss and gradients.
type objective struct {
	summary string
	// trains is the branch whose robust accuracy selects best.safetensors.
	trains nn.Branch
	// clean and adv say which passes the step runs (what the log reports).
	clean, adv bool
	step       func(in stepInput) (*stepResult, error)
}

var objectives = map[string]objective{
	"advprop": {
		summary: "(CE(f_clean(x), y) + CE(f_adv(x_adv), y)) / 2, x_adv from PGD on the adversarial branch: the paper's Eq. 7",
		trains:  nn.Adv, clean: true, adv: true,
		step: func(in stepInput) (*stepResult, error) {
			xAdv, err := in.pgd.Run(in.m, in.x, in.y, in.attack, in.rng)
			if err != nil {
				return nil, err
			}
			r, err := in.m.AdvProp(in.x, xAdv, in.y)
			if err != nil {
				return nil, err
			}
			return &stepResult{loss: r.Loss, clean: &passResult{r.CleanLoss, r.CleanLogits, r.CleanGrads}, adv: &passResult{r.AdvLoss, r.AdvLogits, r.AdvGrads}, grads: r.Grads, xAdv: xAdv}, nil
		},
	},
	"madry": {
		summary: "CE(f_adv(x_adv), y) only: classic adversarial training on the adversarial branch",
		trains:  nn.Adv, adv: true,
		step: func(in stepInput) (*stepResult, error) {
			xAdv, err := in.pgd.Run(in.m, in.x, in.y, in.attack, in.rng)
			if err != nil {
				return nil, err
			}
			r, err := in.m.Train(xAdv, in.y, nn.Adv)
			if err != nil {
				return nil, err
			}
			return &stepResult{loss: r.Loss, adv: &passResult{r.Loss, r.Logits, r.Grads}, grads: r.Grads, xAdv: xAdv}, nil
		},
	},
	"clean": {
		summary: "CE(f_clean(x), y) only, no attack: the baseline that shows what adversarial training buys",
		trains:  nn.Clean, clean: true,
		step: func(in stepInput) (*stepResult, error) {
			r, err := in.m.Train(in.x, in.y, nn.Clean)
			if err != nil {
				return nil, err
			}
			return &stepResult{loss: r.Loss, clean: &passResult{r.Loss, r.Logits, r.Grads}, grads: r.Grads}, nil
		},
	},
}

// ObjectiveNames returns the objectives, sorted.
func ObjectiveNames() []string {
	return slices.Sorted(maps.Keys(objectives))
}

// ObjectiveSummary describes an objective in one line ("" when unknown).
func ObjectiveSummary(name string) string { return objectives[name].summary }

// ObjectivePasses says which passes an objective's step runs: the clean
// loss on the clean branch, the adversarial loss (x_adv from the training
// attack) on the adversarial branch.
func ObjectivePasses(objective string) (clean, adv bool) {
	o := objectives[objective]
	return o.clean, o.adv
}

// TrainedBranch is the branch whose validation robust accuracy selects the
// best checkpoint: the adversarial branch, or the clean one for the clean
// objective (which never trains the adversarial branch of a two-branch norm).
func TrainedBranch(objective string) nn.Branch { return objectives[objective].trains }

// Iteration is one training iteration of a configuration: the objective's
// attack (PGD on the adversarial branch in the configured mode), its passes,
// and the SGD update. Run and the advprop-iter benchmark both use it.
type Iteration struct {
	m       *resnet.Model
	opt     *SGD
	obj     objective
	pgd     *attack.PGD
	setting attack.Setting
}

// NewIteration returns the iteration of c's objective for m and opt.
func NewIteration(m *resnet.Model, opt *SGD, c Config) *Iteration {
	o := attack.DefaultOptions()
	o.Eps, o.Step = c.Eps, c.Step
	mode := nn.Train
	if c.AttackMode == "eval" {
		mode = nn.Eval
	}
	return &Iteration{m: m, opt: opt, obj: objectives[c.Objective], pgd: attack.NewPGD(c.TrainSteps, o),
		setting: attack.Setting{Branch: nn.Adv, Mode: mode}}
}

// Step runs the iteration on a batch with learning rate lr, the attack's
// random starts drawn from rng, and returns the objective's loss. A NaN or
// infinite loss is returned without updating the parameters.
func (it *Iteration) Step(x []float32, y []int, lr float64, rng *rand.Rand) (float64, error) {
	res, err := it.step(x, y, lr, rng)
	if err != nil {
		return 0, err
	}
	return res.loss, nil
}

func (it *Iteration) step(x []float32, y []int, lr float64, rng *rand.Rand) (*stepResult, error) {
	res, err := it.obj.step(stepInput{m: it.m, x: x, y: y, pgd: it.pgd, attack: it.setting, rng: rng})
	if err != nil {
		return nil, err
	}
	if math.IsNaN(res.loss) || math.IsInf(res.loss, 0) {
		return res, nil
	}
	return res, it.opt.Step(res.grads, lr)
}
