package attack_test

import (
	"fmt"
	"math"

	"github.com/advbench/advbench/attack"
	"github.com/advbench/advbench/nn"
)

// pixels is the size of one 3x32x32 image, the layout attack.Model takes.
const pixels = 3 * 32 * 32

// contrast is a two-class linear classifier whose optimal L-inf attack is
// known in closed form. Its margin is z1 - z0 = a·Σ_j s_j·x_j with s_j = +1
// on even pixels and -1 on odd ones, so an image whose even pixels are
// 0.5+t and odd pixels 0.5-t has margin 3072·a·t, and the best perturbation
// of size eps (every pixel moved by eps against its sign, inside [0,1] as
// long as |t|+eps <= 0.5) lowers |t| by exactly eps: a correctly classified
// image survives every attack of radius eps exactly when |t| > eps.
type contrast struct{ a float64 }

// margins returns z1 - z0 for each image of x.
func (m contrast) margins(x []float32) []float64 {
	out := make([]float64, len(x)/pixels)
	for i := range out {
		s := 0.0
		for j, v := range x[i*pixels : (i+1)*pixels] {
			if j%2 == 0 {
				s += float64(v)
			} else {
				s -= float64(v)
			}
		}
		out[i] = m.a * s
	}
	return out
}

// Logits returns (z0, z1) = (0, margin) per image; branch and mode do not
// matter to a model without normalization layers.
func (m contrast) Logits(x []float32, _ nn.Branch, _ nn.Mode) ([]float32, error) {
	var z []float32
	for _, d := range m.margins(x) {
		z = append(z, 0, float32(d))
	}
	return z, nil
}

// LossGrad returns the batch-mean cross-entropy and its gradient
// (p1 - [y=1])·a·s_j / N with p1 = sigmoid(margin).
func (m contrast) LossGrad(x []float32, y []int, loss nn.Loss, b nn.Branch, mode nn.Mode) (float64, []float32, []float32, error) {
	if loss != nn.CE {
		return 0, nil, nil, fmt.Errorf("contrast: loss %v not implemented", loss)
	}
	n := float64(len(y))
	grad := make([]float32, len(x))
	total := 0.0
	for i, d := range m.margins(x) {
		p1 := 1 / (1 + math.Exp(-d))
		coef := p1
		if y[i] == 1 {
			coef = p1 - 1
			total += math.Log1p(math.Exp(-d))
		} else {
			total += math.Log1p(math.Exp(d))
		}
		for j := range pixels {
			s := 1.0
			if j%2 == 1 {
				s = -1
			}
			grad[i*pixels+j] = float32(coef * m.a * s / n)
		}
	}
	logits, _ := m.Logits(x, b, mode)
	return total / n, logits, grad, nil
}

// Evaluate PGD-10 at the paper's radius on a model whose optimal attack is
// known: the robust accuracy PGD measures is the closed-form one, and every
// x_adv stays within eps of its image.
func Example() {
	// Eight images with contrasts t; the label is the sign of t except for
	// the last image, which the model gets wrong.
	ts := []float64{0.1, -0.08, 0.05, -0.02, 0.01, 0.04, -0.06, 0.03}
	x := make([]float32, len(ts)*pixels)
	y := make([]int, len(ts))
	for i, t := range ts {
		for j := range pixels {
			if j%2 == 0 {
				x[i*pixels+j] = float32(0.5 + t)
			} else {
				x[i*pixels+j] = float32(0.5 - t)
			}
		}
		if t > 0 {
			y[i] = 1
		}
	}
	y[7] = 0
	batches := func(fn func(x []float32, y []int) error) error { return fn(x, y) }

	o := attack.DefaultOptions() // eps 8/255, step 2/255, one restart
	pgd, err := attack.New("pgd-10", o)
	if err != nil {
		fmt.Println(err)
		return
	}
	m := contrast{a: 1 / (pixels * 0.05)}
	res, err := attack.Evaluate(m, batches, []attack.Attack{pgd}, attack.EvalConfig{
		Setting: attack.Setting{Branch: nn.Adv, Mode: nn.Eval}, Seed: 1, Model: "contrast", Data: "8 synthetic images",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	robust := 0 // closed form: clean-correct and |t| > eps
	for i, t := range ts {
		if res.PerExample.CleanCorrect[i] && math.Abs(t) > o.Eps {
			robust++
		}
	}
	a := res.Attacks[0]
	fmt.Printf("standard accuracy %.3f on %d images\n", res.SA, res.Examples)
	fmt.Printf("%s robust accuracy %.3f (%d robust; closed form %d)\n", a.Name, a.RA, a.Robust, robust)
	fmt.Printf("max |x_adv - x| = %.2f/255 <= eps %s: %v\n", a.MaxDelta*255, a.Eps255, a.MaxDelta <= a.Eps+1e-6)
	fmt.Printf("x_adv in [%.2f, %.2f]\n", a.MinPixel, a.MaxPixel)
	failed := 0
	for _, c := range res.Checks {
		if !c.OK {
			failed++
		}
	}
	fmt.Printf("%d sanity checks, %d failed\n", len(res.Checks), failed)
	// Output:
	// standard accuracy 0.875 on 8 images
	// pgd-10 robust accuracy 0.625 (5 robust; closed form 5)
	// max |x_adv - x| = 8.00/255 <= eps 8/255: true
	// x_adv in [0.43, 0.57]
	// 8 sanity checks, 0 failed
}
