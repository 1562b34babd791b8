package attack

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/advbench/advbench/nn"
	"github.com/advbench/advbench/results"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var evalSetting = Setting{Branch: nn.Clean, Mode: nn.Eval}

// TestPGDFindsOptimum: on a two-class linear model the gradient sign is the
// same everywhere, so PGD from any start in the ball reaches the optimal
// corner within 2·eps/step steps; 10 steps of 2/255 at eps 8/255 suffice.
func TestPGDFindsOptimum(t *testing.T) {
	for _, loss := range []nn.Loss{nn.CE, nn.CWMargin} {
		for _, random := range []bool{false, true} {
			rng := rand.New(rand.NewPCG(1, 1))
			m := newLinear(2, 0.01, rng)
			x := images(rng, 4)
			y := []int{0, 1, 1, 0}
			o := DefaultOptions()
			o.Loss, o.NoRandom = loss, !random
			a, err := New("pgd-10", o)
			require.NoError(t, err)
			out, err := a.Perturb(m, x, y, evalSetting, rand.New(rand.NewPCG(2, 2)))
			require.NoError(t, err)
			assert.Equal(t, m.optimal(x, y, o.Eps), out.XAdv, "loss %s, random start %v", loss, random)
			assert.Equal(t, 10, m.grad)
		}
	}
}

func TestFGSMIsOneSignedStep(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	m := newLinear(2, 0.01, rng)
	x := images(rng, 3)
	y := []int{1, 0, 1}
	a, err := New("fgsm", DefaultOptions())
	require.NoError(t, err)
	out, err := a.Perturb(m, x, y, evalSetting, nil)
	require.NoError(t, err)
	assert.Equal(t, m.optimal(x, y, 8.0/255), out.XAdv, "for a linear two-class model one step is optimal")
	assert.Equal(t, 1, m.grad)
}

// recorder is a model with zero gradients that records the inputs it is
// given and is fooled according to a script: fooled[call][example] for each
// Logits call (one per restart).
type recorder struct {
	lossInputs  [][]float32
	logitInputs [][]float32
	fooled      [][]bool
}

func (r *recorder) LossGrad(x []float32, y []int, _ nn.Loss, _ nn.Branch, _ nn.Mode) (float64, []float32, []float32, error) {
	r.lossInputs = append(r.lossInputs, append([]float32(nil), x...))
	return 0, make([]float32, 2*len(y)), make([]float32, len(x)), nil
}

func (r *recorder) Logits(x []float32, _ nn.Branch, _ nn.Mode) ([]float32, error) {
	call := len(r.logitInputs)
	r.logitInputs = append(r.logitInputs, append([]float32(nil), x...))
	n := len(x) / imageSize
	out := make([]float32, 2*n)
	for i := 0; i < n; i++ {
		// The true label is 0 for every example; fooled means class 1 wins.
		if call < len(r.fooled) && r.fooled[call][i] {
			out[2*i+1] = 1
		} else {
			out[2*i] = 1
		}
	}
	return out, nil
}

// TestRestartsWorstCasePerExample: an example is robust only if it survives
// every restart, and its x_adv is the one from the restart that fooled it.
func TestRestartsWorstCasePerExample(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	x := images(rng, 4)
	y := []int{0, 0, 0, 0}
	r := &recorder{fooled: [][]bool{
		{false, true, false, false}, // restart 0 fools example 1
		{false, false, false, true}, // restart 1 fools example 3
		{false, true, false, false}, // restart 2 fools example 1 again
	}}
	o := DefaultOptions()
	o.Restarts = 3
	a := NewPGD(2, o)
	out, err := a.Perturb(r, x, y, evalSetting, rand.New(rand.NewPCG(5, 5)))
	require.NoError(t, err)
	assert.Equal(t, []bool{false, true, false, true}, out.Fooled)
	assert.Len(t, r.lossInputs, 6, "2 steps x 3 restarts")
	assert.Len(t, r.logitInputs, 3, "one check per restart")
	seg := func(v []float32, i int) []float32 { return v[i*imageSize : (i+1)*imageSize] }
	assert.Equal(t, seg(r.logitInputs[0], 1), seg(out.XAdv, 1), "example 1 keeps restart 0's x_adv")
	assert.Equal(t, seg(r.logitInputs[1], 3), seg(out.XAdv, 3), "example 3 keeps restart 1's x_adv")
	assert.Equal(t, seg(r.logitInputs[2], 0), seg(out.XAdv, 0), "robust examples keep the last restart's")
	assert.NotEqual(t, seg(r.logitInputs[0], 0), seg(r.logitInputs[1], 0), "each restart draws a new start")
	assert.Equal(t, []bool{true, true, true, true}, out.ZeroGrad)
}

