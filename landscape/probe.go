package landscape

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/advbench/advbench/nn"
)

// Model is what a probe needs of a network.
type Model interface {
	// State returns the learnable parameters, in the order gradients come
	// in, and the buffers (running statistics) a pass may update.
	State() (params, buffers []*nn.Var)
	// Gradient returns the batch-mean loss of (x, y) on branch b in mode
	// at the current parameters, and the gradient of every parameter in
	// State's order (nil for one the branch does not use: zero).
	Gradient(x []float32, y []int, b nn.Branch, mode nn.Mode) (float64, [][]float64, error)
}

// DefaultMultiples is the grid of step sizes as multiples of the step's
// learning rate lr: η ∈ {lr/4, lr/2, lr, 2·lr, 4·lr}, a log₂ grid around
// the step actually taken (Santurkar et al. move along the gradient by
// multiples of the learning rate). At the reference lr 0.1 the longest
// step is 0.4·g, within the 0.4–0.7 times the gradient the paper goes.
var DefaultMultiples = []float64{0.25, 0.5, 1, 2, 4}

// Input is one loss a probe measures.
type Input struct {
	// X, Y: the batch (X as the model takes it; a quadratic ignores it).
	X []float32
	Y []int
	// Branch and Mode of every pass (training mode: batch statistics, as
	// a training step differentiates; running statistics are restored).
	Branch nn.Branch
	Mode   nn.Mode
	// At is w, the parameters' values the probe starts from, in State's
	// order; nil: the model's current values.
	At [][]float64
	// Grad is g = ∇L(w) and Loss is L(w), as the training step computed
	// them; nil Grad: both are computed (one more pass).
	Grad [][]float64
	Loss float64
	// Etas is the grid of step sizes η, each positive.
	Etas []float64
	// Next is the parameters' values after the step's update (w_{t+1}), for
	// the gradient shift of Layers, the names of the parameters measured.
	// Nil Next or Layers measure no shift.
	Next   [][]float64
	Layers []string
}

// Result is what Probe measured of one loss.
type Result struct {
	// Branch is the branch the passes ran on; Input names the batch
	// ("clean" or "adversarial", the step's x_adv).
	Branch string `json:"branch"`
	Input  string `json:"input"`
	// Loss is L(w) and GradNorm ‖g‖₂.
	Loss     float64 `json:"loss"`
	GradNorm float64 `json:"grad_norm"`
	// Losses and GradChanges are L(w − η·g) and ‖∇L(w − η·g) − g‖₂ at each
	// η of the grid, null where not finite.
	Losses      []Num `json:"losses"`
	GradChanges []Num `json:"grad_changes"`
	// LossRange and GradChangeRange are their [min, max] over the grid's
	// finite values.
	LossRange       Range `json:"loss_range"`
	GradChangeRange Range `json:"grad_change_range"`
	// Beta is the effective β-smoothness: max over the grid of
	// ‖∇L(w − η·g) − g‖₂ / ‖η·g‖₂ (finite values only).
	Beta Num `json:"beta"`
	// NonFinite counts the grid points whose loss or gradient change was
	// NaN or infinite (left out of the ranges and of Beta).
	NonFinite int `json:"non_finite,omitempty"`
	// Shift is the gradient shift of each layer Input.Layers named.
	Shift []Shift `json:"shift,omitempty"`
}

// Shift is the gradient shift of one layer i: G = ∇_{W_i} L(w) and G' the
// same after only the parameters before i (in State's order) took the
// step's update.
type Shift struct {
	Layer string `json:"layer"`
	// GradNorm is ‖G‖₂, Diff ‖G − G'‖₂ and Cos cos(G, G') (null when
	// either is zero).
	GradNorm float64 `json:"grad_norm"`
	Diff     float64 `json:"diff"`
	Cos      Num     `json:"cos"`
}

// Range is a [min, max] pair, both null when no value was finite.
type Range struct {
	Min Num `json:"min"`
	Max Num `json:"max"`
}

// Num is a float64 that JSON spells null when it is NaN or infinite (JSON
// has neither); null reads back as NaN.
type Num float64

// MarshalJSON writes the number, or null.
func (n Num) MarshalJSON() ([]byte, error) {
	if !finite(float64(n)) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(n))
}

// UnmarshalJSON reads a number, or null as NaN.
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = Num(f)
	return nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// check reports an input that does not fit the model's parameters.
