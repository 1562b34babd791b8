// Package gradcheck compares the analytic gradients gorgonia computes for a
// scalar loss with central finite differences in float64. It is used by the
// tests of every differentiable piece of advbench.
//
// The error reported per checked tensor is the relative error of the
// gradient vector in the infinity norm:
//
//	max_i |analytic_i - numeric_i| / max_i |numeric_i|
//
// over the checked elements, where numeric_i is the fourth-order central
// difference
//
//	(-L(w_i+2h) + 8 L(w_i+h) - 8 L(w_i-h) + L(w_i-2h)) / 12h
//
// whose truncation error is O(h⁴), so a step of 1e-4 keeps both truncation
// and round-off far below 1e-6 relative even for small gradients.
//
// Networks with ReLUs are only piecewise smooth: when a pre-activation
// crosses zero inside the stencil the difference is wrong whatever the
// analytic gradient. With Options.Kinks, each element is also differenced
// with step h/8; when the two estimates disagree (a test that does not look
// at the analytic value) the element is counted as a kink and the smaller
// step is used.
package gradcheck

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Result is the outcome for one tensor.
type Result struct {
	Name    string
	Checked int     // elements compared
	Kinks   int     // elements re-differenced with h/8 because h crossed a kink
	RelErr  float64 // max |a-n| / max |n|
	AbsErr  float64 // max |a-n|
	MaxGrad float64 // max |n|
}

func (r Result) String() string {
	return fmt.Sprintf("%s: rel %.2e (abs %.2e, max |grad| %.2e, %d elements, %d kinks)", r.Name, r.RelErr, r.AbsErr, r.MaxGrad, r.Checked, r.Kinks)
}

// Options tune a check. Zero values mean: H 1e-4, every element.
type Options struct {
	H      float64    // finite-difference step
	Sample int        // check at most this many elements per tensor (0 = all)
	Kinks  bool       // detect ReLU kinks inside the stencil and re-difference with h/8
	Rand   *rand.Rand // picks the sampled elements; nil = seeded 0
}

// Check differentiates loss (a scalar node of g) with respect to each node in
// wrt — nodes bound to float64 *tensor.Dense values — and compares with
// central differences obtained by perturbing the bound values in place.
func Check(g *gorgonia.ExprGraph, loss *gorgonia.Node, wrt []*gorgonia.Node, opt Options) ([]Result, error) {
	if opt.H == 0 {
		opt.H = 1e-4
	}
	if opt.Rand == nil {
		opt.Rand = rand.New(rand.NewPCG(0, 0))
	}
	grads, err := gorgonia.Grad(loss, wrt...)
	if err != nil {
		return nil, fmt.Errorf("gradcheck: grad: %w", err)
	}
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	run := func() (float64, error) {
		m.Reset()
		if err := m.RunAll(); err != nil {
			return 0, err
		}
		return scalar(loss.Value())
	}
	if _, err := run(); err != nil {
		return nil, fmt.Errorf("gradcheck: run: %w", err)
	}
	analytic := make([][]float64, len(wrt))
	for i, gn := range grads {
		d, ok := gn.Value().Data().([]float64)
		if !ok {
			return nil, fmt.Errorf("gradcheck: gradient of %s is %T, want []float64", wrt[i].Name(), gn.Value().Data())
		}
		analytic[i] = append([]float64(nil), d...)
	}
	ts := make([]Tensor, len(wrt))
	for i, n := range wrt {
		val, ok := n.Value().(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("gradcheck: %s is not bound to a *tensor.Dense", n.Name())
		}
		data, ok := val.Data().([]float64)
		if !ok {
			return nil, fmt.Errorf("gradcheck: %s is not float64", n.Name())
		}
		ts[i] = Tensor{Name: n.Name(), Data: data, Grad: analytic[i]}
	}
	return CheckFunc(run, ts, opt)
}

// Tensor is an input of a function checked by CheckFunc: its float64 data,
// which CheckFunc perturbs in place (and restores), and the analytic
// gradient to check.
type Tensor struct {
	Name string
	Data []float64
	Grad []float64
}