// TestStartAndProjection: the random start is x + U(−eps, eps), left outside
// [0,1] unless ClampStart; every step ends inside the ball and [0,1].
func TestStartAndProjection(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	x := images(rng, 2)
	for _, clamp := range []bool{false, true} {
		r := &recorder{}
		o := DefaultOptions()
		o.ClampStart = clamp
		_, err := NewPGD(1, o).Perturb(r, x, []int{0, 0}, evalSetting, rand.New(rand.NewPCG(7, 7)))
		require.NoError(t, err)
		start := r.lossInputs[0]
		outside, maxDev := 0, 0.0
		for i, v := range start {
			if v < 0 || v > 1 {
				outside++
			}
			maxDev = math.Max(maxDev, math.Abs(float64(v-x[i])))
		}
		assert.LessOrEqual(t, maxDev, 8.0/255+1e-7)
		assert.Greater(t, maxDev, 7.0/255, "the start uses the whole ball")
		if clamp {
			assert.Zero(t, outside)
		} else {
			assert.Greater(t, outside, 0, "the reference code does not clamp the start")
		}
		for i, v := range r.logitInputs[0] {
			assert.True(t, v >= 0 && v <= 1 && math.Abs(float64(v-x[i])) <= 8.0/255+1e-7, "projected")
		}
	}
	// Without random start and with eps 0 the attack is the identity.
	r := &recorder{}
	o := DefaultOptions()
	o.Eps = 0
	out, err := NewPGD(3, o).Perturb(r, x, []int{0, 0}, evalSetting, rand.New(rand.NewPCG(8, 8)))
	require.NoError(t, err)
	assert.Equal(t, x, out.XAdv)
}

func TestRegistryAndEps(t *testing.T) {
	assert.Equal(t, []string{"apgd-ce", "apgd-dlr", "apgd-t", "fab-t", "fgsm", "pgd-10", "pgd-20", "square"}, Names())
	a, err := New("pgd-20", DefaultOptions())
	require.NoError(t, err)
	p := a.Params()
	assert.Equal(t, 20, p.Steps)
	assert.Equal(t, "8/255", p.Eps255)
	assert.InDelta(t, 8.0/255, p.Eps, 1e-15)
	assert.True(t, p.RandomStart)
	_, err = New("cw-100", DefaultOptions())
	assert.ErrorContains(t, err, `unknown attack "cw-100"`)

	for s, want := range map[string]float64{"8/255": 8.0 / 255, "0.5": 0.5, " 16 / 255 ": 16.0 / 255, "0": 0} {
		got, err := ParseEps(s)
		require.NoError(t, err, s)
		assert.InDelta(t, want, got, 1e-15, s)
	}
	for _, s := range []string{"eight", "8/0", "-1", "2"} {
		_, err := ParseEps(s)
		assert.Error(t, err, s)
	}
	assert.Equal(t, "2.50/255", Eps255(2.5/255))
}

