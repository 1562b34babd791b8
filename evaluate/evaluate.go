// Package evaluate measures a trained model's standard and robust accuracy
// on a test set and writes the result files of package results: in
// evaluation mode, white-box on the evaluated branch (the attack uses the
// branch being scored), through attack.Evaluation. An evaluation saves its
// state after every batch, so a killed one resumes where it stopped and
// writes the identical result; a finished result of the same evaluation is
// reused rather than recomputed.
package evaluate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/advbench/advbench/attack"
	"github.com/advbench/advbench/data/cifar"
	"github.com/advbench/advbench/data/loader"
	"github.com/advbench/advbench/data/source"
	"github.com/advbench/advbench/internal/atomicfile"
	"github.com/advbench/advbench/internal/progress"
	"github.com/advbench/advbench/internal/version"
	"github.com/advbench/advbench/interop"
	"github.com/advbench/advbench/models/resnet"
	"github.com/advbench/advbench/nn"
	"github.com/advbench/advbench/results"
	"github.com/advbench/advbench/train"
)

// ErrInterrupted is returned when the context was cancelled: the batches
// done are saved and the same evaluation continues from them.
var ErrInterrupted = errors.New("evaluate: interrupted; run the same evaluation again to continue")

// SelectReference selects the checkpoint the reference's test scripts
// evaluate: model_epoch190.pt, written after 0-based epoch ReferenceEpoch,
// that is after 191 epochs (RECIPE.md), which is advbench's epoch-190 of a
// run that saves every 10 epochs (the paper preset).
const (
	SelectReference = "reference"
	ReferenceEpoch  = 190
)

// ErrNoTestData is returned for a model outside a run directory (an
// advbench checkpoint elsewhere, or a foreign state dict) evaluated without
// naming its test data: nothing says which data it belongs to, and scoring
// the built-in data silently would give a confident, meaningless number.
var ErrNoTestData = errors.New("evaluate: the model is not inside a run directory, so its test data is unknown: name it (a CIFAR-10 path, or builtin for the built-in data)")

// SeenImagesError reports test images that the evaluated run trained or
// validated on (found by the images' fingerprints, not by paths).
type SeenImagesError struct {
	Run       string // the run directory
	Data      string // the test data's description
	Shared    int    // test images the run saw
	Of        int    // test images
	First     int    // index of the first one in the test set
	RunOnFile bool   // the test data is the run's own single file
}

func (e *SeenImagesError) Error() string {
	why := ""
	if e.RunOnFile {
		why = " (the run's data is a single file, which was its training split: give other test data)"
	}
	return fmt.Sprintf("evaluate: %d of the %d test images of %s (the first is test record %d) are images the run %s trained or validated on%s; a model is never scored on images it saw",
		e.Shared, e.Of, e.Data, e.First, e.Run, why)
}

// Spec says what to evaluate and how. Zero values are the documented
// defaults.
type Spec struct {
	// Target is a run directory or an advbench checkpoint file.
	Target string
	// Select picks a run directory's checkpoint: "last" (default), "best",
	// "reference" (SelectReference: epoch-190) or "epoch-NNN".
	Select string
	// Branch is "clean", "adv" or "both" (default). A single-branch network
	// is evaluated once, as branch "shared".
	Branch string
	// Attacks are registry names; default pgd-10 and pgd-20.
	Attacks []string
	// Options are the attacks' options; the zero value means
	// attack.DefaultOptions (eps 8/255, step 2/255).
	Options *attack.Options
	// Data is the test data: "" means the run's data (ErrNoTestData for
	// a checkpoint without a run), "builtin" or a CIFAR-10 path otherwise.
	Data string
	// TestN evaluates the first n test images (0: all).
	TestN int
	// Seed seeds the attacks' random starts (default 0 is a valid seed).
	Seed uint64
	// Batch is the evaluation batch size (0: 128).
	Batch int
	// Out is the result directory (default RUN_DIR/results, or a results
	// folder beside a checkpoint file), or a .json file for one branch.
	Out string
	// Norm and Width, when Norm is set, read Target as a foreign state dict
	// (a torch.save file or a safetensors file without advbench metadata,
	// package interop) for a model of that norm and width.
	Norm  string
	Width float64
	// InputNorm is a foreign state dict's input normalisation when the file
	// has no normal.mean/normal.std (resnet.ParseInputNorm's spellings);
	// "" takes the file's and refuses a file without them.
	InputNorm string
}

