package attack

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/advbench/advbench/nn"
	"github.com/advbench/advbench/results"
)

func init() {
	register("fab-t", "FAB-T (Croce & Hein): targeted minimum-norm attack, AutoAttack's third attack, 9 targets x 100 iterations", func(o Options) Attack { return NewFAB(o) })
}

// FAB is the targeted L-inf Fast Adaptive Boundary attack: a minimum-norm
// attack that, toward a target class t, linearises the decision boundary
// z_t − z_y = 0 at the current point, projects both the current point and
// the clean image onto that hyperplane (within [0,1]), steps to a convex
// combination of the two projections (extrapolated by Eta, the weight of
// the clean image's at most AlphaMax), and after each success moves back
// toward the clean image by the factor Beta. It keeps, per example, the
// misclassified iterate closest to x; the example counts as fooled only
// when that distance is at most eps.
//
// Paper: Croce & Hein, "Minimally distorted adversarial examples with a fast
// adaptive boundary attack", ICML 2020, arXiv:1907.02044: the projection of
// Eq. (5) onto the linearised boundary of Eq. (3) (with the box [0,1]),
// the step of Eq. (8) with α of Eq. (9) and the backward step of Sec. 3.2;
// the targeted version (FAB-T) of Croce & Hein, arXiv:2003.01690, Sec. 5,
// attacking the classes ranked 2nd..Targets+1 by the clean logits, one run
// each. Defaults from fra31/auto-attack (autoattack/fab_base.py, AutoAttack
// "standard"): 100 iterations, 9 targets, 1 restart, AlphaMax 0.1, Eta
// 1.05, Beta 0.9; restarts after the first start from x + eps/2·u/‖u‖∞,
// u ~ U(−1,1)^d. Where the box makes the hyperplane unreachable the
// projection takes the unboxed radius (projectLinf).
type FAB struct {
	Options
	// Iterations per target and restart (100).
	Iterations int
	// Targets is the number of target classes (9).
	Targets int
	// AlphaMax bounds the weight of the clean image's projection (0.1).
	AlphaMax float64
	// Eta is the overshoot of the step (1.05).
	Eta float64
	// Beta is the backward step after a success (0.9).
	Beta float64
}

var _ seededAttack = (*FAB)(nil)

// NewFAB returns FAB-T with AutoAttack's settings and the radius and
// restarts of o (Options.Step and Options.Loss are not used).
func NewFAB(o Options) *FAB {
	return &FAB{Options: o, Iterations: 100, Targets: DefaultTargets, AlphaMax: 0.1, Eta: 1.05, Beta: 0.9}
}

// Name returns "fab-t".
func (f *FAB) Name() string { return "fab-t" }

// Params returns the attack's hyper-parameters (the loss is the targeted
// margin z_t − z_y whose boundary it linearises).
func (f *FAB) Params() results.AttackParams {
	return results.AttackParams{Name: "fab-t", Eps: f.Eps, Eps255: Eps255(f.Eps), Steps: f.Iterations, Restarts: max(1, f.Restarts),
		Loss: nn.CWTargeted.String(), Targets: f.Targets, Pruned: true, Precision: f.precision()}
}

// raisesLoss is false: a minimum-norm attack returns x for the examples it
// cannot fool within eps (the evaluation's loss check does not apply).
func (f *FAB) raisesLoss() bool { return false }

// Perturb attacks the batch with per-example seeds drawn from rng.
func (f *FAB) Perturb(m Model, x []float32, y []int, s Setting, rng *rand.Rand) (*Outcome, error) {
	return f.perturbSeeded(m, x, y, s, drawSeeds(rng, len(y)))
}

func (f *FAB) perturbSeeded(m Model, x []float32, y []int, s Setting, seeds []uint64) (*Outcome, error) {
	n := len(y)
	if len(x) != n*imageSize || len(seeds) != n {
		return nil, fmt.Errorf("attack: fab-t: %d values and %d seeds for %d labels", len(x), len(seeds), n)
	}
	out := &Outcome{XAdv: append([]float32(nil), x...), Fooled: make([]bool, n), ZeroGrad: make([]bool, n)}
	out.FooledAny = out.Fooled
	if n == 0 {
		return out, nil
	}
	logits, err := m.Logits(x, s.Branch, s.Mode)
	if err != nil {
		return nil, fmt.Errorf("attack: fab-t: %w", err)
	}
	if k := len(logits) / n; f.Targets < 1 || f.Targets > k-1 {
		return nil, fmt.Errorf("attack: fab-t: %d target classes with %d classes", f.Targets, k)
	}
	targets := rankedTargets(logits, n, f.Targets)
	rngs := exampleRNGs(seeds)
	for r := 0; r < f.Targets; r++ {
		for rs := 0; rs < max(1, f.Restarts); rs++ {
			idx := robust(out.Fooled)
			if len(idx) == 0 {
				return out, nil
			}
			var sub []*rand.Rand
			if rs > 0 {
				for _, i := range idx {
					sub = append(sub, rngs[i])
				}
			}
			adv, dist, err := f.run(m, gather(x, idx), gatherInts(y, idx), gatherInts(targets[r], idx), s, sub)
			if err != nil {
				return nil, err
			}
			for j, i := range idx {
				if dist[j] <= f.Eps {
					out.Fooled[i] = true
					copy(out.XAdv[i*imageSize:(i+1)*imageSize], adv[j*imageSize:(j+1)*imageSize])
				}
			}
		}
	}
	return out, nil
}