// TestEvaluateLinear: on the two-class linear model the exact robust set is
// known (the optimal attack flips the sign of the margin), and eps 0
// reproduces SA exactly; every sanity check passes.
func TestEvaluateLinear(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	m := newLinear(2, 0.004, rng)
	x := images(rng, 40)
	y := make([]int, 40)
	z := m.logits(x)
	for i := range y {
		y[i] = i % 2
		if i%5 == 0 { // a few wrong labels, so SA < 1
			y[i] = 1 - argmax(z[2*i:2*i+2])
		} else {
			y[i] = argmax(z[2*i : 2*i+2])
		}
	}
	batches := func(fn func(x []float32, y []int) error) error {
		for lo := 0; lo < 40; lo += 16 {
			hi := min(lo+16, 40)
			if err := fn(x[lo*imageSize:hi*imageSize], y[lo:hi]); err != nil {
				return err
			}
		}
		return nil
	}
	// At 8/255 this model loses every example; at 1/255 only some.
	small := Options{Eps: 1.0 / 255, Step: 0.25 / 255, Restarts: 1}
	zeroEps := small
	zeroEps.Eps = 0
	pgd10, _ := New("pgd-10", small)
	pgd20, _ := New("pgd-20", small)
	id := NewPGD(5, zeroEps)
	res, err := Evaluate(m, batches, []Attack{pgd10, pgd20, id}, EvalConfig{Setting: evalSetting, Seed: 1, Model: "linear", Data: "synthetic"})
	require.NoError(t, err)
	assert.Equal(t, 40, res.Examples)
	assert.InDelta(t, 32.0/40, res.SA, 1e-12)

	opt := m.optimal(x, y, small.Eps)
	zo := m.logits(opt)
	var want []bool
	for i := range y {
		want = append(want, res.PerExample.CleanCorrect[i] && argmax(zo[2*i:2*i+2]) == y[i])
	}
	assert.Equal(t, want, res.PerExample.Robust["pgd-10"], "exactly the examples the optimal attack cannot flip")
	assert.Equal(t, want, res.PerExample.Robust["pgd-20"])
	assert.Less(t, res.Attacks[0].RA, res.SA, "the attack fools some examples")
	assert.Greater(t, res.Attacks[0].RA, 0.0)
	assert.Equal(t, res.SA, res.Attacks[2].RA, "eps 0 reproduces SA exactly")
	assert.Equal(t, res.Attacks[0].RA, res.WorstCaseRA)
	for _, c := range res.Checks {
		assert.True(t, c.OK, "%s: %s", c.Name, c.Detail)
	}
	assert.Empty(t, res.Warnings)
}

// scripted is an attack that fools the examples its script names and
// leaves x as it was (eps 0, so the loss and subset checks skip it).
type scripted struct {
	name   string
	fooled []bool
}

func (s scripted) Name() string { return s.name }
func (s scripted) Params() results.AttackParams {
	return results.AttackParams{Name: s.name, Eps255: "0/255", Loss: "ce"}
}
func (s scripted) Perturb(_ Model, x []float32, y []int, _ Setting, _ *rand.Rand) (*Outcome, error) {
	return &Outcome{XAdv: append([]float32(nil), x...), Fooled: s.fooled, ZeroGrad: make([]bool, len(y))}, nil
}

// TestWorstCaseIsPerExample: two attacks that fool different examples. An
// example is robust in the worst case only if it is clean-correct and
// survives both, so the worst-case RA (2 of 6, counted by hand) is below
// either attack's RA (3 of 6): not the smaller RA, nor one attack's flags.
func TestWorstCaseIsPerExample(t *testing.T) {
	x := images(rand.New(rand.NewPCG(13, 13)), 6)
	y := []int{0, 0, 0, 0, 0, 1} // the recorder predicts class 0: example 5 is clean-wrong
	a := scripted{"a", []bool{true, true, false, false, false, false}}
	b := scripted{"b", []bool{false, true, true, false, false, false}}
	batches := func(fn func(x []float32, y []int) error) error { return fn(x, y) }
	res, err := Evaluate(&recorder{}, batches, []Attack{a, b}, EvalConfig{Setting: evalSetting})
	require.NoError(t, err)
	assert.InDelta(t, 5.0/6, res.SA, 1e-15)
	assert.InDelta(t, 3.0/6, res.Attacks[0].RA, 1e-15, "a: robust 2, 3, 4")
	assert.InDelta(t, 3.0/6, res.Attacks[1].RA, 1e-15, "b: robust 0, 3, 4")
	assert.Equal(t, []bool{false, false, false, true, true, false}, res.PerExample.WorstCase)
	assert.InDelta(t, 2.0/6, res.WorstCaseRA, 1e-15, "robust under both: 3 and 4")
}