// Options say how an evaluation is carried out.
type Options struct {
	// Progress receives a progress bar (stderr); nil shows nothing.
	Progress io.Writer
	// AfterBatch, when set, is called after every saved batch (tests
	// interrupt evaluations with it).
	AfterBatch func(branch string, batch int)
}

// Outcome is one branch's evaluation: where its result is and whether it
// was computed now or found finished.
type Outcome struct {
	Path   string
	File   *results.File
	Reused bool
}

// target is a resolved evaluation target.
type target struct {
	ckpt   string
	record *train.Record // nil for a checkpoint outside a run
	runDir string        // the run directory when record is set
	outDir string
}

func resolve(s Spec) (target, error) {
	st, err := os.Stat(s.Target)
	if err != nil {
		return target{}, fmt.Errorf("evaluate: %w", err)
	}
	if !st.IsDir() {
		t := target{ckpt: s.Target, outDir: filepath.Join(filepath.Dir(s.Target), "results")}
		// A checkpoint inside a run's checkpoints/ belongs to that run.
		runDir := filepath.Dir(filepath.Dir(s.Target))
		if filepath.Base(filepath.Dir(s.Target)) == train.CheckpointDir {
			rec, err := train.ReadRecord(runDir)
			if err == nil {
				t.record, t.runDir, t.outDir = &rec, runDir, filepath.Join(runDir, "results")
			} else if !errors.Is(err, train.ErrNoRecord) {
				return target{}, err // the run's config.json is damaged
			}
		}
		return t, nil
	}
	rec, err := train.ReadRecord(s.Target)
	if err != nil {
		return target{}, err
	}
	name := s.Select
	switch {
	case name == "" || name == "last":
		name = train.LastFile
	case name == "best":
		name = train.BestFile
	case name == SelectReference:
		name = train.EpochFile(ReferenceEpoch)
	case strings.HasPrefix(name, "epoch-"):
		e, err := strconv.Atoi(strings.TrimPrefix(name, "epoch-"))
		if err != nil {
			return target{}, fmt.Errorf("evaluate: checkpoint %q: want last, best, reference or epoch-NNN", s.Select)
		}
		name = train.EpochFile(e)
	default:
		return target{}, fmt.Errorf("evaluate: checkpoint %q: want last, best, reference or epoch-NNN", s.Select)
	}
	ckpt := filepath.Join(s.Target, train.CheckpointDir, name)
	if _, err := os.Stat(ckpt); err != nil {
		return target{}, fmt.Errorf("evaluate: %s has no checkpoint %s (is the run finished?)", s.Target, name)
	}
	return target{ckpt: ckpt, record: &rec, runDir: s.Target, outDir: filepath.Join(s.Target, "results")}, nil
}

// CheckpointPath is the checkpoint file target names: target itself, or in
// a run directory the one sel picks (last, best or epoch-NNN; "" is last).
func CheckpointPath(target, sel string) (string, error) {
	t, err := resolve(Spec{Target: target, Select: sel})
	return t.ckpt, err
}

// loaded is a model ready to measure, with its provenance and test set.
type loaded struct {
	model  *resnet.Model
	info   results.Model
	ckpt   results.Checkpoint
	test   *cifar.Dataset
	data   results.Data
	outDir string
}

// provenance describes the loaded model for a file of the given schema.
func (ld *loaded) provenance(schema string) results.Provenance {
	return results.Provenance{Schema: schema, Version: version.Version, Model: ld.info, Checkpoint: ld.ckpt, Data: ld.data}
}

