package attack

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/advbench/advbench/nn"
	"github.com/advbench/advbench/results"
)

func init() {
	register("apgd-ce", "APGD on cross-entropy (Croce & Hein): AutoAttack's first attack, 100 iterations", func(o Options) Attack { return newAPGD("apgd-ce", nn.CE, 0, o) })
	register("apgd-dlr", "APGD on the DLR loss (Croce & Hein), untargeted, 100 iterations", func(o Options) Attack { return newAPGD("apgd-dlr", nn.DLR, 0, o) })
	register("apgd-t", "APGD on the targeted DLR loss (Croce & Hein): AutoAttack's second attack, 9 targets x 100 iterations", func(o Options) Attack {
		return newAPGD("apgd-t", nn.DLRTargeted, DefaultTargets, o)
	})
}

// DefaultTargets is how many target classes AutoAttack's targeted attacks
// (APGD-T, FAB-T) try: the classes ranked 2nd to 10th by the clean logits.
const DefaultTargets = 9

// APGD is Auto-PGD in the L-inf ball: PGD with momentum whose step size
// starts at 2·eps and is halved at checkpoints when the loss stalls,
// restarting from the best point found.
//
// Paper: Croce & Hein, "Reliable evaluation of adversarial robustness with
// an ensemble of diverse parameter-free attacks", ICML 2020,
// arXiv:2003.01690, Algorithm 1 with the update of Eq. (2)
// z = P(x_k + η·sign(∇f(x_k))), x_{k+1} = P(x_k + α(z − x_k) + (1 − α)(x_k −
// x_{k−1})), α = 0.75 (1 for the first step), P projecting onto the eps-ball
// and [0,1]; the checkpoints of Eq. (4) (APGDCheckpoints) and the two
// conditions of Eq. (3): at a checkpoint η halves and the iterate moves to
// the best point when (1) at most Rho of the steps since the last checkpoint
// raised the loss or (2) η was not halved at the last checkpoint and the
// best loss has not improved since. The loss is cross-entropy (apgd-ce),
// DLR (apgd-dlr, Eq. 5) or targeted DLR (apgd-t, Eq. 6) toward the classes
// ranked 2nd..Targets+1 by the clean logits, one run per target.
//
// Details follow fra31/auto-attack (autoattack/autopgd_base.py): the start
// x + eps·u/‖u‖∞, u ~ U(−1,1)^d, clipped to [0,1]; condition (1) counts
// increases as ≤ Rho·k (the code), comparing the first step of the first
// interval with the start (the paper; the code compares it with 0); every
// restart (and target) runs only on the examples no earlier one fooled.
// Any iterate that misclassifies counts: XAdv is the last fooling iterate,
// else the point of highest loss. Randomness is drawn per example.
//
// Registered with AutoAttack's "standard" settings: 100 iterations, Rho 0.75,
// Options.Restarts restarts (1), 9 targets for apgd-t; Options.Step and
// Options.Loss are not used (the loss is in the name).
type APGD struct {
	name string
	Options
	// Iterations is N, the number of steps of one run (100).
	Iterations int
	// Rho is the fraction of loss-raising steps below which the step
	// size halves at a checkpoint (0.75).
	Rho float64
	// Momentum is α of the update (0.75).
	Momentum float64
	// Targets is the number of target classes of a targeted loss (9).
	Targets int
}

var _ seededAttack = (*APGD)(nil)

func newAPGD(name string, loss nn.Loss, targets int, o Options) *APGD {
	o.Loss = loss
	return &APGD{name: name, Options: o, Iterations: 100, Rho: 0.75, Momentum: 0.75, Targets: targets}
}

// Name returns the registry name, e.g. "apgd-ce".
func (a *APGD) Name() string { return a.name }