func argmax(v []float64) int {
	b := 0
	for i := range v {
		if v[i] > v[b] {
			b = i
		}
	}
	return b
}

// TestChecksFire: a model with zero gradients, evaluated in training mode,
// is reported.
func TestChecksFire(t *testing.T) {
	x := images(rand.New(rand.NewPCG(1, 2)), 3)
	batches := func(fn func(x []float32, y []int) error) error { return fn(x, []int{0, 0, 0}) }
	a, _ := New("pgd-10", DefaultOptions())
	res, err := Evaluate(&recorder{}, batches, []Attack{a}, EvalConfig{Setting: Setting{Branch: nn.Adv, Mode: nn.Train}})
	require.NoError(t, err)
	assert.Contains(t, res.Warnings, "pgd-10: gradients not zero: 3 examples (1.0000) have an all-zero input gradient (want <= 0.02)")
	assert.Contains(t, res.Warnings[len(res.Warnings)-1], "training mode")
}

// TestSweep: on the two-class linear model each point of the curve is the
// accuracy under the optimal attack at that point's eps (counted from
// linear.optimal), the curve falls to 0, and a masked model is warned about.
func TestSweep(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	m := newLinear(2, 0.004, rng)
	x := images(rng, 20)
	y := make([]int, 20)
	z := m.logits(x)
	for i := range y {
		y[i] = argmax(z[2*i : 2*i+2])
	}
	batches := func(fn func(x []float32, y []int) error) error { return fn(x, y) }
	eps := []float64{0, 0.5 / 255, 1.0 / 255, 2.0 / 255, 8.0 / 255, 32.0 / 255}
	s, err := Sweep(m, batches, 10, DefaultOptions(), eps, 2, EvalConfig{Setting: evalSetting})
	require.NoError(t, err)
	require.Len(t, s.Points, len(eps))
	// The curve is a results.Sweep with what the sweep knows filled in:
	// DefaultOptions' step 2/255 is a quarter of its eps 8/255.
	assert.Equal(t, "pgd-10", s.Attack)
	assert.InDelta(t, 0.25, s.StepRatio, 1e-15)
	assert.Equal(t, 0.5, s.Chance)
	assert.Equal(t, 20, s.Examples)
	// Each point is the accuracy under the optimal attack at its eps (10
	// steps of eps/4 reach the optimal corner from any start in the ball).
	partial := 0
	for i, e := range eps {
		zo := m.logits(m.optimal(x, y, e))
		robust := 0
		for j := range y {
			if argmax(zo[2*j:2*j+2]) == y[j] {
				robust++
			}
		}
		want := float64(robust) / float64(len(y))
		assert.InDelta(t, e, s.Points[i].Eps, 1e-15)
		assert.Equal(t, Eps255(e), s.Points[i].Eps255)
		assert.InDelta(t, want, s.Points[i].Accuracy, 1e-12, "eps %s", Eps255(e))
		if want > 0 && want < 1 {
			partial++
		}
	}
	require.Positive(t, partial, "some eps of the grid fools only some examples")
	assert.Equal(t, 1.0, s.Points[0].Accuracy)
	assert.Equal(t, 0.0, s.Points[len(eps)-1].Accuracy, "the curve falls to zero")
	assert.Empty(t, s.Warnings)

	// A model whose gradient is masked (always zero) is never fooled: warned.
	masked, err := Sweep(&recorder{}, func(fn func(x []float32, y []int) error) error { return fn(x[:imageSize], []int{0}) }, 3, DefaultOptions(), eps, 10, EvalConfig{Setting: evalSetting})
	require.NoError(t, err)
	require.NotEmpty(t, masked.Warnings)
	assert.Contains(t, masked.Warnings[0], "above chance")
}

