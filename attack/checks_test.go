package attack

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/advbench/advbench/nn"
	"github.com/advbench/advbench/results"
)

// gradMutant is a model whose input gradient is broken: scaled by -1 (the
// attack's step sign flipped) or by 0 (masked gradients).
type gradMutant struct {
	Model
	scale float32
}

func (g gradMutant) LossGrad(x []float32, y []int, loss nn.Loss, b nn.Branch, m nn.Mode) (float64, []float32, []float32, error) {
	l, z, grad, err := g.Model.LossGrad(x, y, loss, b, m)
	for i := range grad {
		grad[i] *= g.scale
	}
	return l, z, grad, err
}

// someZero zeroes the input gradient of every k-th example of a batch, as
// a model locally constant on a few examples does.
type someZero struct {
	Model
	every int
}

func (g someZero) LossGrad(x []float32, y []int, loss nn.Loss, b nn.Branch, m nn.Mode) (float64, []float32, []float32, error) {
	l, z, grad, err := g.Model.LossGrad(x, y, loss, b, m)
	per := len(grad) / len(y)
	for j := 0; j < len(y); j += g.every {
		clear(grad[j*per : (j+1)*per])
	}
	return l, z, grad, err
}

// TestFewZeroGradientsAreCounted: a few examples with an all-zero input
// gradient (4 of 200, the limit) are counted but do not fail the check;
// 20 of 200 do.
func TestFewZeroGradientsAreCounted(t *testing.T) {
	for _, tc := range []struct {
		every, zero int
		ok          bool
	}{{50, 4, true}, {10, 20, false}} {
		lin, x, y := nearBoundary(200)
		batches := func(fn func(x []float32, y []int) error) error {
			for lo := 0; lo < len(y); lo += 50 {
				if err := fn(x[lo*imageSize:(lo+50)*imageSize], y[lo:lo+50]); err != nil {
					return err
				}
			}
			return nil
		}
		pgd, _ := New("pgd-10", DefaultOptions())
		res, err := Evaluate(someZero{lin, tc.every}, batches, []Attack{pgd}, EvalConfig{Setting: evalSetting, Seed: 3})
		require.NoError(t, err)
		var c results.Check
		for _, c = range res.Checks {
			if c.Name == "pgd-10: gradients not zero" {
				break
			}
		}
		require.Equal(t, "pgd-10: gradients not zero", c.Name)
		assert.Equal(t, tc.zero, c.Offending)
		assert.Equal(t, tc.ok, c.OK, c.Detail)
	}
}

// attackMutant runs an attack against a broken model while the
// evaluation (and its FGSM check) sees the real one.
type attackMutant struct {
	Attack
	scale float32
}

func (a attackMutant) Perturb(m Model, x []float32, y []int, s Setting, rng *rand.Rand) (*Outcome, error) {
	return a.Attack.Perturb(gradMutant{m, a.scale}, x, y, s, rng)
}

func (a attackMutant) AtRadius(eps float64) Attack {
	return attackMutant{a.Attack.(radiusAttack).AtRadius(eps), a.scale}
}

// unprojected is PGD without the projection onto the eps-ball (only onto
// [0,1]), reporting the eps it was asked for.
type unprojected struct{ *PGD }

func (u unprojected) Perturb(m Model, x []float32, y []int, s Setting, rng *rand.Rand) (*Outcome, error) {
	return u.broken().Perturb(m, x, y, s, rng)
}

// perturbActive is the path an evaluation takes (the pruned protocol).
func (u unprojected) perturbActive(m Model, x []float32, y []int, s Setting, rng *rand.Rand, active []bool) (*Outcome, error) {
	return u.broken().perturbActive(m, x, y, s, rng, active)
}

func (u unprojected) broken() *PGD {
	o := u.Options
	o.Eps = 1
	o.NoRandom = true
	return NewPGD(u.Steps, o)
}

// nearBoundary is a two-class linear model and n images around mid-grey
// whose margins are of the size of an 8/255 random start's effect: the
// unbroken attack fools every example, a random start alone some.
func nearBoundary(n int) (*linear, []float32, []int) {
	rng := rand.New(rand.NewPCG(21, 22))
	m := newLinear(2, 0.004, rng)
	x := make([]float32, n*imageSize)
	for i := range x {
		x[i] = 0.5 + 0.02*(2*rng.Float32()-1)
	}
	mid := make([]float32, imageSize)
	for i := range mid {
		mid[i] = 0.5
	}
	z := m.logits(mid)
	m.b[0], m.b[1] = m.b[0]-z[0], m.b[1]-z[1]
	y := make([]int, n)
	z = m.logits(x)
	for i := range y {
		y[i] = argmax(z[2*i : 2*i+2])
	}
	return m, x, y
}

var checkNames = []string{"delta within eps", "gradients not zero", "loss raised", "no silent success", "fgsm RA >= this RA", "large eps RA near 0"}

// TestChecksCatchMutations: every check passes on the unbroken attack and
// fails under a mutation of the attack or the model: step sign flipped,
// gradient zeroed, projection dropped, and the iterative attack alone
// flipped (FGSM then beats it).
func TestChecksCatchMutations(t *testing.T) {
	opts := Options{Eps: 8.0 / 255, Step: 2.0 / 255, Restarts: 1}
	pgd := NewPGD(10, opts)
	for _, tc := range []struct {
		name   string
		model  func(Model) Model
		attack Attack
		fail   []string
	}{
		{"unbroken", nil, pgd, nil},
		{"step sign flipped", func(m Model) Model { return gradMutant{m, -1} }, pgd, []string{"loss raised", "no silent success", "large eps RA near 0"}},
		{"gradient zeroed", func(m Model) Model { return gradMutant{m, 0} }, pgd, []string{"gradients not zero", "loss raised", "large eps RA near 0"}},
		{"projection dropped", nil, unprojected{pgd}, []string{"delta within eps"}},
		{"iterative attack alone flipped", nil, attackMutant{pgd, -1}, []string{"loss raised", "no silent success", "fgsm RA >= this RA", "large eps RA near 0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lin, x, y := nearBoundary(200)
			var m Model = lin
			if tc.model != nil {
				m = tc.model(lin)
			}
			batches := func(fn func(x []float32, y []int) error) error {
				for lo := 0; lo < len(y); lo += 50 {
					if err := fn(x[lo*imageSize:(lo+50)*imageSize], y[lo:lo+50]); err != nil {
						return err
					}
				}
				return nil
			}
			res, err := Evaluate(m, batches, []Attack{tc.attack}, EvalConfig{Setting: evalSetting, Seed: 3})
			require.NoError(t, err)
			require.Equal(t, 1.0, res.SA, "every example clean-correct")
			got := map[string]results.Check{}
			for _, c := range res.Checks {
				got[strings.TrimPrefix(c.Name, "pgd-10: ")] = c
			}
			for _, name := range checkNames {
				c, ok := got[name]
				require.True(t, ok, "check %q reported", name)
				wantFail := false
				for _, f := range tc.fail {
					wantFail = wantFail || f == name
				}
				assert.Equal(t, !wantFail, c.OK, "%s: %s (values %v, offending %d)", c.Name, c.Detail, c.Values, c.Offending)
				if wantFail {
					assert.Contains(t, res.Warnings, c.Name+": "+c.Detail, "a failed check is a warning")
				}
				if !c.OK {
					t.Logf("fires: %s: %s", c.Name, c.Detail)
				}
			}
		})
	}
}