func (in *Input) check(params []*nn.Var) error {
	shapeOK := func(what string, v [][]float64, allowNil bool) error {
		if v == nil {
			return nil
		}
		if len(v) != len(params) {
			return fmt.Errorf("landscape: %s has %d tensors for %d parameters", what, len(v), len(params))
		}
		for i, p := range params {
			if (v[i] == nil && allowNil) || len(v[i]) == p.Value.Shape().TotalSize() {
				continue
			}
			return fmt.Errorf("landscape: %s: %s has %d values, want %d", what, p.Name, len(v[i]), p.Value.Shape().TotalSize())
		}
		return nil
	}
	if err := shapeOK("the starting weights", in.At, false); err != nil {
		return err
	}
	if err := shapeOK("the gradient", in.Grad, true); err != nil {
		return err
	}
	if err := shapeOK("the updated weights", in.Next, false); err != nil {
		return err
	}
	for _, eta := range in.Etas {
		if !(eta > 0) || math.IsInf(eta, 0) {
			return fmt.Errorf("landscape: step size %v must be a positive number", eta)
		}
	}
	return nil
}

// Probe measures one loss along its own gradient (see the package
// documentation) and leaves the model's parameters and buffers bit for bit
// as it found them, whatever happens. Every pass starts from the buffers
// the model had, so a pass in training mode sees the same running
// statistics as the step did.
func Probe(m Model, in Input) (*Result, error) {
	params, buffers := m.State()
	if err := in.check(params); err != nil {
		return nil, err
	}
	layers := make([]int, len(in.Layers))
	for k, name := range in.Layers {
		layers[k] = slices.IndexFunc(params, func(p *nn.Var) bool { return p.Name == name })
		if layers[k] < 0 {
			return nil, fmt.Errorf("landscape: layer %q is not a parameter of the model", name)
		}
	}
	keepP, keepB := Save(params), Save(buffers)
	defer func() {
		keepP.Restore(params)
		keepB.Restore(buffers)
	}()
	w := in.At
	if w == nil {
		w = Values(params)
	}
	pass := func(at [][]float64) (float64, [][]float64, error) {
		setValues(params, at)
		keepB.Restore(buffers)
		l, g, err := m.Gradient(in.X, in.Y, in.Branch, in.Mode)
		if err == nil && len(g) != len(params) {
			err = fmt.Errorf("landscape: the model returned %d gradients for %d parameters", len(g), len(params))
		}
		return l, g, err
	}
	loss, g := in.Loss, in.Grad
	if g == nil {
		var err error
		if loss, g, err = pass(w); err != nil {
			return nil, err
		}
	}
	gn := norm(g)
	r := &Result{Branch: in.Branch.String(), Loss: loss, GradNorm: gn,
		LossRange: Range{Num(math.NaN()), Num(math.NaN())}, GradChangeRange: Range{Num(math.NaN()), Num(math.NaN())}, Beta: Num(math.NaN())}
	point := make([][]float64, len(w))
	for j := range w {
		point[j] = make([]float64, len(w[j]))
	}
	for _, eta := range in.Etas {
		for j, wj := range w {
			if g[j] == nil {
				copy(point[j], wj)
				continue
			}
			for k, v := range wj {
				point[j][k] = v - eta*g[j][k]
			}
		}
		l, ge, err := pass(point)
		if err != nil {
			return nil, fmt.Errorf("landscape: at step size %v: %w", eta, err)
		}
		change := dist(ge, g)
		r.Losses = append(r.Losses, Num(l))
		r.GradChanges = append(r.GradChanges, Num(change))
		if !finite(l) || !finite(change) {
			r.NonFinite++
		}
		widen(&r.LossRange, l)
		widen(&r.GradChangeRange, change)
		if b := change / (eta * gn); finite(b) && (math.IsNaN(float64(r.Beta)) || b > float64(r.Beta)) {
			r.Beta = Num(b)
		}
	}
	if in.Next == nil {
		return r, nil
	}
	for k, i := range layers {
		for j := range w {
			if j < i {
				copy(point[j], in.Next[j])
			} else {
				copy(point[j], w[j])
			}
		}
		_, gs, err := pass(point)
		if err != nil {
			return nil, fmt.Errorf("landscape: gradient shift of %s: %w", in.Layers[k], err)
		}
		r.Shift = append(r.Shift, Shift{Layer: in.Layers[k], GradNorm: norm(g[i : i+1]), Diff: dist(g[i:i+1], gs[i:i+1]), Cos: Num(cosine(g[i], gs[i]))})
	}
	return r, nil
}

// widen extends a range by a finite value.
func widen(r *Range, v float64) {
	if !finite(v) {
		return
	}
	if math.IsNaN(float64(r.Min)) || v < float64(r.Min) {
		r.Min = Num(v)
	}
	if math.IsNaN(float64(r.Max)) || v > float64(r.Max) {
		r.Max = Num(v)
	}
}