// TestRunIsOneRestartWithoutCheck: Run (the training attack) takes exactly
// Steps gradient steps and classifies nothing, and returns the same iterate
// Perturb reaches from the same start.
func TestRunIsOneRestartWithoutCheck(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	x := images(rng, 3)
	y := []int{0, 1, 0}
	m := newLinear(2, 0.01, rng)
	a := NewPGD(4, DefaultOptions())
	got, err := a.Run(m, x, y, Setting{Branch: nn.Adv, Mode: nn.Train}, rand.New(rand.NewPCG(10, 10)))
	require.NoError(t, err)
	assert.Equal(t, 4, m.grad, "one gradient per step")
	want, err := a.Perturb(m, x, y, Setting{Branch: nn.Adv, Mode: nn.Train}, rand.New(rand.NewPCG(10, 10)))
	require.NoError(t, err)
	assert.Equal(t, want.XAdv, got)
	assert.NotEqual(t, x, got)

	r := &recorder{}
	_, err = a.Run(r, x, y, evalSetting, rand.New(rand.NewPCG(10, 10)))
	require.NoError(t, err)
	assert.Len(t, r.lossInputs, 4)
	assert.Empty(t, r.logitInputs, "no final forward pass")
	_, err = a.Run(r, x[:imageSize], y, evalSetting, nil)
	assert.ErrorContains(t, err, "3072 values for 3 labels")
}

// TestEvaluationResumes: an evaluation saved as JSON after some batches and
// continued gives exactly the result of an uninterrupted one (random starts
// are seeded per batch, not drawn from one stream), and refuses to continue
// with other attacks.
func TestEvaluationResumes(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	m := newLinear(3, 0.004, rng)
	x := images(rng, 30)
	y := make([]int, 30)
	for i := range y {
		y[i] = i % 3
	}
	o := Options{Eps: 2.0 / 255, Step: 0.5 / 255, Restarts: 2}
	a, b := NewPGD(3, o), NewPGD(5, o)
	attacks := []Attack{a, b}
	cfg := EvalConfig{Setting: evalSetting, Seed: 7, Model: "linear"}
	batch := func(k int) ([]float32, []int) { return x[k*10*imageSize : (k+1)*10*imageSize], y[k*10 : (k+1)*10] }

	whole, err := NewEvaluation(attacks, cfg)
	require.NoError(t, err)
	for k := 0; k < 3; k++ {
		xs, ys := batch(k)
		require.NoError(t, whole.Add(m, attacks, xs, ys))
	}
	want, err := whole.Result()
	require.NoError(t, err)

	part, err := NewEvaluation(attacks, cfg)
	require.NoError(t, err)
	xs, ys := batch(0)
	require.NoError(t, part.Add(m, attacks, xs, ys))
	saved, err := json.Marshal(part)
	require.NoError(t, err)
	var back Evaluation
	require.NoError(t, json.Unmarshal(saved, &back))
	require.NoError(t, back.Check(attacks))
	assert.Equal(t, 10, back.Examples())
	for k := back.Batches; k < 3; k++ {
		xs, ys := batch(k)
		require.NoError(t, back.Add(m, attacks, xs, ys))
	}
	got, err := back.Result()
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Less(t, got.Attacks[1].RA, got.SA, "the attack bites, so the equality means something")

	assert.ErrorContains(t, back.Check([]Attack{b, a}), "continued with")
	assert.ErrorContains(t, back.Check([]Attack{a}), "evaluation of 2 attacks continued with 1")
	_, err = NewEvaluation([]Attack{a, a}, cfg)
	assert.ErrorContains(t, err, "pgd-3 listed twice")
}

