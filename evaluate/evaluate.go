// Package evaluate measures a trained model's standard and robust accuracy
// on a test set and writes the result files of package results: in
// evaluation mode, white-box on the evaluated branch (the attack uses the
// branch being scored), through attack.Evaluation. An evaluation saves its
// state after every batch, so a killed one resumes where it stopped and
// writes the identical result. Each job here has one shape: Run, Sweep and
// GradStats take what to measure (Spec, SweepSpec, GradSpec) and how
// (Options), and return an Outcome per file, which the job writes itself
// (one per branch, or one per model) after applying one rule to it before
// any attack runs (results.Identity, through existing): a file of the same
// evaluation is reused rather than recomputed, one of another is refused
// unless Options.Force. Landscape (a checkpoint's loss-landscape probe)
// has no identity yet: its file is refused when it exists, unless
// Options.Force. A job stopped by its context returns an error wrapping
// rundir.ErrInterrupted.
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
	"github.com/advbench/advbench/rundir"
	"github.com/advbench/advbench/train"
)

// Spec says what to evaluate and how. Zero values are the documented
// defaults.
type Spec struct {
	// Target is a run directory or an advbench checkpoint file.
	Target string
	// Select picks a run directory's checkpoint: "last" (default), "best",
	// "reference" (epoch-190) or "epoch-NNN" (rundir.CheckpointName).
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
	// Unpruned attacks every example with every attack and restart
	// (attack.EvalConfig.Unpruned): the same flags, only slower; for
	// timing and checking the pruned protocol. A finished result of the
	// same evaluation is reused either way.
	Unpruned bool
	// AttackPrecision is the precision of the attacks' steps (their
	// forward passes and input gradients; nn.Precision): recorded in every
	// attack's parameters, so a bf16 result is never mistaken for, reused
	// as or averaged with a float32 one. Clean and final classifications
	// stay float32.
	AttackPrecision nn.Precision
}

// Options say how an evaluation is carried out.
type Options struct {
	// Progress receives a progress bar (stderr); nil shows nothing.
	Progress io.Writer
	// AfterBatch, when set, is called after every saved batch (tests
	// interrupt evaluations with it).
	AfterBatch func(branch string, batch int)
	// Force recomputes and replaces result files that exist, whether they
	// hold this evaluation or another, and starts over from a saved state
	// of another evaluation (a saved state of this one is continued).
	// Without it a file of another evaluation is refused.
	Force bool
}