// loadSpec loads what a spec names: an advbench run or checkpoint, or a
// foreign state dict when the spec gives a norm.
func loadSpec(s Spec) (*loaded, error) {
	if s.Norm != "" {
		return loadForeign(s)
	}
	return load(s.Target, s.Select, s.Data, s.TestN)
}

// loadForeign reads a PyTorch or plain safetensors state dict into a model
// of the spec's norm and width; its results go beside the file.
func loadForeign(s Spec) (*loaded, error) {
	sd, err := interop.Read(s.Target)
	if err != nil {
		return nil, err
	}
	m, err := interop.Load(sd, resnet.Config{Norm: s.Norm, Width: s.Width, InputNorm: s.InputNorm})
	if err != nil {
		return nil, err
	}
	sum, err := fileSHA256(s.Target)
	if err != nil {
		return nil, err
	}
	cfg := m.Config()
	ld := &loaded{model: m, outDir: filepath.Join(filepath.Dir(s.Target), "results"),
		info: results.Model{Norm: cfg.Norm, Width: cfg.Width, Branches: m.Branches(), Objective: "imported (" + sd.Format + ")"},
		ckpt: results.Checkpoint{Path: s.Target, SHA256: sum, Epoch: -1}}
	if s.Data == "" {
		return nil, ErrNoTestData
	}
	if ld.test, ld.data, err = testSet(s.Data, s.TestN); err != nil {
		return nil, err
	}
	return ld, nil
}

// load resolves a run directory or checkpoint (sel picks a run's
// checkpoint), loads the model and takes the first testN images of the
// test set (data "" means the run's data, or the built-in data).
func load(targetPath, sel, data string, testN int) (*loaded, error) {
	t, err := resolve(Spec{Target: targetPath, Select: sel})
	if err != nil {
		return nil, err
	}
	m, f, err := resnet.Load(t.ckpt)
	if err != nil {
		return nil, err
	}
	sum, err := fileSHA256(t.ckpt)
	if err != nil {
		return nil, err
	}
	cfg := m.Config()
	ld := &loaded{model: m, outDir: t.outDir,
		info: results.Model{Norm: cfg.Norm, Width: cfg.Width, Branches: m.Branches(), TrainSeed: cfg.Seed},
		ckpt: results.Checkpoint{Path: t.ckpt, SHA256: sum, Epoch: -1}}
	runsData := false
	if t.record != nil {
		rc := t.record.Config
		ld.info.Objective, ld.info.Preset, ld.info.TrainData = rc.Objective, rc.Preset, t.record.Data.SHA256
		ld.info.Epochs, ld.info.TrainSteps, ld.info.TrainEps, ld.info.TrainStep, ld.info.TrainAttackMode = rc.Epochs, rc.TrainSteps, rc.Eps, rc.Step, rc.AttackMode
		if data == "" {
			data, runsData = rc.Data, true
		}
	} else if data == "" {
		return nil, ErrNoTestData
	}
	if e, err := strconv.Atoi(f.Meta[train.MetaEpoch]); err == nil {
		ld.ckpt.Epoch = e
	}
	if ld.test, ld.data, err = testSet(data, testN); err != nil {
		return nil, err
	}
	if t.record != nil {
		seen, err := train.ReadSeen(t.runDir)
		if err != nil {
			return nil, err
		}
		if shared := ld.test.Shared(seen); len(shared) > 0 {
			return nil, &SeenImagesError{Run: t.runDir, Data: ld.data.Source, Shared: len(shared), Of: ld.test.Len(), First: shared[0],
				RunOnFile: runsData && source.Spec{Path: data}.IsFile()}
		}
	}
	return ld, nil
}

