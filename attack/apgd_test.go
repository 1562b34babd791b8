package attack

import (
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/advbench/advbench/nn"
	"github.com/advbench/advbench/results"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAPGDCheckpoints: the paper's checkpoints for N = 100 (Croce & Hein
// 2020, Sec. 3.2: p = 0.22, 0.41, 0.57, 0.70, 0.80, 0.87, 0.93, 0.99), and
// for N = 10 the reference code's integer intervals (⌊2.2⌋ = 2, then
// max(2 − 1, 1) = 1 each), worked out by hand.
func TestAPGDCheckpoints(t *testing.T) {
	assert.Equal(t, []int{22, 41, 57, 70, 80, 87, 93, 99}, APGDCheckpoints(100))
	assert.Equal(t, []int{2, 3, 4, 5, 6, 7, 8, 9, 10}, APGDCheckpoints(10))
	assert.Equal(t, []int{1}, APGDCheckpoints(1))
}

// twoClass is a two-class linear model and n images around mid-grey, their
// labels the model's predictions, with margins of the size of an eps-ball's
// effect: the optimal attack at eps fools some and not others.
func twoClass(n int, eps float64) (*linear, []float32, []int, []bool) {
	m, x, y := nearBoundary(n)
	zo := m.logits(m.optimal(x, y, eps))
	flips := make([]bool, n)
	for i := range y {
		flips[i] = argmax(zo[2*i:2*i+2]) != y[i]
	}
	return m, x, y, flips
}

// TestAPGDCEReachesOptimum: on a two-class linear model the best L-inf
// attack is the corner of the box-clipped ball toward the other class
// (linear.optimal). APGD-CE fools exactly the examples that corner fools,
// and on the others returns that corner: the optimum of the margin.
func TestAPGDCEReachesOptimum(t *testing.T) {
	const eps = 0.07 / 255
	m, x, y, flips := twoClass(40, eps)
	require.Contains(t, flips, true)
	require.Contains(t, flips, false)
	o := DefaultOptions()
	o.Eps = eps
	a, err := New("apgd-ce", o)
	require.NoError(t, err)
	out, err := a.Perturb(m, x, y, evalSetting, rand.New(rand.NewPCG(1, 2)))
	require.NoError(t, err)
	assert.Equal(t, flips, out.Fooled)
	opt := m.optimal(x, y, eps)
	zo, za := m.logits(opt), m.logits(out.XAdv)
	for i := range y {
		if flips[i] {
			continue
		}
		seg := func(v []float32) []float32 { return v[i*imageSize : (i+1)*imageSize] }
		assert.Equal(t, seg(opt), seg(out.XAdv), "example %d: the optimal corner", i)
		assert.InDelta(t, zo[2*i+1-y[i]]-zo[2*i+y[i]], za[2*i+1-y[i]]-za[2*i+y[i]], 1e-9)
	}
	assert.Equal(t, 101, m.grad, "one gradient at the start and one per iteration")
	p := a.Params()
	assert.Equal(t, 100, p.Steps)
	assert.Equal(t, 1, p.Restarts)
	assert.True(t, p.Pruned)
}

// TestAPGDTTargets: APGD-T attacks toward the classes ranked 2nd..10th by
// the clean logits, in that order (ranked here with sort.Slice on float64
// logits), one run per target, each on the examples no earlier run fooled.
func TestAPGDTTargets(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	m := newLinear(10, 0.0005, rng)
	x := images(rng, 3)
	z := m.logits(x)
	y := make([]int, 3)
	var want [][]int
	for i := range y {
		order := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
		sort.Slice(order, func(a, b int) bool { return z[10*i+order[a]] > z[10*i+order[b]] })
		y[i] = order[0]
		want = append(want, order[1:])
	}
	o := DefaultOptions()
	o.Eps = 0.01 / 255 // too small to fool: every target is tried
	a, err := New("apgd-t", o)
	require.NoError(t, err)
	out, err := a.Perturb(m, x, y, evalSetting, rand.New(rand.NewPCG(5, 6)))
	require.NoError(t, err)
	require.Equal(t, []bool{false, false, false}, out.Fooled)
	require.Len(t, m.targetCalls, 9*101, "9 targets x (start + 100 iterations)")
	for r := 0; r < 9; r++ {
		for i := range y {
			assert.Equal(t, want[i][r], m.targetCalls[r*101][i], "run %d, example %d", r, i)
		}
	}
	assert.Equal(t, 9, a.Params().Targets)
	assert.Equal(t, "dlr-t", a.Params().Loss)

	_, err = must(New("apgd-dlr", DefaultOptions())).Perturb(newLinear(2, 0.01, rng), x, []int{0, 1, 0}, evalSetting, rng)
	assert.ErrorContains(t, err, "needs at least 3 classes")
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestAPGDRestartsOnlyOnRobust: a second restart runs only on the examples
// the first did not fool; the flags are those of the one-restart attack or
// more (never fewer), and an example fooled stays fooled.
func TestAPGDRestartsOnlyOnRobust(t *testing.T) {
	const eps = 0.07 / 255
	m, x, y, flips := twoClass(20, eps)
	o := DefaultOptions()
	o.Eps, o.Restarts = eps, 3
	a := must(New("apgd-ce", o))
	out, err := a.Perturb(m, x, y, evalSetting, rand.New(rand.NewPCG(7, 8)))
	require.NoError(t, err)
	assert.Equal(t, flips, out.Fooled)
	robust := 0
	for _, f := range flips {
		if !f {
			robust++
		}
	}
	require.Positive(t, robust)
	require.Less(t, robust, 20)
	// The first restart runs on all 20; the next two on the robust ones only.
	require.Len(t, m.sizes, 101*3)
	assert.Equal(t, 20, m.sizes[0])
	assert.Equal(t, 20, m.sizes[100])
	assert.Equal(t, robust, m.sizes[101])
	assert.Equal(t, robust, m.sizes[302])
}

// flipTargeted makes a model's targeted input gradient point the wrong
// way, so APGD-T descends its loss.
type flipTargeted struct{ *linear }

func (f flipTargeted) TargetedLossGrad(x []float32, y, t []int, loss nn.Loss, b nn.Branch, m nn.Mode) (float64, []float32, []float32, error) {
	l, z, g, err := f.linear.TargetedLossGrad(x, y, t, loss, b, m)
	for i := range g {
		g[i] = -g[i]
	}
	return l, z, g, err
}

// TestLossRaisedTargeted: the "loss raised" check measures APGD-T by its
// own loss toward the target of the point it returns (the class ranked
// Targets+1), so it holds for the working attack on examples it cannot
// fool and fails when the attack descends that loss.
func TestLossRaisedTargeted(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	lin := newLinear(10, 0.002, rng)
	x := images(rng, 32)
	z := lin.logits(x)
	y := make([]int, 32)
	for i := range y {
		for j := 1; j < 10; j++ {
			if z[10*i+j] > z[10*i+y[i]] {
				y[i] = j
			}
		}
	}
	o := DefaultOptions()
	o.Eps = 0.05 / 255
	for _, tc := range []struct {
		name string
		m    Model
		ok   bool
	}{{"working", lin, true}, {"descending", flipTargeted{lin}, false}} {
		t.Run(tc.name, func(t *testing.T) {
			a := must(New("apgd-t", o)).(*APGD)
			a.Iterations, a.Targets = 20, 3
			res, err := Evaluate(tc.m, func(fn func(x []float32, y []int) error) error { return fn(x, y) }, []Attack{a}, EvalConfig{Setting: evalSetting, Seed: 1})
			require.NoError(t, err)
			require.Equal(t, 1.0, res.SA)
			require.Positive(t, res.Attacks[0].RA, "some examples not fooled: their returned point is the best one")
			var c results.Check
			for _, ch := range res.Checks {
				if ch.Name == "apgd-t: loss raised" {
					c = ch
				}
			}
			require.NotEmpty(t, c.Name)
			assert.Equal(t, tc.ok, c.OK, c.Detail)
			t.Logf("%s: RA %.3f; %s", tc.name, res.Attacks[0].RA, c.Detail)
		})
	}
}