// Outcome is one file a job wrote or reused: where it is, what it holds
// (F is *results.File for Run, *results.Sweep for Sweep,
// *results.GradStats for GradStats) and whether it was found finished
// rather than computed now.
type Outcome[F any] struct {
	Path   string
	File   F
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
		t := target{ckpt: s.Target, outDir: rundir.ResultsBeside(s.Target)}
		// A checkpoint inside a run's checkpoints/ belongs to that run.
		if run, ok := rundir.Containing(s.Target); ok {
			rec, err := train.ReadRecord(string(run))
			if err == nil {
				t.record, t.runDir, t.outDir = &rec, string(run), run.Results()
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
	run := rundir.Dir(s.Target)
	ckpt, err := run.Select(s.Select)
	if err != nil {
		return target{}, err
	}
	if _, err := os.Stat(ckpt); err != nil {
		return target{}, fmt.Errorf("evaluate: %s has no checkpoint %s (is the run finished?)", s.Target, filepath.Base(ckpt))
	}
	return target{ckpt: ckpt, record: &rec, runDir: s.Target, outDir: run.Results()}, nil
}

// CheckpointPath is the checkpoint file target names: target itself, or in
// a run directory the one sel picks (rundir.CheckpointName; "" is last).
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
	ld := &loaded{model: m, outDir: rundir.ResultsBeside(s.Target),
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
// result file written or reused. Everything that would make it fail is
// found before the first attack: a finished result of the same evaluation
// (results.Identity) is reused, a saved state of it continued, and a file
// of another evaluation refused (*results.OtherEvaluationError) unless
// o.Force.
func Run(ctx context.Context, s Spec, o Options) ([]Outcome[*results.File], error) {
	j, err := prepare(s, o)
	if err != nil {
		return nil, err
	}
	return j.run(ctx, o)
}

// Check does what Run does before its first attack (loads the model and
// the test data, applies the identity rule to every result file and saved
// state Run would use) and returns the error Run would, without computing
// or writing anything.
func Check(s Spec, o Options) error {
	_, err := prepare(s, o)
	return err
}

// evalJob is an evaluation checked and ready to run.
type evalJob struct {
	ld       *loaded
	attacks  []attack.Attack
	batch    int
	unpruned bool
	dir      string
	branches []branchJob
}

// branchJob is one branch's part: its result file, the evaluation it must
// hold, and what was found there.
type branchJob struct {
	branch nn.Branch
	path   string
	base   results.File
	want   results.Identity
	reused *results.File // a finished result of this evaluation
	state  *partial      // a saved state of this evaluation, to continue
}

func prepare(s Spec, o Options) (*evalJob, error) {
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
	opts.Precision = s.AttackPrecision
	j := &evalJob{batch: s.Batch, unpruned: s.Unpruned}
	for _, name := range s.Attacks {
		a, err := attack.New(name, opts)
		if err != nil {
			return nil, err
		}
		j.attacks = append(j.attacks, a)
	}
	ld, err := loadSpec(s)
	if err != nil {
		return nil, err
	}
	j.ld = ld
	ld.model.SetAttackPrecision(s.AttackPrecision)
	branches, err := branchesOf(s.Branch, ld.model.Branches())
	if err != nil {
		return nil, err
	}
	out := s.Out
	if out == "" {
		out = ld.outDir
	}
	single := strings.HasSuffix(out, ".json")
	if single && len(branches) > 1 {
		return nil, &OutFileError{Out: out, Branches: len(branches)}
	}
	j.dir = out
	if single {
		j.dir = filepath.Dir(out)
	}
	for _, b := range branches {
		bj := branchJob{branch: b.branch, path: out}
		if !single {
			bj.path = filepath.Join(j.dir, rundir.ResultFile(b.name))
		}
		bj.base = results.File{Provenance: ld.provenance(results.Schema), Branch: b.name, Mode: nn.Eval.String(), Seed: s.Seed, Batch: s.Batch}
		bj.want = identityOf(bj.base, j.attacks, ld.test.Len())
		if bj.reused, _, err = existing(bj.path, results.Read, bj.want, o.Force); err != nil {
			return nil, err
		}
		if bj.reused == nil {
			if bj.state, err = savedState(partialPath(bj.path), bj.want, j.attacks, o.Force); err != nil {
				return nil, err
			}
		}
		j.branches = append(j.branches, bj)
	}
	return j, nil
}

func (j *evalJob) run(ctx context.Context, o Options) ([]Outcome[*results.File], error) {
	if err := os.MkdirAll(j.dir, 0o755); err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	var outcomes []Outcome[*results.File]
	for _, b := range j.branches {
		if b.reused != nil {
			outcomes = append(outcomes, Outcome[*results.File]{Path: b.path, File: b.reused, Reused: true})
			continue
		}
		f, err := evaluateBranch(ctx, j.ld.model, j.attacks, b, j.ld.test, j.batch, j.unpruned, o)
		if err != nil {
			return outcomes, err
		}
		outcomes = append(outcomes, Outcome[*results.File]{Path: b.path, File: f})
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
	Identity results.Identity   `json:"identity"`
	State    *attack.Evaluation `json:"state"`
	Seconds  float64            `json:"seconds"`
}

// identityOf is the identity of the result an evaluation of base's
// branch with the attacks on n test images writes.
func identityOf(base results.File, attacks []attack.Attack, n int) results.Identity {
	f := base
	f.Examples, f.Attacks = n, nil
	for _, a := range attacks {
		f.Attacks = append(f.Attacks, results.AttackResult{AttackParams: a.Params()})
	}
	return f.Identity()
}

func partialPath(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".partial")
}

// savedState reads the saved state at pp of the evaluation want describes:
// nil when there is none; one of another evaluation, or unreadable, is an
// error unless force, which starts over.
func savedState(pp string, want results.Identity, attacks []attack.Attack, force bool) (*partial, error) {
	raw, err := os.ReadFile(pp)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	var st partial
	if err := json.Unmarshal(raw, &st); err != nil || st.State == nil {
		if force {
			return nil, nil
		}
		return nil, fmt.Errorf("evaluate: %s: unreadable saved state (remove it to start over): %v", pp, err)
	}
	if err := results.Same(pp, st.Identity, want); err != nil {
		if force {
			return nil, nil
		}
		return nil, err
	}
	if err := st.State.Check(attacks); err != nil {
		return nil, fmt.Errorf("evaluate: %s: %w (remove it to start over)", pp, err)
	}
	return &st, nil
}

func evaluateBranch(ctx context.Context, m *resnet.Model, attacks []attack.Attack, bj branchJob, test *cifar.Dataset, batch int, unpruned bool, o Options) (*results.File, error) {
	base, path, pp := bj.base, bj.path, partialPath(bj.path)
	var st partial
	if bj.state != nil {
		st = *bj.state
	} else {
		ev, err := attack.NewEvaluation(attacks, attack.EvalConfig{Setting: attack.Setting{Branch: bj.branch, Mode: nn.Eval}, Seed: base.Seed, Model: base.Checkpoint.Path, Data: base.Data.Source, Unpruned: unpruned})
		if err != nil {
			return nil, err
		}
		st = partial{Identity: bj.want, State: ev}
	}
	ld, err := loader.New(test, loader.Config{BatchSize: batch})
	if err != nil {
		return nil, err
	}
	var bar *progress.Reporter
	left := test.Len() - st.State.Examples()
	if o.Progress != nil && left > 0 {
		bar = progress.New(o.Progress, fmt.Sprintf("eval %s %s", base.Model.Norm, base.Branch), float64(left), "img")
	}
	done := 0
	err = ld.Epoch(0, st.State.Batches, func(k int, bt *loader.Batch) error {
		if ctx.Err() != nil {
			return fmt.Errorf("evaluate: %s: %w; the batches done are saved: run the same evaluation again to continue", path, rundir.ErrInterrupted)
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
		return nil, err
	}
	if bar != nil {
		bar.Done(float64(done))
	}
	r, err := st.State.Result()
	if err != nil {
		return nil, err
	}
	f := base
	f.Measurement, f.WallSeconds = r.Measurement, st.Seconds
	if err := results.Write(path, &f); err != nil {
		return nil, err
	}
	os.Remove(pp)
	return &f, nil
}