// CheckFunc compares each tensor's analytic gradient with central
// differences of loss, a function of the tensors' data that is evaluated
// again for every perturbation; Options apply as in Check.
func CheckFunc(loss func() (float64, error), ts []Tensor, opt Options) ([]Result, error) {
	if opt.H == 0 {
		opt.H = 1e-4
	}
	if opt.Rand == nil {
		opt.Rand = rand.New(rand.NewPCG(0, 0))
	}
	var out []Result
	for _, t := range ts {
		if len(t.Grad) != len(t.Data) {
			return nil, fmt.Errorf("gradcheck: %s: %d gradient values for %d elements", t.Name, len(t.Grad), len(t.Data))
		}
		idx := opt.Rand.Perm(len(t.Data))
		if opt.Sample > 0 && opt.Sample < len(idx) {
			idx = idx[:opt.Sample]
		}
		r := Result{Name: t.Name, Checked: len(idx)}
		var maxDiff float64
		for _, j := range idx {
			num, err := difference(t.Data, j, opt.H, loss)
			if err != nil {
				return nil, err
			}
			if opt.Kinks {
				fine, err := difference(t.Data, j, opt.H/8, loss)
				if err != nil {
					return nil, err
				}
				if math.Abs(num-fine) > 1e-8+1e-6*math.Max(math.Abs(num), math.Abs(fine)) {
					num = fine
					r.Kinks++
				}
			}
			maxDiff = math.Max(maxDiff, math.Abs(num-t.Grad[j]))
			r.MaxGrad = math.Max(r.MaxGrad, math.Abs(num))
		}
		r.AbsErr = maxDiff
		if r.MaxGrad > 0 {
			r.RelErr = maxDiff / r.MaxGrad
		} else if maxDiff > 0 {
			r.RelErr = math.Inf(1)
		}
		out = append(out, r)
	}
	return out, nil
}

var weightIDs atomic.Uint64

// difference returns the fourth-order central difference of run() with
// respect to data[j] with step h, leaving data[j] as it was.
func difference(data []float64, j int, h float64, run func() (float64, error)) (float64, error) {
	orig := data[j]
	defer func() { data[j] = orig }()
	var l [4]float64
	for k, step := range [4]float64{2, 1, -1, -2} {
		data[j] = orig + step*h
		var err error
		if l[k], err = run(); err != nil {
			return 0, err
		}
	}
	return (-l[0] + 8*l[1] - 8*l[2] + l[3]) / (12 * h), nil
}

func scalar(v gorgonia.Value) (float64, error) {
	switch x := v.Data().(type) {
	case float64:
		return x, nil
	case []float64:
		if len(x) == 1 {
			return x[0], nil
		}
	}
	return 0, fmt.Errorf("gradcheck: loss is %T, want a float64 scalar", v.Data())
}

// WeightedSum returns Σ r⊙y for a fixed random tensor r ~ N(0,1) of y's
// shape: a scalar loss whose gradient with respect to y is r, so that every
// output element matters with a different weight.
func WeightedSum(g *gorgonia.ExprGraph, y *gorgonia.Node, rng *rand.Rand) (*gorgonia.Node, []float64, error) {
	n := y.Shape().TotalSize()
	w := make([]float64, n)
	for i := range w {
		w[i] = rng.NormFloat64()
	}
	wt := tensor.New(tensor.WithShape(y.Shape().Clone()...), tensor.WithBacking(w))
	// Gorgonia merges input nodes of equal name and shape whatever their
	// values, so each weights node needs a name of its own.
	wn := gorgonia.NodeFromAny(g, wt, gorgonia.WithName(fmt.Sprintf("gradcheck.weights.%d", weightIDs.Add(1))))
	prod, err := gorgonia.HadamardProd(y, wn)
	if err != nil {
		return nil, nil, err
	}
	s, err := gorgonia.Sum(prod)
	return s, w, err
}

// Assert logs every result and fails t for any tensor whose relative error
// exceeds tol. A tensor with an all-zero numeric gradient (a parameter the
// graph does not use in this mode) must have an all-zero analytic one.
func Assert(t testing.TB, res []Result, tol float64) {
	t.Helper()
	AssertFloor(t, res, tol, 0)
}

// AssertFloor is Assert that also accepts a tensor whose absolute error is
// at most floor. A finite difference cannot resolve a derivative better than
// about ε·|L|/h (ε the float64 epsilon, L the loss, h the step), so a tensor
// whose true gradient is tiny (a gate bias of 5e-5, say) can show a relative
// error above tol from rounding alone; a real error in it is still far above
// the floor.
func AssertFloor(t testing.TB, res []Result, tol, floor float64) {
	t.Helper()
	for _, r := range res {
		t.Log(r)
		if r.MaxGrad == 0 {
			if r.AbsErr != 0 {
				t.Errorf("%s: numeric gradient is zero, analytic is not (max diff %.2e)", r.Name, r.AbsErr)
			}
			continue
		}
		if r.RelErr > tol && r.AbsErr > floor {
			t.Errorf("%s: relative error %.2e > %.0e", r, r.RelErr, tol)
		}
	}
}
