package evaluate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/advbench/advbench/attack"
	"github.com/advbench/advbench/checkpoint"
	"github.com/advbench/advbench/data/loader"
	"github.com/advbench/advbench/internal/atomicfile"
	"github.com/advbench/advbench/internal/progress"
	"github.com/advbench/advbench/landscape"
	"github.com/advbench/advbench/models/resnet"
	"github.com/advbench/advbench/nn"
	"github.com/advbench/advbench/rundir"
	"github.com/advbench/advbench/train"
)

// LandscapeSpec says which checkpoint's loss landscape to probe, and on
// what. Zero values are the documented defaults.
type LandscapeSpec struct {
	Target string // run directory or checkpoint
	Select string // a run's checkpoint: last (default), best, epoch-NNN
	Data   string // "" the run's data (ErrNoTestData for a bare checkpoint)
	// Batches batches of Batch test images (defaults 4 and 128): the first
	// Batches×Batch test images in order, one probe each.
	Batches, Batch int
	// Steps, Options, AttackMode and Seed make x_adv: PGD (default 10
	// steps, eps 8/255, step 2/255) on the adversarial branch in training
	// mode ("train", the default, as the training attack) or "eval", its
	// random starts seeded by Seed and the batch's number.
	Steps      int
	Options    *attack.Options
	AttackMode string
	Seed       uint64
	// LR is the learning rate the grid of step sizes multiplies and the
	// gradient shift's update takes; 0: the run's learning rate at the
	// checkpoint's position, or 0.1 for a checkpoint outside a run.
	LR float64
	// Out is the file (default rundir.CheckpointLandscapeFile in the
	// target's result directory).
	Out string
}

// landscapeStream seeds the probe attack's random starts per batch.
const landscapeStream = 0x6c73 << 32 // "ls"

// DefaultLandscapeLR is LandscapeSpec.LR for a checkpoint outside a run:
// the reference learning rate.
const DefaultLandscapeLR = 0.1