// Run evaluates the branches the spec names and returns one outcome per
// result file written or reused.
func Run(ctx context.Context, s Spec, o Options) ([]Outcome, error) {
	if s.Batch == 0 {
		s.Batch = 128
	}
	if s.Batch < 1 || s.TestN < 0 {
		return nil, fmt.Errorf("evaluate: batch %d and test-n %d must be positive", s.Batch, s.TestN)
	}
	if len(s.Attacks) == 0 {
		s.Attacks = []string{"pgd-10", "pgd-20"}
	}
	opts := attack.DefaultOptions()
	if s.Options != nil {
		opts = *s.Options
	}
	var attacks []attack.Attack
	for _, name := range s.Attacks {
		a, err := attack.New(name, opts)
		if err != nil {
			return nil, err
		}
		attacks = append(attacks, a)
	}
	ld, err := loadSpec(s)
	if err != nil {
		return nil, err
	}
	m, test := ld.model, ld.test
	branches, err := branchesOf(s.Branch, m.Branches())
	if err != nil {
		return nil, err
	}
	out := s.Out
	if out == "" {
		out = ld.outDir
	}
	single := strings.HasSuffix(out, ".json")
	if single && len(branches) > 1 {
		return nil, fmt.Errorf("evaluate: --out %s names one file, but %d branches are evaluated: give a directory or one --branch", out, len(branches))
	}
	dir := out
	if single {
		dir = filepath.Dir(out)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	var outcomes []Outcome
	for _, b := range branches {
		path := out
		if !single {
			path = filepath.Join(dir, b.name+".json")
		}
		base := results.File{Provenance: ld.provenance(results.Schema), Branch: b.name, Mode: nn.Eval.String(), Seed: s.Seed}
		oc, err := evaluateBranch(ctx, m, attacks, b.branch, test, s.Batch, base, path, o)
		if err != nil {
			return outcomes, err
		}
		outcomes = append(outcomes, oc)
	}
	return outcomes, nil
}

type branchSpec struct {
	name   string
	branch nn.Branch
}

func branchesOf(s string, modelBranches int) ([]branchSpec, error) {
	if modelBranches == 1 {
		switch s {
		case "", "both", "clean", "adv", results.BranchShared:
			return []branchSpec{{results.BranchShared, nn.Clean}}, nil
		}
	}
	switch s {
	case "", "both":
		return []branchSpec{{results.BranchClean, nn.Clean}, {results.BranchAdv, nn.Adv}}, nil
	case "clean":
		return []branchSpec{{results.BranchClean, nn.Clean}}, nil
	case "adv":
		return []branchSpec{{results.BranchAdv, nn.Adv}}, nil
	}
	return nil, fmt.Errorf("evaluate: branch %q: want clean, adv or both", s)
}

// testSet loads the first n test records of a dataset and identifies them.
func testSet(path string, n int) (*cifar.Dataset, results.Data, error) {
	spec := source.Spec{Path: path}
	full, err := source.Load(spec, cifar.Test)
	if err != nil {
		return nil, results.Data{}, err
	}
	d, err := loader.Take(full, n)
	if err != nil {
		return nil, results.Data{}, fmt.Errorf("evaluate: %s: test-n %d, the test set has %d images", spec.Describe(), n, full.Len())
	}
	h := sha256.Sum256(cifar.Encode(d))
	return d, results.Data{Source: spec.Describe(), SHA256: hex.EncodeToString(h[:]), Split: string(cifar.Test)}, nil
}

func fileSHA256(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("evaluate: %w", err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:]), nil
}

// partial is the saved state of an evaluation in progress.
type partial struct {
	Identity identity           `json:"identity"`
	State    *attack.Evaluation `json:"state"`
	Seconds  float64            `json:"seconds"`
}

// identity is what makes two evaluations the same one.
type identity struct {
	Checkpoint string                 `json:"checkpoint_sha256"`
	Data       string                 `json:"data_sha256"`
	Branch     string                 `json:"branch"`
	Seed       uint64                 `json:"seed"`
	Batch      int                    `json:"batch"`
	Attacks    []results.AttackParams `json:"attacks"`
}

func identityOf(f results.File, attacks []attack.Attack, batch int) identity {
	id := identity{Checkpoint: f.Checkpoint.SHA256, Data: f.Data.SHA256, Branch: f.Branch, Seed: f.Seed, Batch: batch}
	for _, a := range attacks {
		id.Attacks = append(id.Attacks, a.Params())
	}
	return id
}

