package evaluate

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/advbench/advbench/attack"
	"github.com/advbench/advbench/data/loader"
	"github.com/advbench/advbench/internal/progress"
	"github.com/advbench/advbench/internal/stats"
	"github.com/advbench/advbench/models/resnet"
	"github.com/advbench/advbench/nn"
	"github.com/advbench/advbench/results"
	"github.com/advbench/advbench/rundir"
)

// GradSpec says which model's gradients to analyse and on what.
type GradSpec struct {
	Target string // run directory or checkpoint
	Select string // a run's checkpoint: last (default), best, epoch-NNN
	Data   string // "" the run's data (ErrNoTestData for a bare checkpoint)
	// N is the number of test images, in batches of Batch (defaults 512
	// and 128).
	N, Batch int
	// AttackMode is the mode of the attack's statistics: "train" (default,
	// as the training attack) or "eval". The gradient passes run in
	// training mode, as training computes them.
	AttackMode string
	// Steps is the PGD length (default 10); Options the attack's options
	// (nil: eps 8/255, step 2/255).
	Steps   int
	Options *attack.Options
	Seed    uint64
	// Out is the statistics' file (default
	// rundir.GradStatsFile in the target's result directory:
	// RUN_DIR/results, or a results folder beside a checkpoint file).
	Out string
}

// StageParams are the last convolution of each stage, whose gradients the
// analysis compares.
var StageParams = []string{"layer1.1.conv2.weight", "layer2.1.conv2.weight", "layer3.1.conv2.weight", "layer4.1.conv2.weight"}

// gradStream seeds the analysis attack's random starts per batch.
const gradStream = 0x6772 << 32 // "gr"

// gradJob is a gradient analysis checked and ready to compute.
type gradJob struct {
	s    GradSpec
	mode nn.Mode
	pgd  *attack.PGD
	ld   *loaded
}

// newGradJob applies the spec's defaults, refuses what cannot run and
// loads the model and the test images.
func newGradJob(s GradSpec) (*gradJob, error) {
	if s.N == 0 {
		s.N = 512
	}
	if s.Batch == 0 {
		s.Batch = 128
	}
	if s.Steps == 0 {
		s.Steps = 10
	}
	mode, pgd, err := trainingAttack(s.AttackMode, s.Steps, s.Options)
	if err != nil {
		return nil, err
	}
	if s.N < 1 || s.Batch < 1 || s.Steps < 1 {
		return nil, fmt.Errorf("evaluate: gradient statistics need positive images (%d), batch (%d) and steps (%d)", s.N, s.Batch, s.Steps)
	}
	ld, err := load(s.Target, s.Select, s.Data, s.N)
	if err != nil {
		return nil, err
	}
	return &gradJob{s: s, mode: mode, pgd: pgd, ld: ld}, nil
}

// trainingAttack is the PGD that gradient statistics and landscape probes
// make x_adv with, as training does: steps steps with opts (nil: eps 8/255,
// step 2/255), its statistics in the mode named ("" or "train": training
// mode, the training attack's; "eval").
func trainingAttack(mode string, steps int, opts *attack.Options) (nn.Mode, *attack.PGD, error) {
	m := nn.Train
	switch mode {
	case "", "train":
	case "eval":
		m = nn.Eval
	default:
		return 0, nil, fmt.Errorf("evaluate: attack mode %q: want train or eval", mode)
	}
	o := attack.DefaultOptions()
	if opts != nil {
		o = *opts
	}
	return m, attack.NewPGD(steps, o), nil
}

// base is the file the analysis writes, before its statistics.
func (j *gradJob) base() *results.GradStats {
	return &results.GradStats{Provenance: j.ld.provenance(results.GradSchema),
		AttackMode: j.mode.String(), Attack: j.pgd.Params(), Seed: j.s.Seed, Examples: j.ld.test.Len(), Batch: j.s.Batch}
}

// path is where the statistics go: the spec's Out, or
// rundir.GradStatsFile in the target's result directory.
func (j *gradJob) path() string {
	if j.s.Out != "" {
		return j.s.Out
	}
	return filepath.Join(j.ld.outDir, rundir.GradStatsFile)
}

// prepareGrad loads the model and applies the identity rule to the file
// the statistics would be written to.
func prepareGrad(s GradSpec, o Options) (*gradJob, *results.GradStats, error) {
	j, err := newGradJob(s)
	if err != nil {
		return nil, nil, err
	}
	old, _, err := existing(j.path(), results.ReadGradStats, j.base().Identity(), o.Force)
	return j, old, err
}

// CheckGradStats does what GradStats does before its first attack and
// returns the file it would write and the error it would, without
// computing or writing anything.
func CheckGradStats(s GradSpec, o Options) (path string, err error) {
	j, _, err := prepareGrad(s, o)
	if j != nil {
		path = j.path()
	}
	return path, err
}

// GradStats computes a model's gradient statistics into their file
// (GradSpec.Out, default rundir.GradStatsFile in the target's result
// directory). A file of the same analysis (results.Identity: checkpoint,
// test images, attack and its mode, seed, batch) is reused; one of another
// is refused with a *results.OtherEvaluationError unless o.Force, checked
// before any attack runs.
func GradStats(ctx context.Context, s GradSpec, o Options) (Outcome[*results.GradStats], error) {
	var none Outcome[*results.GradStats]
	j, old, err := prepareGrad(s, o)
	if err != nil {
		return none, err
	}
	path := j.path()
	if old != nil {
		return Outcome[*results.GradStats]{Path: path, File: old, Reused: true}, nil
	}
	g, err := j.compute(ctx, o.Progress)
	if err != nil {
		return none, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return none, fmt.Errorf("evaluate: %w", err)
	}
	if err := results.WriteJSON(path, g); err != nil {
		return none, err
	}
	return Outcome[*results.GradStats]{Path: path, File: g}, nil
}