// Landscape probes a checkpoint's loss landscape (package landscape) on a
// fixed set of test batches and writes one landscape.Line per batch to its
// file. The passes are the run's objective's (for a checkpoint outside a
// run, both: the clean loss on the clean branch and the adversarial loss
// on the adversarial branch); each batch starts from the checkpoint's
// running statistics. A checkpoint has no step in progress, so the
// gradient shift's update is a plain gradient step, w − lr·g, g the
// objective's gradient (the mean of the passes' for AdvProp; no momentum or
// weight decay). An existing file is refused with an *ExistsError unless
// o.Force.
func Landscape(ctx context.Context, s LandscapeSpec, o Options) (Outcome[[]landscape.Line], error) {
	var none Outcome[[]landscape.Line]
	if s.Batches == 0 {
		s.Batches = 4
	}
	if s.Batch == 0 {
		s.Batch = 128
	}
	if s.Steps == 0 {
		s.Steps = 10
	}
	if s.Batches < 1 || s.Batch < 1 || s.Steps < 1 || !(s.LR >= 0) {
		return none, fmt.Errorf("evaluate: a landscape probe needs positive batches (%d), batch size (%d), steps (%d) and a non-negative learning rate (%v)", s.Batches, s.Batch, s.Steps, s.LR)
	}
	mode, pgd, err := trainingAttack(s.AttackMode, s.Steps, s.Options)
	if err != nil {
		return none, err
	}
	t, err := resolve(Spec{Target: s.Target, Select: s.Select})
	if err != nil {
		return none, err
	}
	ld, err := load(s.Target, s.Select, s.Data, s.Batches*s.Batch)
	if err != nil {
		return none, err
	}
	path := s.Out
	if path == "" {
		path = filepath.Join(ld.outDir, rundir.CheckpointLandscapeFile(ld.ckpt.Path))
	}
	if _, err := os.Lstat(path); err == nil && !o.Force {
		return none, &ExistsError{Path: path}
	}
	if ld.test.Len() < s.Batches*s.Batch {
		return none, fmt.Errorf("evaluate: %d batches of %d need %d test images, %s has %d", s.Batches, s.Batch, s.Batches*s.Batch, ld.data.Source, ld.test.Len())
	}
	m := ld.model
	clean, adv, lr := true, true, s.LR
	var pos train.State
	var nb int
	if t.record != nil {
		clean, adv = train.ObjectivePasses(t.record.Config.Objective)
		if pos, err = readState(t.ckpt); err != nil {
			return none, err
		}
		nb = t.record.StepsPerEpoch()
		if lr == 0 {
			lr = t.record.Config.LearningRate(pos.Epoch, pos.Step)
		}
	}
	if lr == 0 {
		lr = DefaultLandscapeLR
	}
	m0, err := resnet.New(m.Config())
	if err != nil {
		return none, err
	}
	w0 := landscape.Values(m0.Params())
	model := landscape.ResNet(m)
	_, buffers := m.State()
	kept := landscape.Save(buffers)
	defer kept.Restore(buffers)
	var bar *progress.Reporter
	if o.Progress != nil {
		bar = progress.New(o.Progress, "landscape "+ld.info.Norm, float64(s.Batches), "batch")
	}
	l, err := loader.New(ld.test, loader.Config{BatchSize: s.Batch})
	if err != nil {
		return none, err
	}
	var lines []landscape.Line
	err = l.Epoch(0, 0, func(k int, b *loader.Batch) error {
		if k >= s.Batches {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("evaluate: landscape of %s: %w; run it again", ld.ckpt.Path, rundir.ErrInterrupted)
		}
		kept.Restore(buffers)
		var passes []landscape.Pass
		if clean {
			passes = append(passes, landscape.Pass{Input: "clean", X: b.X, Branch: nn.Clean})
		}
		if adv {
			rng := rand.New(rand.NewPCG(s.Seed, landscapeStream|uint64(k)))
			xAdv, err := pgd.Run(m, b.X, b.Y, attack.Setting{Branch: nn.Adv, Mode: mode}, rng)
			if err != nil {
				return err
			}
			passes = append(passes, landscape.Pass{Input: "adversarial", X: xAdv, Branch: nn.Adv})
		}
		// Each pass's loss and gradient at w, then the update w − lr·g of
		// the objective's gradient g (the mean of the passes').
		w := landscape.Values(m.Params())
		next := landscape.Values(m.Params())
		for i := range passes {
			kept.Restore(buffers)
			loss, g, err := model.Gradient(passes[i].X, b.Y, passes[i].Branch, nn.Train)
			if err != nil {
				return err
			}
			passes[i].Loss, passes[i].Grad = loss, g
			for j := range next {
				for e, v := range g[j] {
					next[j][e] -= lr * v / float64(len(passes))
				}
			}
		}
		kept.Restore(buffers)
		line, err := landscape.Measure(model, b.Y, passes, w, next, w0, lr, landscape.Setup{})
		if err != nil {
			return err
		}
		line.Epoch, line.Step, line.GlobalStep, line.Batch = pos.Epoch, pos.Step, pos.Epoch*nb+pos.Step, k+1
		lines = append(lines, *line)
		if bar != nil {
			bar.Update(float64(k + 1))
		}
		return nil
	})
	if err != nil {
		return none, err
	}
	if bar != nil {
		bar.Done(float64(s.Batches))
	}
	var buf bytes.Buffer
	for _, line := range lines {
		b, err := json.Marshal(line)
		if err != nil {
			return none, fmt.Errorf("evaluate: %w", err)
		}
		buf.Write(append(b, '\n'))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return none, fmt.Errorf("evaluate: %w", err)
	}
	if err := atomicfile.WriteFile(path, buf.Bytes()); err != nil {
		return none, fmt.Errorf("evaluate: %w", err)
	}
	return Outcome[[]landscape.Line]{Path: path, File: lines}, nil
}

// readState reads a training checkpoint's position (the zero State for a
// checkpoint without one).
func readState(ckpt string) (train.State, error) {
	var st train.State
	f, err := checkpoint.Read(ckpt)
	if err != nil {
		return st, err
	}
	if s, ok := f.Meta[train.MetaTrainState]; ok {
		if err := json.Unmarshal([]byte(s), &st); err != nil {
			return st, fmt.Errorf("evaluate: %s: %s: %v", ckpt, train.MetaTrainState, err)
		}
	}
	return st, nil
}
