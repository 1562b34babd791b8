package landscape

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/advbench/advbench/models/resnet"
	"github.com/advbench/advbench/nn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"
)

// quadratic is L(w) = ½ wᵀHw − bᵀw + c·r over two parameter tensors, "a"
// (2 values) and "b" (3 values), with gradient Hw − b. r is a buffer that
// every training-mode pass increments after computing the loss, as a
// running statistic changes, so a probe that does not start each pass from
// the model's buffers sees its losses drift by c per pass.
type quadratic struct {
	H      [5][5]float64
	B      [5]float64
	C      float64
	a, b   *nn.Var
	r      *nn.Var
	calls  int
	failAt int // the pass that fails (0: none)
}

func newQuadratic(h [5][5]float64, b [5]float64, w [5]float64) *quadratic {
	q := &quadratic{H: h, B: b, C: 10,
		a: nn.NewVar("a.weight", tensor.Float64, 2), b: nn.NewVar("b.weight", tensor.Float64, 3), r: nn.NewVar("a.running", tensor.Float64, 1)}
	q.a.SetFloat64s(w[:2])
	q.b.SetFloat64s(w[2:])
	return q
}

func (q *quadratic) State() (params, buffers []*nn.Var) {
	return []*nn.Var{q.a, q.b}, []*nn.Var{q.r}
}

func (q *quadratic) Gradient(_ []float32, _ []int, _ nn.Branch, mode nn.Mode) (float64, [][]float64, error) {
	q.calls++
	if q.calls == q.failAt {
		q.a.SetFloat64s([]float64{99, 99}) // a failing pass that leaves damage behind
		return 0, nil, errors.New("pass failed")
	}
	w := append(q.a.Float64s(), q.b.Float64s()...)
	var g [5]float64
	loss := q.C * q.r.Float64s()[0]
	for i := range 5 {
		hw := 0.0
		for j := range 5 {
			hw += q.H[i][j] * w[j]
		}
		loss += 0.5*w[i]*hw - q.B[i]*w[i]
		g[i] = hw - q.B[i]
	}
	if mode == nn.Train {
		q.r.SetFloat64s([]float64{q.r.Float64s()[0] + 1})
	}
	return loss, [][]float64{g[:2], g[2:]}, nil
}

var _ Model = (*quadratic)(nil)

// diag53 is diag(1, 1, 3, 3, 3), whose eigenspace of 3 is the "b" tensor.
var diag53 = [5][5]float64{{1}, {0, 1}, {0, 0, 3}, {0, 0, 0, 3}, {0, 0, 0, 0, 3}}

// TestQuadraticClosedForms: with H = diag(1, 1, 3, 3, 3), w = (1, 2, 1, 0,
// 0) and b = (1, 2, 1, 0, 0), g = Hw − b = (0, 0, 2, 0, 0) is an
// eigenvector of eigenvalue 3, so by hand L(w − ηg) = L(w) − 4η + 6η²,
// ∇L(w − ηg) − g = −ηHg has norm 6η, and the effective β-smoothness is
// the eigenvalue, 3.
func TestQuadraticClosedForms(t *testing.T) {
	q := newQuadratic(diag53, [5]float64{1, 2, 1, 0, 0}, [5]float64{1, 2, 1, 0, 0})
	// L(w) = ½(1 + 4 + 3) − (1 + 4 + 1) = −2, plus c·r with r = 0.
	etas := []float64{0.05, 0.1, 0.2, 0.4}
	r, err := Probe(q, Input{Mode: nn.Train, Etas: etas})
	require.NoError(t, err)
	assert.InDelta(t, -2.0, r.Loss, 1e-12)
	assert.InDelta(t, 2.0, r.GradNorm, 1e-12)
	want := []float64{-2 - 0.2 + 0.015, -2 - 0.4 + 0.06, -2 - 0.8 + 0.24, -2 - 1.6 + 0.96}
	wantChange := []float64{0.3, 0.6, 1.2, 2.4}
	require.Len(t, r.Losses, 4)
	for k := range etas {
		assert.InDelta(t, want[k], float64(r.Losses[k]), 1e-12, "η=%v", etas[k])
		assert.InDelta(t, wantChange[k], float64(r.GradChanges[k]), 1e-12, "η=%v", etas[k])
	}
	assert.InDelta(t, -2.64, float64(r.LossRange.Min), 1e-12)
	assert.InDelta(t, -2.185, float64(r.LossRange.Max), 1e-12)
	assert.InDelta(t, 0.3, float64(r.GradChangeRange.Min), 1e-12)
	assert.InDelta(t, 2.4, float64(r.GradChangeRange.Max), 1e-12)
	assert.InDelta(t, 3.0, float64(r.Beta), 1e-12)
	assert.Zero(t, r.NonFinite)
	assert.Equal(t, []float64{0}, q.r.Float64s(), "the buffer is restored")
	assert.Equal(t, []float64{1, 2}, q.a.Float64s())
	assert.Equal(t, []float64{1, 0, 0}, q.b.Float64s())
}