func partialPath(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".partial")
}

// sameAs reports whether a finished result is the evaluation id describes.
func sameAs(f *results.File, id identity) bool {
	if f.Checkpoint.SHA256 != id.Checkpoint || f.Data.SHA256 != id.Data || f.Branch != id.Branch || f.Seed != id.Seed || len(f.Attacks) != len(id.Attacks) {
		return false
	}
	for i, a := range f.Attacks {
		if a.AttackParams != id.Attacks[i] {
			return false
		}
	}
	return true
}

func evaluateBranch(ctx context.Context, m *resnet.Model, attacks []attack.Attack, b nn.Branch, test *cifar.Dataset, batch int, base results.File, path string, o Options) (Outcome, error) {
	id := identityOf(base, attacks, batch)
	if old, err := results.Read(path); err == nil {
		if sameAs(old, id) {
			return Outcome{Path: path, File: old, Reused: true}, nil
		}
		return Outcome{}, fmt.Errorf("evaluate: %s holds another evaluation (checkpoint, data, seed or attacks differ): remove it or choose another --out", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return Outcome{}, err
	}
	pp := partialPath(path)
	var st partial
	if raw, err := os.ReadFile(pp); err == nil {
		if err := json.Unmarshal(raw, &st); err != nil || st.State == nil {
			return Outcome{}, fmt.Errorf("evaluate: %s: unreadable saved state (remove it to start over): %v", pp, err)
		}
		if !equalIdentity(st.Identity, id) {
			return Outcome{}, fmt.Errorf("evaluate: %s is the saved state of another evaluation: remove it to start over", pp)
		}
		if err := st.State.Check(attacks); err != nil {
			return Outcome{}, fmt.Errorf("evaluate: %s: %w (remove it to start over)", pp, err)
		}
	} else {
		ev, err := attack.NewEvaluation(attacks, attack.EvalConfig{Setting: attack.Setting{Branch: b, Mode: nn.Eval}, Seed: base.Seed, Model: base.Checkpoint.Path, Data: base.Data.Source})
		if err != nil {
			return Outcome{}, err
		}
		st = partial{Identity: id, State: ev}
	}
	ld, err := loader.New(test, loader.Config{BatchSize: batch})
	if err != nil {
		return Outcome{}, err
	}
	var bar *progress.Reporter
	left := test.Len() - st.State.Examples()
	if o.Progress != nil && left > 0 {
		bar = progress.New(o.Progress, fmt.Sprintf("eval %s %s", base.Model.Norm, base.Branch), float64(left), "img")
	}
	done := 0
	err = ld.Epoch(0, st.State.Batches, func(k int, bt *loader.Batch) error {
		if ctx.Err() != nil {
			return ErrInterrupted
		}
		start := time.Now()
		if err := st.State.Add(m, attacks, bt.X, bt.Y); err != nil {
			return err
		}
		st.Seconds += time.Since(start).Seconds()
		raw, err := json.Marshal(st)
		if err != nil {
			return err
		}
		if err := atomicfile.WriteFile(pp, raw); err != nil {
			return fmt.Errorf("evaluate: %w", err)
		}
		done += bt.Len()
		if bar != nil {
			bar.Update(float64(done))
		}
		if o.AfterBatch != nil {
			o.AfterBatch(base.Branch, k)
		}
		return nil
	})
	if err != nil {
		return Outcome{}, err
	}
	if bar != nil {
		bar.Done(float64(done))
	}
	r, err := st.State.Result()
	if err != nil {
		return Outcome{}, err
	}
	f := base
	f.Measurement, f.WallSeconds = r.Measurement, st.Seconds
	if err := results.Write(path, &f); err != nil {
		return Outcome{}, err
	}
	os.Remove(pp)
	return Outcome{Path: path, File: &f}, nil
}

func equalIdentity(a, b identity) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