// Params returns the attack's hyper-parameters (Step is the initial 2·eps).
func (a *APGD) Params() results.AttackParams {
	return results.AttackParams{Name: a.name, Eps: a.Eps, Eps255: Eps255(a.Eps), Step: 2 * a.Eps, Steps: a.Iterations, Restarts: max(1, a.Restarts),
		RandomStart: true, Loss: a.Loss.String(), Targets: a.Targets, Pruned: true, Precision: a.precision()}
}

// doubled is the attack with twice the iterations (the doubling
// diagnostic).
func (a *APGD) doubled() Attack {
	d := *a
	d.Iterations *= 2
	return &d
}

// APGDCheckpoints returns the iterations (counted from 1) after which APGD
// checks its step size in a run of n iterations: w_j = p_j·n with p_0 = 0,
// p_1 = 0.22, p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06) (the paper's
// Eq. 4), in the reference code's integer arithmetic (the first interval
// ⌊0.22n⌋, each next one ⌊0.03n⌋ shorter, at least ⌊0.06n⌋, each at least
// 1). For n = 100: 22, 41, 57, 70, 80, 87, 93, 99.
func APGDCheckpoints(n int) []int {
	k := max(int(0.22*float64(n)), 1)
	dec := max(int(0.03*float64(n)), 1)
	least := max(int(0.06*float64(n)), 1)
	var out []int
	for at := k; at <= n; at += k {
		out = append(out, at)
		k = max(k-dec, least)
	}
	return out
}

// Perturb attacks the batch with per-example seeds drawn from rng.
func (a *APGD) Perturb(m Model, x []float32, y []int, s Setting, rng *rand.Rand) (*Outcome, error) {
	return a.perturbSeeded(m, x, y, s, drawSeeds(rng, len(y)))
}

func (a *APGD) perturbSeeded(m Model, x []float32, y []int, s Setting, seeds []uint64) (*Outcome, error) {
	n := len(y)
	if len(x) != n*imageSize || len(seeds) != n {
		return nil, fmt.Errorf("attack: %s: %d values and %d seeds for %d labels", a.name, len(x), len(seeds), n)
	}
	out := &Outcome{XAdv: append([]float32(nil), x...), Fooled: make([]bool, n), ZeroGrad: make([]bool, n), Trace: &LossTrace{}}
	out.FooledAny = out.Fooled
	if n == 0 {
		return out, nil
	}
	rngs := exampleRNGs(seeds)
	var targets [][]int // per run over targets: each example's target
	runs := 1
	if a.Loss.Targeted() {
		logits, err := m.Logits(x, s.Branch, s.Mode)
		if err != nil {
			return nil, fmt.Errorf("attack: %s: %w", a.name, err)
		}
		k := len(logits) / n
		if k < a.Loss.MinClasses() || a.Targets < 1 || a.Targets > k-1 {
			return nil, fmt.Errorf("attack: %s: %d target classes with %d classes (the %s loss needs at least %d)", a.name, a.Targets, k, a.Loss, a.Loss.MinClasses())
		}
		targets = rankedTargets(logits, n, a.Targets)
		runs = a.Targets
	} else if k := a.Loss.MinClasses(); k > 2 {
		logits, err := m.Logits(x[:imageSize], s.Branch, s.Mode)
		if err != nil {
			return nil, fmt.Errorf("attack: %s: %w", a.name, err)
		}
		if len(logits) < k {
			return nil, fmt.Errorf("attack: %s: the %s loss needs at least %d classes, the model has %d", a.name, a.Loss, k, len(logits))
		}
	}
	first := true
	for r := 0; r < runs; r++ {
		for rs := 0; rs < max(1, a.Restarts); rs++ {
			idx := robust(out.Fooled)
			if len(idx) == 0 {
				return out, nil
			}
			xs, ys := gather(x, idx), gatherInts(y, idx)
			var ts []int
			if targets != nil {
				ts = gatherInts(targets[r], idx)
			}
			sub := make([]*rand.Rand, len(idx))
			for j, i := range idx {
				sub[j] = rngs[i]
			}
			res, err := a.run(m, xs, ys, ts, s, sub)
			if err != nil {
				return nil, err
			}
			out.Trace.merge(&res.trace)
			for j, i := range idx {
				if first {
					out.ZeroGrad[i] = res.zeroGrad[j]
				}
				// Every example here was robust so far: it takes this
				// run's point (a fooling one, else this run's best).
				copy(out.XAdv[i*imageSize:(i+1)*imageSize], res.x[j*imageSize:(j+1)*imageSize])
				out.Fooled[i] = res.fooled[j]
			}
			first = false
		}
	}
	return out, nil
}

