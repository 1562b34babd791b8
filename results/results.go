// Package results holds what an evaluation measured, as plain data: the
// versioned result file that 'advbench eval' writes (one model, one branch,
// a set of attacks on one test set, with per-example flags, sanity checks
// and provenance) and the attack result types inside it. It runs nothing;
// the attack package fills these types and the reports package renders
// them.
package results

import (
	"fmt"
	"strings"

	"github.com/advbench/advbench/internal/textfmt"
)

// Schema names this version of the result file format. Readers refuse files
// of another schema.
const Schema = "advbench.result/v1"

// Branch values of a result file.
const (
	BranchClean  = "clean"  // branch 0 of a two-branch norm
	BranchAdv    = "adv"    // branch 1
	BranchShared = "shared" // the one network of a single-branch norm (both branches)
)

// Provenance says what a file of measurements is about: its format, the
// writer, the model, the weights and the test data.
type Provenance struct {
	Schema     string     `json:"schema"`
	Version    string     `json:"advbench_version"`
	Model      Model      `json:"model"`
	Checkpoint Checkpoint `json:"checkpoint"`
	Data       Data       `json:"data"`
}

// Measurement is what an evaluation measured: standard accuracy, each
// attack's robust accuracy, the worst case over attacks per example, the
// per-example flags and the sanity checks. Accuracies are fractions in
// [0,1].
type Measurement struct {
	Examples    int            `json:"examples"`
	SA          float64        `json:"standard_accuracy"`
	Attacks     []AttackResult `json:"attacks"`
	WorstCaseRA float64        `json:"worst_case_robust_accuracy"`
	PerExample  *PerExample    `json:"per_example"`
	Checks      []Check        `json:"checks"`
	// Diagnostics are the attack-failure diagnostics (doubled steps,
	// square against white-box, loss converged), as checks; absent in
	// files written before them.
	Diagnostics []Check  `json:"diagnostics,omitempty"`
	Warnings    []string `json:"warnings"`
}

// File is one evaluation result: one model, one branch.
type File struct {
	Provenance
	Branch string `json:"branch"`
	Mode   string `json:"mode"`
	Seed   uint64 `json:"seed"`
	// Batch is the evaluation batch size (0 in files written before it
	// was recorded): the attacks' random starts are drawn per batch.
	Batch int `json:"batch,omitempty"`
	Measurement
	WallSeconds float64 `json:"wall_seconds"`
}

// Conditions are what results must share to be compared: the preset, the
// test data (hash and size), the mode and every attack's settings.
type Conditions struct {
	Preset     string         `json:"preset"`
	Data       string         `json:"data"`
	DataSHA256 string         `json:"data_sha256"`
	Examples   int            `json:"examples"`
	Mode       string         `json:"mode,omitempty"`
	Attacks    []AttackParams `json:"attacks"`
}

// Conditions returns the file's comparison conditions.
func (f *File) Conditions() Conditions {
	c := Conditions{Preset: f.Model.Preset, Data: f.Data.Source, DataSHA256: f.Data.SHA256, Examples: f.Examples, Mode: f.Mode}
	for _, a := range f.Attacks {
		c.Attacks = append(c.Attacks, a.AttackParams)
	}
	return c
}

// Differ names the first condition in which c and o differ, with both
// values; field is "" when they can be compared. A Mode left empty (an old
// baseline) matches any.
func (c Conditions) Differ(o Conditions) (field string, x, y any) {
	switch {
	case c.Preset != o.Preset:
		return "preset", c.Preset, o.Preset
	case c.Examples != o.Examples:
		return "test-set size", c.Examples, o.Examples
	case c.DataSHA256 != o.DataSHA256:
		return "test data", c.Data + " " + textfmt.ShortHash(c.DataSHA256), o.Data + " " + textfmt.ShortHash(o.DataSHA256)
	case c.Mode != "" && o.Mode != "" && c.Mode != o.Mode:
		return "mode", c.Mode, o.Mode
	case len(c.Attacks) != len(o.Attacks):
		return "attacks", attackNames(c.Attacks), attackNames(o.Attacks)
	}
	for i, a := range c.Attacks {
		b := o.Attacks[i]
		switch {
		case a.Name != b.Name:
			return "attacks", attackNames(c.Attacks), attackNames(o.Attacks)
		case a.Eps != b.Eps:
			return a.Name + " eps", a.Eps255, b.Eps255
		case a.Steps != b.Steps:
			return a.Name + " steps", a.Steps, b.Steps
		case a != b:
			return a.Name + " settings", fmt.Sprintf("%+v", a), fmt.Sprintf("%+v", b)
		}
	}
	return "", nil, nil
}

func attackNames(as []AttackParams) string {
	var s []string
	for _, a := range as {
		s = append(s, a.Name)
	}
	return strings.Join(s, ",")
}