// coupled is diag(2, 2, 3, 3, 3) with H[2][0] = H[0][2] = 1: the first
// value of "b" depends on the first of "a".
var coupled = [5][5]float64{{2, 0, 1}, {0, 2}, {1, 0, 3}, {0, 0, 0, 3}, {0, 0, 0, 0, 3}}

// TestQuadraticGeneralDirection: g off every eigenvector, taken from the
// caller (Input.Grad) at weights given (Input.At), against the Taylor
// expansion, exact for a quadratic: L(w − ηg) = L(w) − η gᵀg + ½η² gᵀHg
// and ‖∇L(w − ηg) − g‖ = η‖Hg‖; β = ‖Hg‖/‖g‖.
func TestQuadraticGeneralDirection(t *testing.T) {
	q := newQuadratic(coupled, [5]float64{0, 0, 0, 0, 0}, [5]float64{0, 0, 0, 0, 0})
	w := [][]float64{{1, -1}, {2, 0, 1}}
	// By hand: Hw = (2+2, −2, 1+6, 0, 3) = (4, −2, 7, 0, 3); L = ½ wᵀHw =
	// ½(4 + 2 + 14 + 0 + 3) = 11.5; g = Hw.
	g := [][]float64{{4, -2}, {7, 0, 3}}
	// gᵀg = 16+4+49+9 = 78; Hg = (8+7, −4, 4+21, 0, 9) = (15, −4, 25, 0, 9);
	// gᵀHg = 60+8+175+27 = 270; ‖Hg‖ = √(225+16+625+81) = √947.
	etas := []float64{0.01, 0.1}
	r, err := Probe(q, Input{Mode: nn.Eval, At: w, Grad: g, Loss: 11.5, Etas: etas})
	require.NoError(t, err)
	for k, eta := range etas {
		assert.InDelta(t, 11.5-78*eta+0.5*eta*eta*270, float64(r.Losses[k]), 1e-12)
		assert.InDelta(t, eta*math.Sqrt(947), float64(r.GradChanges[k]), 1e-12)
	}
	assert.InDelta(t, math.Sqrt(947)/math.Sqrt(78), float64(r.Beta), 1e-12)
	assert.Equal(t, []float64{0, 0}, q.a.Float64s(), "At is where the probe went, not where it leaves the model")
}