// TestPerturbActiveIsPerturb: PGD on some examples of a batch (through the
// evaluation's re-packing model) gives those examples exactly Perturb's
// x_adv and flags, with the same generator; the others are returned as
// given and not fooled; restarts skip what an earlier restart fooled.
func TestPerturbActiveIsPerturb(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	m := newLinear(10, 0.02, rng)
	x := images(rng, 16)
	y := make([]int, 16)
	for i := range y {
		y[i] = i % 10
	}
	o := DefaultOptions()
	o.Restarts = 3
	o.Step = 0.5 / 255 // short steps: the random start matters
	p := newPGD("pgd-10", 2, o)
	active := make([]bool, 16)
	for i := range active {
		active[i] = i%3 != 0
	}
	want, err := p.Perturb(m, x, y, evalSetting, rand.New(rand.NewPCG(1, 2)))
	require.NoError(t, err)
	got, err := p.perturbActive(packed{m: m, full: 16}, x, y, evalSetting, rand.New(rand.NewPCG(1, 2)), active)
	require.NoError(t, err)
	fooled := 0
	for i := range y {
		xi := func(v []float32) []float32 { return v[i*imageSize : (i+1)*imageSize] }
		if !active[i] {
			assert.Equal(t, xi(x), xi(got.XAdv), "example %d not attacked", i)
			assert.False(t, got.Fooled[i])
			continue
		}
		assert.Equal(t, xi(want.XAdv), xi(got.XAdv), "example %d", i)
		assert.Equal(t, want.Fooled[i], got.Fooled[i], "example %d", i)
		assert.Equal(t, want.FooledAny[i], got.FooledAny[i], "example %d", i)
		assert.Equal(t, want.ZeroGrad[i], got.ZeroGrad[i], "example %d", i)
		if got.Fooled[i] {
			fooled++
		}
	}
	assert.Positive(t, fooled, "some active examples fooled")
	assert.Less(t, fooled, 10, "and some not")
}

// TestPackSize: pruned batches are padded to a power of two, or from 16
// on to 1.5 times one when that holds them, never past the evaluation's
// batch, never below n.
func TestPackSize(t *testing.T) {
	for _, c := range []struct{ n, full, want int }{
		{1, 128, 1}, {3, 128, 4}, {5, 128, 8}, {8, 128, 8}, {9, 128, 16}, {16, 128, 16}, {17, 128, 24},
		{24, 128, 24}, {25, 128, 32}, {33, 128, 48}, {47, 128, 48}, {49, 128, 64}, {65, 128, 96},
		{97, 128, 128}, {128, 128, 128}, {99, 100, 100}, {13, 13, 13}, {200, 256, 256}, {150, 256, 192},
	} {
		assert.Equal(t, c.want, packed{full: c.full}.size(c.n), "n %d, batch %d", c.n, c.full)
	}
}

// seedFooled is a per-example seeded attack whose outcome is its seed's:
// an example is fooled when its seed is a multiple of 3.
type seedFooled struct{ scripted }

func (a seedFooled) Perturb(m Model, x []float32, y []int, s Setting, rng *rand.Rand) (*Outcome, error) {
	return a.perturbSeeded(m, x, y, s, drawSeeds(rng, len(y)))
}

func (a seedFooled) perturbSeeded(_ Model, x []float32, y []int, _ Setting, seeds []uint64) (*Outcome, error) {
	out := &Outcome{XAdv: append([]float32(nil), x...), Fooled: make([]bool, len(y)), ZeroGrad: make([]bool, len(y))}
	for i, s := range seeds {
		out.Fooled[i] = s%3 == 0
	}
	return out, nil
}

// TestCheckPerturbSeeded: a check attack with per-example seeds, run on the
// examples a check counts, gives each of them the outcome the attack of
// the whole batch gives it (its own seed from the batch's draws), and leaves
// the others unfooled.
func TestCheckPerturbSeeded(t *testing.T) {
	const n = 40
	x, y := images(rand.New(rand.NewPCG(5, 5)), n), make([]int, n)
	a := seedFooled{scripted{name: "seeded"}}
	full, err := a.Perturb(nil, x, y, evalSetting, rand.New(rand.NewPCG(7, 8)))
	require.NoError(t, err)
	counts := func(i int) bool { return i%4 != 1 }
	got, err := (&Evaluation{}).checkPerturb(nil, a, x, y, evalSetting, rand.New(rand.NewPCG(7, 8)), counts)
	require.NoError(t, err)
	fooled := 0
	for i := range y {
		if !counts(i) {
			assert.False(t, got.Fooled[i], "example %d is not attacked", i)
			continue
		}
		assert.Equal(t, full.Fooled[i], got.Fooled[i], "example %d", i)
		if got.Fooled[i] {
			fooled++
		}
	}
	assert.Greater(t, fooled, 3, "some counted examples fooled")
	assert.Less(t, fooled, 27, "and some not")
}