// Model describes the evaluated network and how it was trained.
type Model struct {
	Norm      string  `json:"norm"`
	Width     float64 `json:"width"`
	Branches  int     `json:"branches"` // 1: single-branch norm, 2: clean and adversarial branches
	Objective string  `json:"objective,omitempty"`
	Preset    string  `json:"preset,omitempty"`
	TrainSeed uint64  `json:"train_seed"`
	// TrainData identifies the training data (a run's data hash), when known.
	TrainData string `json:"train_data,omitempty"`
	// Epochs is the run's configured epoch count and TrainSteps, TrainEps,
	// TrainStep and TrainAttackMode its training attack (PGD steps, radius,
	// step size, train or eval mode), when known: 0 and "" in files written
	// before they were recorded and for imported weights.
	Epochs          int     `json:"epochs,omitempty"`
	TrainSteps      int     `json:"train_steps,omitempty"`
	TrainEps        float64 `json:"train_eps,omitempty"`
	TrainStep       float64 `json:"train_step,omitempty"`
	TrainAttackMode string  `json:"train_attack_mode,omitempty"`
}

// Checkpoint identifies the evaluated weights.
type Checkpoint struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	// Epoch is the number of epochs trained (-1 when unknown).
	Epoch int `json:"epoch"`
}

// Data identifies the test set.
type Data struct {
	// Source is a path, or the built-in generator with its seed and sizes.
	Source string `json:"source"`
	// SHA256 hashes exactly the records evaluated, in order.
	SHA256 string `json:"sha256"`
	Split  string `json:"split"`
}

// AttackParams are an attack's hyper-parameters.
type AttackParams struct {
	Name        string  `json:"name"`
	Eps         float64 `json:"eps"`
	Eps255      string  `json:"eps_255"` // the eps as n/255
	Step        float64 `json:"step,omitempty"`
	Steps       int     `json:"steps"`
	Restarts    int     `json:"restarts"`
	RandomStart bool    `json:"random_start"`
	ClampStart  bool    `json:"clamp_start"`
	Loss        string  `json:"loss"`
	// Targets is the number of target classes of a targeted attack (the
	// classes ranked 2nd, 3rd, … by the clean logits), 0 if untargeted.
	Targets int `json:"targets,omitempty"`
	// Pruned says the attack ran only on the examples still robust after
	// the earlier pruned attacks of the same evaluation (AutoAttack's
	// protocol): its robust flags and RA are cumulative over them.
	Pruned bool `json:"pruned,omitempty"`
	// Precision is "bf16" when the attack's steps (its forward passes and
	// input gradients) ran with bf16 operands; "" is float32. Final
	// classifications are float32 either way.
	Precision string `json:"precision,omitempty"`
}

// AttackResult is one attack's robust accuracy and diagnostics.
type AttackResult struct {
	AttackParams
	RA               float64 `json:"robust_accuracy"`
	Robust           int     `json:"robust_examples"`
	MaxDelta         float64 `json:"max_linf_delta"`
	MinPixel         float64 `json:"min_pixel"`
	MaxPixel         float64 `json:"max_pixel"`
	NonFinite        int     `json:"non_finite_values"`
	ZeroGradFraction float64 `json:"zero_gradient_fraction"`
}

// PerExample holds per-example flags in evaluation order. An example is
// robust under an attack when it is classified correctly both clean and at
// the attack's x_adv (the clean point lies in its own eps-ball).
type PerExample struct {
	CleanCorrect []bool            `json:"clean_correct"`
	Robust       map[string][]bool `json:"robust"`
	WorstCase    []bool            `json:"worst_case_robust"`
}

// Check is one sanity check: its name, whether it passed, the numbers it
// compared (by name) and how many examples offend it. A failed check is a
// warning, not an error: the measurement is kept.
type Check struct {
	Name      string             `json:"name"`
	Attack    string             `json:"attack,omitempty"` // the attack the check is about
	OK        bool               `json:"ok"`
	Values    map[string]float64 `json:"values,omitempty"`
	Offending int                `json:"offending_examples"`
	Detail    string             `json:"detail"`
}

// Attack returns the result of the named attack, or nil.
func (f *File) Attack(name string) *AttackResult {
	for i := range f.Attacks {
		if f.Attacks[i].Name == name {
			return &f.Attacks[i]
		}
	}
	return nil
}

// Write stores f as indented JSON at path, atomically.
func Write(path string, f *File) error { return WriteJSON(path, f) }

// Read loads a result file, refusing another schema, unknown fields and
// files whose per-example flags do not match their example count.
func Read(path string) (*File, error) {
	var f File
	if err := readStrict(path, &f, "result"); err != nil {
		return nil, err
	}
	if f.Schema != Schema {
		return nil, fmt.Errorf("results: %s: schema %q, want %q", path, f.Schema, Schema)
	}
	if err := f.validate(); err != nil {
		return nil, fmt.Errorf("results: %s: %w", path, err)
	}
	return &f, nil
}

// Source is a result file and the path it was read from (for messages).
type Source struct {
	Path string
	File *File
}

