package landscape

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/advbench/advbench/nn"
)

// Schema names the layout of a Line; a reader refuses any other.
const Schema = "advbench.landscape/v1"

// Line is one probed step: one line of a run's landscape.jsonl, or of the
// file 'advbench landscape' writes for one checkpoint.
type Line struct {
	Schema string `json:"schema"`
	// Epoch (0-based), Step (in the epoch, 0-based) and GlobalStep are the
	// training step probed, before its update; for a checkpoint, the
	// position it was written at.
	Epoch      int `json:"epoch"`
	Step       int `json:"step"`
	GlobalStep int `json:"global_step"`
	// Batch numbers a checkpoint probe's batches from 1 (0 in a training
	// run's lines: the batch is the step's).
	Batch int `json:"batch,omitempty"`
	// LR is the step's learning rate; Etas = Multiples × LR, the grid.
	LR        float64   `json:"lr"`
	Multiples []float64 `json:"eta_multiples"`
	Etas      []float64 `json:"etas"`
	// Mode is the passes' mode ("train": batch statistics).
	Mode string `json:"mode"`
	// Distance is ‖W − W_0‖₂ per stage and overall, W the weights probed.
	Distance []Distance `json:"distance_from_init"`
	// Probes has one Result per loss of the step, in the order the step
	// computes them (the clean pass, then the adversarial one).
	Probes []Result `json:"probes"`
	// Seconds is the probe's wall time (a timing, not a measurement).
	Seconds float64 `json:"seconds"`
}

// Pass is one loss of a step: a batch on a branch with its gradient.
type Pass struct {
	// Input names the batch: "clean" or "adversarial".
	Input string
	X     []float32
	// Branch the pass runs on.
	Branch nn.Branch
	// Loss and Grad are L(w) and ∇L(w) (nil Grad: computed).
	Loss float64
	Grad [][]float64
}

// Setup says what Measure probes. The zero value is the default: the grid
// DefaultMultiples, the gradient shift of DefaultLayers, training mode.
type Setup struct {
	Multiples []float64
	// Layers names the parameters whose gradient shift is measured; nil
	// means DefaultLayers, an empty slice none.
	Layers []string
	Mode   nn.Mode
}

// multiples returns the grid's multiples.
func (s Setup) multiples() []float64 {
	if s.Multiples == nil {
		return DefaultMultiples
	}
	return s.Multiples
}

// Measure probes each pass of a step at weights w (nil: the model's
// current ones) with labels y and learning rate lr, the gradient shift
// against next (the weights after the step's update; nil: none), and the
// distance of w from w0, the initial weights. The Line's position fields
// are the caller's to fill.
func Measure(m Model, y []int, passes []Pass, w, next, w0 [][]float64, lr float64, s Setup) (*Line, error) {
	start := time.Now()
	params, _ := m.State()
	if w == nil {
		w = Values(params)
	}
	layers := s.Layers
	if layers == nil {
		layers = DefaultLayers
	}
	l := &Line{Schema: Schema, LR: lr, Multiples: s.multiples(), Mode: s.Mode.String()}
	for _, k := range l.Multiples {
		l.Etas = append(l.Etas, k*lr)
	}
	var err error
	if l.Distance, err = Distances(params, w, w0); err != nil {
		return nil, err
	}
	for _, p := range passes {
		r, err := Probe(m, Input{X: p.X, Y: y, Branch: p.Branch, Mode: s.Mode, At: w, Grad: p.Grad, Loss: p.Loss,
			Etas: l.Etas, Next: next, Layers: layers})
		if err != nil {
			return nil, fmt.Errorf("landscape: the %s pass: %w", p.Input, err)
		}
		r.Input = p.Input
		l.Probes = append(l.Probes, *r)
	}
	l.Seconds = time.Since(start).Seconds()
	return l, nil
}

// ReadFile reads the lines of a landscape file; a missing file has none.
func ReadFile(path string) ([]Line, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("landscape: %w", err)
	}
	defer f.Close()
	var out []Line
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<24)
	for n := 1; sc.Scan(); n++ {
		var l Line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return out, fmt.Errorf("landscape: %s: line %d: %v", path, n, err)
		}
		if l.Schema != Schema {
			return out, fmt.Errorf("landscape: %s: line %d: schema %q, want %q", path, n, l.Schema, Schema)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("landscape: %s: %w", path, err)
	}
	return out, nil
}