// TestGradientShift: the shift of layer "b" after "a" moves by Δ = (0.5,
// −1) is H_ba·Δ = (0.5, 0, 0) by hand; a layer with nothing before it, or
// whose earlier layers keep their values, shifts by exactly zero.
func TestGradientShift(t *testing.T) {
	q := newQuadratic(coupled, [5]float64{0, 0, 0, 0, 0}, [5]float64{1, -1, 2, 0, 1})
	// G_b = (Hw)_b = (7, 0, 3) as above; G'_b = (7.5, 0, 3).
	next := [][]float64{{1.5, -2}, {5, 5, 5}}
	r, err := Probe(q, Input{Mode: nn.Train, Etas: []float64{0.1}, Next: next, Layers: []string{"a.weight", "b.weight"}})
	require.NoError(t, err)
	require.Len(t, r.Shift, 2)
	a, b := r.Shift[0], r.Shift[1]
	assert.Equal(t, "a.weight", a.Layer)
	assert.Equal(t, 0.0, a.Diff, "no layer before a: its gradient does not move")
	assert.InDelta(t, 1.0, float64(a.Cos), 1e-15)
	assert.InDelta(t, math.Sqrt(20), a.GradNorm, 1e-12)
	assert.InDelta(t, 0.5, b.Diff, 1e-12)
	assert.InDelta(t, (7.5*7+9)/(math.Sqrt(58)*math.Sqrt(65.25)), float64(b.Cos), 1e-12)
	assert.InDelta(t, math.Sqrt(58), b.GradNorm, 1e-12)

	// Earlier layers that keep their values: "b" moves, but only "a" is
	// before "b".
	still := [][]float64{{1, -1}, {5, 5, 5}}
	r, err = Probe(q, Input{Mode: nn.Train, Etas: []float64{0.1}, Next: still, Layers: []string{"b.weight"}})
	require.NoError(t, err)
	assert.Equal(t, 0.0, r.Shift[0].Diff)
}

// TestProbeRestoresOnError: a pass that fails, having changed parameters
// and buffers, leaves them as they were before the probe.
func TestProbeRestoresOnError(t *testing.T) {
	q := newQuadratic(diag53, [5]float64{}, [5]float64{1, 2, 3, 4, 5})
	q.failAt = 3
	_, err := Probe(q, Input{Mode: nn.Train, Etas: []float64{0.1, 0.2, 0.3}})
	require.ErrorContains(t, err, "landscape: at step size 0.2: pass failed")
	assert.Equal(t, []float64{1, 2}, q.a.Float64s())
	assert.Equal(t, []float64{3, 4, 5}, q.b.Float64s())
	assert.Equal(t, []float64{0}, q.r.Float64s())
}

// TestProbeRejectsBadInput: a step size that is not positive, an unknown
// layer and a gradient of the wrong shape are named.
func TestProbeRejectsBadInput(t *testing.T) {
	q := newQuadratic(diag53, [5]float64{}, [5]float64{})
	for _, c := range []struct {
		in   Input
		want string
	}{
		{Input{Etas: []float64{0.1, 0}}, "landscape: step size 0 must be a positive number"},
		{Input{Etas: []float64{math.NaN()}}, "landscape: step size NaN must be a positive number"},
		{Input{Next: [][]float64{{0, 0}, {0, 0, 0}}, Layers: []string{"c.weight"}}, `landscape: layer "c.weight" is not a parameter of the model`},
		{Input{Grad: [][]float64{{0, 0}, {0, 0}}}, "landscape: the gradient: b.weight has 2 values, want 3"},
		{Input{At: [][]float64{{0, 0}}}, "landscape: the starting weights has 1 tensors for 2 parameters"},
	} {
		_, err := Probe(q, c.in)
		assert.EqualError(t, err, c.want)
	}
	assert.Zero(t, q.calls, "nothing ran")
}

// smallNet is a smoke-width two-branch network moved off its
// initialisation, with a batch.
func smallNet(t *testing.T, norm string) (*resnet.Model, []float32, []int) {
	t.Helper()
	m, err := resnet.New(resnet.Config{Norm: norm, Width: 1.0 / 16, Seed: 2})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(3, 3))
	x := make([]float32, 4*3*32*32)
	for i := range x {
		x[i] = rng.Float32()
	}
	y := []int{0, 3, 5, 9}
	// A few steps so that running statistics and weights are a run's.
	for range 3 {
		r, err := m.Train(x, y, nn.Clean)
		require.NoError(t, err)
		for _, g := range r.Grads {
			w, d := g.Param.Float64s(), g.Float64s()
			for i := range w {
				w[i] -= 0.1 * d[i]
			}
			g.Param.SetFloat64s(w)
		}
	}
	return m, x, y
}