// rankedTargets returns, for r = 0..count-1, each example's class ranked
// r+2 by its logits (the runner-up first).
func rankedTargets(logits []float32, n, count int) [][]int {
	k := len(logits) / n
	out := make([][]int, count)
	for r := range out {
		out[r] = make([]int, n)
	}
	for i := 0; i < n; i++ {
		order := descending(logits[i*k : (i+1)*k])
		for r := range out {
			out[r][i] = order[r+1]
		}
	}
	return out
}

// descending returns the class indices ordered by decreasing logit (ties:
// lower index first).
func descending(z []float32) []int {
	order := make([]int, len(z))
	for i := range order {
		order[i] = i
	}
	for i := 1; i < len(order); i++ { // insertion sort: stable, k is small
		for j := i; j > 0 && z[order[j]] > z[order[j-1]]; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	return order
}

// apgdRun is one run's outcome per example: the returned point (the last
// fooling iterate, else the point of highest loss), whether some iterate
// fooled, and whether the start's gradient was all zero.
type apgdRun struct {
	x        []float32
	fooled   []bool
	zeroGrad []bool
	trace    LossTrace // the mean best loss per iteration
}

// run is one APGD run (Algorithm 1) on a batch, toward targets t when the
// loss is targeted.
func (a *APGD) run(m Model, x []float32, y, t []int, s Setting, rngs []*rand.Rand) (*apgdRun, error) {
	n := len(y)
	eps := float32(a.Eps)
	cur := make([]float32, len(x))
	linfStart(cur, x, a.Eps, rngs)
	losses := func(logits []float32) []float64 {
		k := len(logits) / n
		out := make([]float64, n)
		z := make([]float64, k)
		for i := range out {
			for j := range z {
				z[j] = float64(logits[i*k+j])
			}
			ti := 0
			if t != nil {
				ti = t[i]
			}
			out[i] = nn.ExampleLoss(a.Loss, z, y[i], ti, nil)
		}
		return out
	}
	logits, grad, err := lossGrad(m, a.name, cur, y, t, a.Loss, s)
	if err != nil {
		return nil, err
	}
	res := &apgdRun{x: append([]float32(nil), cur...), fooled: make([]bool, n), zeroGrad: make([]bool, n)}
	markZeroGrad(grad, res.zeroGrad)
	best := append([]float32(nil), cur...) // x_best: highest loss so far
	gradBest := append([]float32(nil), grad...)
	loss := losses(logits)
	lossBest := append([]float64(nil), loss...)
	mark := func(logits []float32) {
		for i, p := range predictions(logits, n) {
			if p != y[i] {
				res.fooled[i] = true
				copy(res.x[i*imageSize:(i+1)*imageSize], cur[i*imageSize:(i+1)*imageSize])
			}
		}
	}
	mark(logits)

	step := make([]float32, n)
	for i := range step {
		step[i] = 2 * eps
	}
	prev := append([]float32(nil), cur...) // x_{k−1}
	prevLoss := append([]float64(nil), loss...)
	raised := make([]int, n)
	lastBest := append([]float64(nil), lossBest...)
	reducedLast := make([]bool, n)
	for i := range reducedLast {
		reducedLast[i] = true // condition (2) cannot fire at the first checkpoint
	}
	checks := APGDCheckpoints(a.Iterations)
	next, since := 0, 0
	z := make([]float32, imageSize)
	for k := 0; k < a.Iterations; k++ {
		alpha := float32(a.Momentum)
		if k == 0 {
			alpha = 1
		}
		for i := 0; i < n; i++ {
			lo, hi := i*imageSize, (i+1)*imageSize
			xi, ci, pi := x[lo:hi], cur[lo:hi], prev[lo:hi]
			for j := range z {
				z[j] = clipBall(ci[j]+step[i]*sign(grad[lo+j]), xi[j], eps)
			}
			for j := range z {
				v := clipBall(ci[j]+alpha*(z[j]-ci[j])+(1-alpha)*(ci[j]-pi[j]), xi[j], eps)
				pi[j] = ci[j]
				ci[j] = v
			}
		}
		if logits, grad, err = lossGrad(m, a.name, cur, y, t, a.Loss, s); err != nil {
			return nil, err
		}
		mark(logits)
		loss = losses(logits)
		for i := range loss {
			if loss[i] > prevLoss[i] {
				raised[i]++
			}
			prevLoss[i] = loss[i]
			if loss[i] > lossBest[i] {
				lossBest[i] = loss[i]
				copy(best[i*imageSize:(i+1)*imageSize], cur[i*imageSize:(i+1)*imageSize])
				copy(gradBest[i*imageSize:(i+1)*imageSize], grad[i*imageSize:(i+1)*imageSize])
			}
		}
		total := 0.0
		for _, v := range lossBest {
			total += v
		}
		res.trace.add(k, total, n)
		since++
		if next < len(checks) && k+1 == checks[next] {
			for i := range loss {
				reduce := float64(raised[i]) <= a.Rho*float64(since) || !reducedLast[i] && lastBest[i] >= lossBest[i]
				reducedLast[i], lastBest[i], raised[i] = reduce, lossBest[i], 0
				if reduce {
					step[i] /= 2
					copy(cur[i*imageSize:(i+1)*imageSize], best[i*imageSize:(i+1)*imageSize])
					copy(grad[i*imageSize:(i+1)*imageSize], gradBest[i*imageSize:(i+1)*imageSize])
				}
			}
			next, since = next+1, 0
		}
	}
	for i := range y {
		if !res.fooled[i] {
			copy(res.x[i*imageSize:(i+1)*imageSize], best[i*imageSize:(i+1)*imageSize])
		}
	}
	return res, nil
}

// clipBall clips v into the eps-ball around x and into [0,1].
func clipBall(v, x, eps float32) float32 {
	return min(max(v, max(x-eps, 0)), min(x+eps, 1))
}

// gather returns the images idx of x, in that order.
// robust lists the examples not fooled yet: the ones a restart, a target
// or a later attack still runs on.
func robust(fooled []bool) []int {
	var idx []int
	for i, f := range fooled {
		if !f {
			idx = append(idx, i)
		}
	}
	return idx
}

// linfStart writes into cur each example of x moved to a random point on
// the L-inf sphere of radius r around it (AutoAttack's start: a uniform
// draw in [-1, 1] per pixel scaled so its largest entry is r), clipped to
// [0, 1]; example i draws from rngs[i].
func linfStart(cur, x []float32, r float64, rngs []*rand.Rand) {
	u := make([]float64, imageSize)
	for i := range len(x) / imageSize {
		top := 0.0
		for j := range u {
			u[j] = 2*rngs[i].Float64() - 1
			top = math.Max(top, math.Abs(u[j]))
		}
		for j, v := range u {
			p := i*imageSize + j
			cur[p] = min(max(x[p]+float32(r*v/(top+1e-12)), 0), 1)
		}
	}
}

func gather(x []float32, idx []int) []float32 {
	out := make([]float32, len(idx)*imageSize)
	for j, i := range idx {
		copy(out[j*imageSize:(j+1)*imageSize], x[i*imageSize:(i+1)*imageSize])
	}
	return out
}

func gatherInts(v []int, idx []int) []int {
	out := make([]int, len(idx))
	for j, i := range idx {
		out[j] = v[i]
	}
	return out
}