func (j *gradJob) compute(ctx context.Context, progressOut io.Writer) (*results.GradStats, error) {
	s, ld, pgd, mode := j.s, j.ld, j.pgd, j.mode
	out := j.base()
	perStage := make([][]results.BatchStats, len(StageParams))
	l, err := loader.New(ld.test, loader.Config{BatchSize: s.Batch})
	if err != nil {
		return nil, err
	}
	var bar *progress.Reporter
	if progressOut != nil {
		bar = progress.New(progressOut, "gradstats "+ld.info.Norm, float64(ld.test.Len()), "img")
	}
	// Training-mode passes move running statistics; every batch starts
	// from the checkpoint's, so batches do not depend on each other.
	_, buffers := ld.model.State()
	saved := make([][]float64, len(buffers))
	for i, v := range buffers {
		saved[i] = v.Float64s()
	}
	done := 0
	err = l.Epoch(0, 0, func(k int, b *loader.Batch) error {
		if ctx.Err() != nil {
			return fmt.Errorf("evaluate: gradient statistics of %s: %w; run the same analysis again", ld.ckpt.Path, rundir.ErrInterrupted)
		}
		for i, v := range buffers {
			v.SetFloat64s(saved[i])
		}
		rng := rand.New(rand.NewPCG(s.Seed, gradStream|uint64(k)))
		bs, err := batchGradStats(ld.model, pgd, mode, b.X, b.Y, rng)
		if err != nil {
			return err
		}
		for i := range bs {
			perStage[i] = append(perStage[i], bs[i])
		}
		out.Batches++
		done += b.Len()
		if bar != nil {
			bar.Update(float64(done))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if bar != nil {
		bar.Done(float64(done))
	}
	for i, name := range StageParams {
		st := results.StageStats{Stage: i + 1, Param: name, PerBatch: perStage[i]}
		st.NormStd = meanStd(perStage[i], func(b results.BatchStats) float64 { return b.NormStd })
		st.Cosine = meanStd(perStage[i], func(b results.BatchStats) float64 { return b.Cosine })
		st.CleanNorm = meanStd(perStage[i], func(b results.BatchStats) float64 { return b.CleanNorm })
		st.AdvNorm = meanStd(perStage[i], func(b results.BatchStats) float64 { return b.AdvNorm })
		out.Stages = append(out.Stages, st)
	}
	return out, nil
}

func meanStd(bs []results.BatchStats, f func(results.BatchStats) float64) results.MeanStd {
	xs := make([]float64, len(bs))
	for i, b := range bs {
		xs[i] = f(b)
	}
	m, s := stats.MeanStd(xs)
	return results.MeanStd{Mean: m, Std: s}
}

// batchGradStats computes one batch's statistics for every stage: the
// clean loss's gradient (clean branch, x) and the adversarial loss's (adv
// branch, x_adv from PGD on the adv branch), both in the given mode.
func batchGradStats(m *resnet.Model, pgd *attack.PGD, mode nn.Mode, x []float32, y []int, rng *rand.Rand) ([]results.BatchStats, error) {
	xAdv, err := pgd.Run(m, x, y, attack.Setting{Branch: nn.Adv, Mode: mode}, rng)
	if err != nil {
		return nil, err
	}
	clean, err := stageGrads(m, x, y, nn.Clean)
	if err != nil {
		return nil, err
	}
	adv, err := stageGrads(m, xAdv, y, nn.Adv)
	if err != nil {
		return nil, err
	}
	out := make([]results.BatchStats, len(StageParams))
	for i := range StageParams {
		out[i] = compare(clean[i], adv[i])
	}
	return out, nil
}

// stageGrads returns float64 copies of the stage parameters' gradients of
// the batch-mean cross-entropy on a branch, in training mode.
func stageGrads(m *resnet.Model, x []float32, y []int, b nn.Branch) ([][]float64, error) {
	r, err := m.Train(x, y, b)
	if err != nil {
		return nil, err
	}
	byName := map[string][]float64{}
	for _, g := range r.Grads {
		byName[g.Param.Name] = g.Float64s()
	}
	out := make([][]float64, len(StageParams))
	for i, name := range StageParams {
		g, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("evaluate: the model has no parameter %s", name)
		}
		out[i] = g
	}
	return out, nil
}

// compare returns the norms of two gradients, the standard deviation of
// the two norms (population: |a−b|/2) and their cosine similarity (0 when
// either is zero).
func compare(a, b []float64) results.BatchStats {
	var aa, bb, ab float64
	for i := range a {
		aa += a[i] * a[i]
		bb += b[i] * b[i]
		ab += a[i] * b[i]
	}
	na, nb := math.Sqrt(aa), math.Sqrt(bb)
	s := results.BatchStats{CleanNorm: na, AdvNorm: nb, NormStd: math.Abs(na-nb) / 2}
	if na > 0 && nb > 0 {
		s.Cosine = ab / (na * nb)
	}
	return s
}