// bits returns every parameter's and buffer's values, as bit patterns.
func bits(m *resnet.Model) map[string][]uint32 {
	ps, bs := m.State()
	out := map[string][]uint32{}
	for _, v := range append(ps, bs...) {
		d := v.Value.Data().([]float32)
		u := make([]uint32, len(d))
		for i, f := range d {
			u[i] = math.Float32bits(f)
		}
		out[v.Name] = u
	}
	return out
}

// TestResNetProbeLeavesModelBitIdentical: probing a network in training
// mode, gradient shift included, changes no parameter or running statistic
// by a bit; and probing with the step's own gradient gives what probing
// with a recomputed one gives.
func TestResNetProbeLeavesModelBitIdentical(t *testing.T) {
	m, x, y := smallNet(t, "saauxbn")
	before := bits(m)
	step, err := m.Train(x, y, nn.Adv)
	require.NoError(t, err)
	g := Grads(m, step.Grads)
	// Train updated the adversarial branch's running statistics: the
	// probe must keep those, the state it found.
	before = bits(m)
	next := Values(m.Params())
	for j := range next {
		if g[j] != nil {
			for k := range next[j] {
				next[j][k] -= 0.1 * g[j][k]
			}
		}
	}
	in := Input{X: x, Y: y, Branch: nn.Adv, Mode: nn.Train, Etas: []float64{0.05, 0.4}, Next: next, Layers: DefaultLayers}
	computed, err := Probe(ResNet(m), in)
	require.NoError(t, err)
	assert.Equal(t, before, bits(m))
	in.Grad, in.Loss = g, step.Loss
	given, err := Probe(ResNet(m), in)
	require.NoError(t, err)
	assert.Equal(t, before, bits(m))
	assert.Equal(t, computed, given, "the step's gradient is ∇L(w) on the same batch, branch and mode")
	assert.Equal(t, "adv", given.Branch)
	require.Len(t, given.Shift, len(DefaultLayers))
	for _, s := range given.Shift {
		assert.Positive(t, s.Diff, "%s: earlier layers moved", s.Layer)
		assert.Less(t, float64(s.Cos), 1.0)
	}
	assert.Less(t, float64(given.Losses[0]), given.Loss, "a short step down the gradient lowers the loss")
}

// TestResNetShiftZeroWhenEarlierLayersStay: on the network, a layer whose
// earlier layers keep their values while it and every later one move has a
// gradient shift of exactly zero (the executor is deterministic), and a
// cosine of 1.
func TestResNetShiftZeroWhenEarlierLayersStay(t *testing.T) {
	m, x, y := smallNet(t, "bn")
	params := m.Params()
	next := Values(params)
	moved := false
	for j, p := range params {
		if p.Name == "layer2.0.conv1.weight" {
			moved = true
		}
		if moved {
			for k := range next[j] {
				next[j][k] += 0.01
			}
		}
	}
	r, err := Probe(ResNet(m), Input{X: x, Y: y, Branch: nn.Clean, Mode: nn.Train, Etas: []float64{0.1}, Next: next, Layers: []string{"layer2.0.conv1.weight", "layer3.0.conv1.weight"}})
	require.NoError(t, err)
	assert.Equal(t, 0.0, r.Shift[0].Diff, "nothing before layer2.0.conv1 moved")
	assert.InDelta(t, 1.0, float64(r.Shift[0].Cos), 1e-12)
	assert.Positive(t, r.Shift[1].Diff, "layer2's parameters before layer3.0.conv1 moved")
}
