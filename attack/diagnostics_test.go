package attack

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/advbench/advbench/nn"
	"github.com/advbench/advbench/results"
)

// noisyGrad shatters a model's input gradient: to each example's gradient
// it adds uniform noise amp times as large as that gradient's largest
// entry, so a sign step is nearly random (obfuscated gradients, Athalye et
// al. 2018): the attack still gains, but slowly.
type noisyGrad struct {
	Model
	amp float64
	rng *rand.Rand
}

func (g noisyGrad) LossGrad(x []float32, y []int, loss nn.Loss, b nn.Branch, m nn.Mode) (float64, []float32, []float32, error) {
	l, z, grad, err := g.Model.LossGrad(x, y, loss, b, m)
	per := len(grad) / len(y)
	for i := range y {
		row := grad[i*per : (i+1)*per]
		top := 0.0
		for _, v := range row {
			top = math.Max(top, math.Abs(float64(v)))
		}
		for j := range row {
			row[j] += float32(g.amp * top * (2*g.rng.Float64() - 1))
		}
	}
	return l, z, grad, err
}

// twoBranch makes a one-branch model a two-branch one whose branches
// compute the same function; the masked branch's input gradient is zero
// (a model masked on one branch only), the other's is the model's own.
type twoBranch struct {
	Model
	masked nn.Branch
	mask   bool
}

func (t twoBranch) Branches() int { return 2 }

func (t twoBranch) LossGrad(x []float32, y []int, loss nn.Loss, b nn.Branch, m nn.Mode) (float64, []float32, []float32, error) {
	l, z, grad, err := t.Model.LossGrad(x, y, loss, b, m)
	if t.mask && b == t.masked {
		clear(grad)
	}
	return l, z, grad, err
}

// diagnosticsOf evaluates attacks on the 64 images of nearBoundary (the
// unbroken PGD fools every one) against m wrapping its linear model, and
// returns the diagnostics by name without the attack's prefix.
func diagnosticsOf(t *testing.T, wrap func(Model) Model, names ...string) (map[string]results.Check, *Result) {
	t.Helper()
	lin, x, y := nearBoundary(CheckExamples)
	var m Model = lin
	if wrap != nil {
		m = wrap(lin)
	}
	var attacks []Attack
	for _, n := range names {
		a, err := New(n, DefaultOptions())
		require.NoError(t, err)
		attacks = append(attacks, a)
	}
	res, err := Evaluate(m, func(fn func(x []float32, y []int) error) error { return fn(x, y) }, attacks, EvalConfig{Setting: evalSetting, Seed: 5})
	require.NoError(t, err)
	require.Equal(t, 1.0, res.SA)
	got := map[string]results.Check{}
	for _, c := range res.Diagnostics {
		_, name, _ := strings.Cut(c.Name, ": ")
		got[c.Attack+"/"+name] = c
	}
	return got, res
}

// TestDiagnosticsFireOnMaskedModels: each diagnostic holds on the unbroken
// linear model and fails on a masked one: shattered gradients leave PGD
// unconverged (doubling its steps fools more; its loss still rises at the
// end), zeroed gradients let Square (black box) fool what PGD cannot and
// leave even an unbounded PGD short of 100% success, and a branch whose
// gradients alone are zeroed is fooled more by PGD crafted on the other.
func TestDiagnosticsFireOnMaskedModels(t *testing.T) {
	shattered := func(m Model) Model { return noisyGrad{m, 30, rand.New(rand.NewPCG(7, 8))} }
	zeroed := func(m Model) Model { return gradMutant{m, 0} }
	for _, tc := range []struct {
		name    string
		wrap    func(Model) Model
		attacks []string
		check   string
		ok      bool
	}{
		{"doubling, unbroken", nil, []string{"pgd-10"}, "pgd-10/doubled steps agree", true},
		{"doubling, shattered gradients", shattered, []string{"pgd-10"}, "pgd-10/doubled steps agree", false},
		{"loss converged, unbroken", nil, []string{"pgd-20"}, "pgd-20/loss converged", true},
		{"loss converged, shattered gradients", shattered, []string{"pgd-20"}, "pgd-20/loss converged", false},
		{"square vs white-box, unbroken", nil, []string{"pgd-10", "square"}, "square/square does not beat white-box", true},
		{"square vs white-box, zeroed gradients", zeroed, []string{"pgd-10", "square"}, "square/square does not beat white-box", false},
		{"unbounded, unbroken", nil, []string{"pgd-10"}, "pgd-10/unbounded attack succeeds", true},
		{"unbounded, zeroed gradients", zeroed, []string{"pgd-10"}, "pgd-10/unbounded attack succeeds", false},
		{"transfer, unbroken", func(m Model) Model { return twoBranch{Model: m} }, []string{"pgd-10"}, "pgd-10/transfer weaker than white-box", true},
		{"transfer, evaluated branch masked", func(m Model) Model { return twoBranch{Model: m, masked: evalSetting.Branch, mask: true} }, []string{"pgd-10"}, "pgd-10/transfer weaker than white-box", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, res := diagnosticsOf(t, tc.wrap, tc.attacks...)
			c, ok := got[tc.check]
			require.True(t, ok, "diagnostic %s reported; have %v", tc.check, got)
			assert.Equal(t, tc.ok, c.OK, "%s: %s (values %v)", c.Name, c.Detail, c.Values)
			assert.NotEmpty(t, c.Values, "names the numbers it compared")
			if !c.OK {
				assert.Contains(t, res.Warnings, c.Name+": "+c.Detail, "a failed diagnostic is a warning")
				t.Logf("fires: %s: %s", c.Name, c.Detail)
			}
		})
	}
}
