package attack

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/advbench/advbench/results"
)

func init() {
	register("square", "Square Attack (Andriushchenko et al.): score-based black-box random search, 5000 queries", func(o Options) Attack { return NewSquare(o) })
}

// Square is the L-inf Square Attack: a random search that needs only the
// model's logits. From vertical stripes x + eps·(±1 per channel and
// column), each iteration moves one random square window of side
// ⌊√(p·h·w)⌉ to x ± eps (a random sign per channel), clipped to [0,1], and
// keeps the change if the margin z_y − max_{j≠y} z_j decreases or the
// example is misclassified. p starts at PInit and halves after iterations
// 10, 50, 200, 500, 1000, 2000, 4000, 6000 and 8000. An example stops being
// queried once it is misclassified (every accepted point counts).
//
// Paper: Andriushchenko, Croce, Flammarion & Hein, "Square Attack: a
// query-efficient black-box adversarial attack via random search", ECCV
// 2020, arXiv:1912.00049, Algorithm 1 with the L-inf sampling distribution
// of Algorithm 2 and the margin loss of Sec. 2 (untargeted). Details follow
// fra31/auto-attack (autoattack/square.py) with AutoAttack's settings
// (5,000 queries, p_init 0.8, the schedule not rescaled to the number of
// queries), except that each example draws its own window position (the
// code shares one per batch and never draws the last row or column; the
// paper draws uniformly) so that an example's attack does not depend on
// its batch.
type Square struct {
	Options
	// Queries is the number of iterations (5000), after the initial query.
	Queries int
	// PInit is the initial fraction of pixels a window covers (0.8).
	PInit float64
}

var _ seededAttack = (*Square)(nil)

// NewSquare returns the Square Attack with AutoAttack's settings and the
// radius and restarts of o (Options.Step and Options.Loss are not used).
func NewSquare(o Options) *Square { return &Square{Options: o, Queries: 5000, PInit: 0.8} }

// Name returns "square".
func (q *Square) Name() string { return "square" }

// Params returns the attack's hyper-parameters (Steps is the number of
// queries; the loss is the margin, recorded as "cw").
func (q *Square) Params() results.AttackParams {
	return results.AttackParams{Name: "square", Eps: q.Eps, Eps255: Eps255(q.Eps), Steps: q.Queries, Restarts: max(1, q.Restarts), RandomStart: true, Loss: "cw", Pruned: true}
}

// SquareP is the fraction of pixels Square's window covers at iteration it
// (from 0) when it starts from pInit.
func SquareP(it int, pInit float64) float64 {
	for i, at := range []int{8000, 6000, 4000, 2000, 1000, 500, 200, 50, 10} {
		if it > at {
			return pInit / float64(int(512)>>i)
		}
	}
	return pInit
}

// Perturb attacks the batch with per-example seeds drawn from rng.
func (q *Square) Perturb(m Model, x []float32, y []int, s Setting, rng *rand.Rand) (*Outcome, error) {
	return q.perturbSeeded(m, x, y, s, drawSeeds(rng, len(y)))
}

func (q *Square) perturbSeeded(m Model, x []float32, y []int, s Setting, seeds []uint64) (*Outcome, error) {
	n := len(y)
	if len(x) != n*imageSize || len(seeds) != n {
		return nil, fmt.Errorf("attack: square: %d values and %d seeds for %d labels", len(x), len(seeds), n)
	}
	out := &Outcome{XAdv: append([]float32(nil), x...), Fooled: make([]bool, n), ZeroGrad: make([]bool, n)}
	out.FooledAny = out.Fooled
	rngs := exampleRNGs(seeds)
	for r := 0; r < max(1, q.Restarts); r++ {
		idx := robust(out.Fooled)
		if len(idx) == 0 {
			break
		}
		sub := make([]*rand.Rand, len(idx))
		for j, i := range idx {
			sub[j] = rngs[i]
		}
		best, fooled, err := q.run(m, gather(x, idx), gatherInts(y, idx), s, sub)
		if err != nil {
			return nil, err
		}
		for j, i := range idx {
			copy(out.XAdv[i*imageSize:(i+1)*imageSize], best[j*imageSize:(j+1)*imageSize])
			out.Fooled[i] = fooled[j]
		}
	}
	return out, nil
}

const side = 32 // images are 3 x side x side

// run is one run of the random search; it returns each example's best
// point and whether it is misclassified.
func (q *Square) run(m Model, x []float32, y []int, s Setting, rngs []*rand.Rand) ([]float32, []bool, error) {
	n := len(y)
	eps := float32(q.Eps)
	best := make([]float32, len(x))
	for i := 0; i < n; i++ {
		for c := 0; c < 3; c++ {
			for col := 0; col < side; col++ {
				d := eps
				if rngs[i].IntN(2) == 0 {
					d = -eps
				}
				for row := 0; row < side; row++ {
					p := i*imageSize + c*side*side + row*side + col
					best[p] = min(max(x[p]+d, 0), 1)
				}
			}
		}
	}
	margins := func(xs []float32, ys []int) ([]float64, []bool, error) {
		z, err := m.Logits(xs, s.Branch, s.Mode)
		if err != nil {
			return nil, nil, fmt.Errorf("attack: square: %w", err)
		}
		k := len(z) / len(ys)
		mg := make([]float64, len(ys))
		wrong := make([]bool, len(ys))
		for i, yi := range ys {
			other := math.Inf(-1)
			for j, v := range z[i*k : (i+1)*k] {
				if j != yi {
					other = math.Max(other, float64(v))
				}
			}
			mg[i] = float64(z[i*k+yi]) - other
		}
		for i, p := range predictions(z, len(ys)) {
			wrong[i] = p != ys[i]
		}
		return mg, wrong, nil
	}
	margin, fooled, err := margins(best, y)
	if err != nil {
		return nil, nil, err
	}
	cand := make([]float32, 0, len(x))
	for it := 0; it < q.Queries; it++ {
		var idx []int
		for i := range y {
			if !fooled[i] {
				idx = append(idx, i)
			}
		}
		if len(idx) == 0 {
			break
		}
		w := max(int(math.Round(math.Sqrt(SquareP(it, q.PInit)*side*side))), 1)
		w = min(w, side)
		cand = cand[:0]
		for _, i := range idx {
			lo := i * imageSize
			cand = append(cand, best[lo:lo+imageSize]...)
			xi, ci := x[lo:lo+imageSize], cand[len(cand)-imageSize:]
			r, col := rngs[i].IntN(side-w+1), rngs[i].IntN(side-w+1)
			for c := 0; c < 3; c++ {
				d := 2 * eps
				if rngs[i].IntN(2) == 0 {
					d = -d
				}
				for a := r; a < r+w; a++ {
					for b := col; b < col+w; b++ {
						p := c*side*side + a*side + b
						ci[p] = clipBall(ci[p]+d, xi[p], eps)
					}
				}
			}
		}
		mg, wrong, err := margins(cand, gatherInts(y, idx))
		if err != nil {
			return nil, nil, err
		}
		for j, i := range idx {
			if mg[j] < margin[i] || wrong[j] {
				margin[i], fooled[i] = mg[j], wrong[j]
				copy(best[i*imageSize:(i+1)*imageSize], cand[j*imageSize:(j+1)*imageSize])
			}
		}
	}
	return best, fooled, nil
}