// validate checks the internal consistency of a file.
func (f *File) validate() error {
	switch f.Branch {
	case BranchClean, BranchAdv, BranchShared:
	default:
		return fmt.Errorf("branch %q: want clean, adv or shared", f.Branch)
	}
	if f.Examples < 1 || f.PerExample == nil || len(f.PerExample.CleanCorrect) != f.Examples {
		return fmt.Errorf("%d examples but per-example flags for a different count", f.Examples)
	}
	for _, a := range f.Attacks {
		if flags := f.PerExample.Robust[a.Name]; len(flags) != f.Examples {
			return fmt.Errorf("attack %s: %d per-example flags for %d examples", a.Name, len(flags), f.Examples)
		}
	}
	return nil
}

// ReplicateDiffer names the first thing other than the training seed in
// which the runs behind f and o differ, with both values; field is "" when
// they are replicates (the same training by seed alone) and may share one
// "mean ± std over seeds" cell. It compares the norm, width, branches,
// objective, preset, training data, epochs, training attack and the
// checkpoint selected (file name and epoch). A field a file predates (0 or
// ""; see Model) is compared like any value: it matches only a file that
// lacks it too, so an old file never joins a new one's cell.
func (f *File) ReplicateDiffer(o *File) (field string, x, y any) {
	a, b := f.Model, o.Model
	ca, cb := f.Checkpoint, o.Checkpoint
	switch {
	case a.Norm != b.Norm:
		return "norm", a.Norm, b.Norm
	case a.Width != b.Width:
		return "width", a.Width, b.Width
	case a.Branches != b.Branches:
		return "branches", a.Branches, b.Branches
	case a.Objective != b.Objective:
		return "objective", orUnrecorded(a.Objective), orUnrecorded(b.Objective)
	case a.Preset != b.Preset:
		return "preset", orUnrecorded(a.Preset), orUnrecorded(b.Preset)
	case a.TrainData != b.TrainData:
		return "training data", orUnrecorded(textfmt.ShortHash(a.TrainData)), orUnrecorded(textfmt.ShortHash(b.TrainData))
	case a.Epochs != b.Epochs:
		return "epochs", intOrUnrecorded(a.Epochs), intOrUnrecorded(b.Epochs)
	case a.TrainSteps != b.TrainSteps:
		return "training attack steps", intOrUnrecorded(a.TrainSteps), intOrUnrecorded(b.TrainSteps)
	case a.TrainEps != b.TrainEps:
		return "training attack eps", a.TrainEps, b.TrainEps
	case a.TrainStep != b.TrainStep:
		return "training attack step", a.TrainStep, b.TrainStep
	case a.TrainAttackMode != b.TrainAttackMode:
		return "training attack mode", orUnrecorded(a.TrainAttackMode), orUnrecorded(b.TrainAttackMode)
	case checkpointName(ca.Path) != checkpointName(cb.Path):
		return "checkpoint selection", checkpointName(ca.Path), checkpointName(cb.Path)
	case ca.Epoch != cb.Epoch:
		return "checkpoint epoch", ca.Epoch, cb.Epoch
	}
	return "", nil, nil
}

// checkpointName is a checkpoint path's file name (last.ckpt, best.ckpt,
// epoch-003.ckpt): which of a run's checkpoints was evaluated.
func checkpointName(path string) string {
	if i := strings.LastIndexAny(path, `/\`); i >= 0 {
		return path[i+1:]
	}
	return path
}

func orUnrecorded(s string) string {
	if s == "" {
		return "(not recorded)"
	}
	return s
}

func intOrUnrecorded(n int) any {
	if n == 0 {
		return "(not recorded)"
	}
	return n
}

// autoAttack lists the attacks of AutoAttack's "standard" version in its
// order (Croce & Hein 2020, arXiv:2003.01690): the leaderboard number of
// RobustBench, and the attack package's "aa" suite.
var autoAttack = []string{"apgd-ce", "apgd-t", "fab-t", "square"}

// AutoAttackNames returns the attacks of AutoAttack's standard version, in
// its order.
func AutoAttackNames() []string { return append([]string(nil), autoAttack...) }

// AutoAttack returns the per-example robust flags after the last pruned
// attack of the file and that attack's name, when the file's pruned
// attacks include every attack of AutoAttack's standard version (a pruned
// attack's flags are cumulative over the pruned attacks before it, so the
// last one's are AutoAttack's: robust under every attack of the suite, and
// under any extra pruned attack, such as aa-plus's); nil and "" otherwise.
func (f *File) AutoAttack() (flags []bool, last string) {
	have := map[string]bool{}
	for _, a := range f.Attacks {
		if a.Pruned {
			have[a.Name] = true
			last = a.Name
		}
	}
	for _, n := range autoAttack {
		if !have[n] {
			return nil, ""
		}
	}
	if f.PerExample == nil {
		return nil, ""
	}
	return f.PerExample.Robust[last], last
}