// run is one FAB run toward the targets t, from x (rngs nil) or from a
// random start; it returns each example's closest misclassified iterate
// and its L-inf distance from x (+Inf where none was found).
func (f *FAB) run(m Model, x []float32, y, t []int, s Setting, rngs []*rand.Rand) ([]float32, []float64, error) {
	n := len(y)
	cur := append([]float32(nil), x...)
	if rngs != nil {
		linfStart(cur, x, f.Eps/2, rngs)
	}
	adv := append([]float32(nil), x...)
	dist := make([]float64, n)
	for i := range dist {
		dist[i] = math.Inf(1)
	}
	w := make([]float64, imageSize)
	pt := make([]float64, imageSize)
	d1, d2 := make([]float64, imageSize), make([]float64, imageSize)
	for it := 0; it < f.Iterations; it++ {
		logits, grad, err := lossGrad(m, "fab-t", cur, y, t, nn.CWTargeted, s)
		if err != nil {
			return nil, nil, err
		}
		k := len(logits) / n
		for i := 0; i < n; i++ {
			lo := i * imageSize
			df := float64(logits[i*k+t[i]]) - float64(logits[i*k+y[i]])
			b := -df
			for j := range w {
				w[j] = float64(grad[lo+j]) * float64(n) // the per-example gradient of z_t − z_y
				b += w[j] * float64(cur[lo+j])
			}
			for j := range pt {
				pt[j] = float64(cur[lo+j])
			}
			a1 := projectLinf(pt, w, b, d1)
			for j := range pt {
				pt[j] = float64(x[lo+j])
			}
			a2 := projectLinf(pt, w, b, d2)
			a1, a2 = math.Max(a1, 1e-8), math.Max(a2, 1e-8)
			alpha := math.Min(math.Max(a1/(a1+a2), 0), f.AlphaMax)
			for j := range w {
				v := (float64(cur[lo+j])+f.Eta*d1[j])*(1-alpha) + (float64(x[lo+j])+f.Eta*d2[j])*alpha
				cur[lo+j] = float32(math.Min(math.Max(v, 0), 1))
			}
		}
		z, err := m.Logits(cur, s.Branch, s.Mode)
		if err != nil {
			return nil, nil, fmt.Errorf("attack: fab-t: %w", err)
		}
		for i, p := range predictions(z, n) {
			if p == y[i] {
				continue
			}
			lo, hi := i*imageSize, (i+1)*imageSize
			d := 0.0
			for j := lo; j < hi; j++ {
				d = math.Max(d, math.Abs(float64(cur[j]-x[j])))
			}
			if d < dist[i] {
				dist[i] = d
				copy(adv[lo:hi], cur[lo:hi])
			}
			for j := lo; j < hi; j++ {
				cur[j] = x[j] + float32(f.Beta)*(cur[j]-x[j])
			}
		}
	}
	return adv, dist, nil
}

// projectLinf writes into d the smallest-L-inf step from p onto the
// hyperplane w·(p+d) = b with p+d in [0,1], and returns ‖d‖∞. Moving
// coordinate j toward the hyperplane by at most λ (and within the box)
// changes w·p by at most Σ_j |w_j|·min(λ, room_j); the smallest λ reaching
// |b − w·p| is found over the sorted rooms. If the box cannot reach the
// hyperplane, λ is the unboxed |b − w·p|/‖w‖₁, each coordinate still
// limited by the box.
func projectLinf(p, w []float64, b float64, d []float64) float64 {
	c := b
	for j := range p {
		c -= w[j] * p[j]
	}
	clear(d)
	if c == 0 {
		return 0
	}
	dir := func(j int) float64 { // +1: move up, −1: down, 0: w_j = 0
		switch {
		case w[j] == 0:
			return 0
		case (w[j] > 0) == (c > 0):
			return 1
		}
		return -1
	}
	room := make([]float64, len(p))
	order := make([]int, 0, len(p))
	total, need := 0.0, math.Abs(c)
	for j := range p {
		switch dir(j) {
		case 1:
			room[j] = 1 - p[j]
		case -1:
			room[j] = p[j]
		default:
			continue
		}
		room[j] = math.Max(room[j], 0)
		order = append(order, j)
		total += math.Abs(w[j])
	}
	if total == 0 {
		return 0
	}
	sort.Slice(order, func(a, b int) bool { return room[order[a]] < room[order[b]] })
	lambda := need / total // the unboxed solution
	acc, rest := 0.0, total
	for _, j := range order {
		// Every coordinate from here on has room ≥ room[j].
		if l := (need - acc) / rest; l <= room[j] {
			lambda = l
			break
		}
		acc += math.Abs(w[j]) * room[j]
		rest -= math.Abs(w[j])
		if rest <= 0 {
			break // the box cannot reach the hyperplane: the unboxed λ stands
		}
	}
	norm := 0.0
	for _, j := range order {
		d[j] = dir(j) * math.Min(lambda, room[j])
		norm = math.Max(norm, math.Abs(d[j]))
	}
	return norm
}
