package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/advbench/advbench/data/loader"
	"github.com/advbench/advbench/internal/progress"
	"github.com/advbench/advbench/internal/runlock"
	"github.com/advbench/advbench/internal/version"
	"github.com/advbench/advbench/landscape"
	"github.com/advbench/advbench/models/resnet"
	"github.com/advbench/advbench/nn"
	"github.com/advbench/advbench/rundir"
)

// NonFiniteError reports a NaN or infinite training loss, or a tensor
// (parameter, running statistic or momentum) that is not finite when a
// checkpoint is due. A non-finite loss's step was not applied; a non-finite
// tensor is never written. The last checkpoint written before is kept, and
// every checkpoint holds finite tensors only.
type NonFiniteError struct {
	Epoch, Step int
	Loss        float64
	// Tensor names the first non-finite tensor ("" for a non-finite loss);
	// Index and Value are its first non-finite element.
	Tensor string
	// Measured names a non-finite quantity of the epoch's evaluation
	// ("test loss of the clean branch"), Value holding it; the weights were
	// finite, and the epoch was neither logged nor checkpointed.
	Measured   string
	Index      int
	Value      float64
	Checkpoint string // the last good checkpoint ("" when none was written)
}

func (e *NonFiniteError) Error() string {
	keep := "no checkpoint was written yet"
	if e.Checkpoint != "" {
		keep = "the last good checkpoint is " + e.Checkpoint
	}
	if e.Measured != "" {
		return fmt.Sprintf("train: epoch %d: the %s is %v in evaluation mode with finite weights (broken running statistics?); stopped before logging the epoch (%s)", e.Epoch, e.Measured, e.Value, keep)
	}
	if e.Tensor != "" {
		return fmt.Sprintf("train: epoch %d after step %d: %s[%d] is %v; stopped without writing a checkpoint (%s)", e.Epoch, e.Step, e.Tensor, e.Index, e.Value, keep)
	}
	return fmt.Sprintf("train: epoch %d step %d: loss is %v; stopped without applying the step (%s)", e.Epoch, e.Step, e.Loss, keep)
}

// firstNonFinite returns the first tensor of vars holding a NaN or an
// infinity, with the element's index and value; nil when all are finite.
func firstNonFinite(vars []*nn.Var) (v *nn.Var, index int, value float64) {
	for _, v := range vars {
		for i, x := range v.Float64s() {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return v, i, x
			}
		}
	}
	return nil, 0, 0
}

// LogEntry is one line of log.jsonl: one epoch. Accuracies are fractions.
// images_per_second and the *_seconds fields are timings; every other field
// is a function of the configuration and the data alone.
type LogEntry struct {
	Epoch       int          `json:"epoch"`
	LR          float64      `json:"lr"`
	GlobalSteps int          `json:"global_steps"`
	Train       TrainMetrics `json:"train"`
	Val         Validation   `json:"val"`
	Test        *TestLosses  `json:"test,omitempty"` // nil: the run has no test set

	ImagesPerSecond float64 `json:"images_per_second"`
	TrainSeconds    float64 `json:"train_seconds"`
	EvalSeconds     float64 `json:"eval_seconds"`
}

// nonFinite names the first NaN or infinite measurement of the entry, with
// its value; "" when all are finite (JSON has no NaN, and a log line that
// cannot be written must say why).
func (e LogEntry) nonFinite() (string, float64) {
	type measured struct {
		what string
		v    float64
	}
	vals := []measured{{"training loss", e.Train.Loss}}
	if e.Train.Clean != nil {
		vals = append(vals, measured{"training loss of the clean pass", e.Train.Clean.Loss})
	}
	if e.Train.Adv != nil {
		vals = append(vals, measured{"training loss of the adversarial pass", e.Train.Adv.Loss})
	}
	if e.Test != nil {
		vals = append(vals, measured{"test loss of the clean branch", e.Test.Clean}, measured{"test loss of the adversarial branch", e.Test.Adv})
	}
	for _, x := range vals {
		if math.IsNaN(x.v) || math.IsInf(x.v, 0) {
			return x.what, x.v
		}
	}
	return "", 0
}

// TrainMetrics are an epoch's training loss (the objective's) and the loss
// and accuracy of each pass the objective runs.
type TrainMetrics struct {
	// Examples is the number of training images the epoch's steps saw
	// (with Config.LastBatch "drop", the final partial batch is not seen).
	Examples int          `json:"examples,omitempty"`
	Loss     float64      `json:"loss"`
	Clean    *PassMetrics `json:"clean,omitempty"`
	Adv      *PassMetrics `json:"adv,omitempty"`
}

// PassMetrics are one pass's mean loss and accuracy over an epoch.
type PassMetrics struct {
	Loss     float64 `json:"loss"`
	Accuracy float64 `json:"accuracy"`
}

// Summary is what a finished run reports.
type Summary struct {
	Dir       string     `json:"run_dir"`
	Record    Record     `json:"record"`
	Final     *LogEntry  `json:"final_epoch"`
	BestEpoch int        `json:"best_epoch"`
	BestRA    float64    `json:"best_val_ra"`
	Log       []LogEntry `json:"-"`
}

// Options say how a run is carried out (not what it computes).
type Options struct {
	// Progress receives the progress bar and one line per epoch (stderr);
	// nil shows nothing.
	Progress io.Writer
	// AfterStep, when set, is called after every applied step with the
	// epoch and the step's index in it (tests interrupt runs with it).
	AfterStep func(epoch, step int)
}

// attackStream separates the training attack's random starts from the
// loader's shuffling and augmentation draws, which share the run's seed.
const attackStream = 0xa << 60

// Start begins a new run of c in dir, which must not exist, be empty, or
// hold only what a Start stopped before config.json left.
func Start(ctx context.Context, c Config, dir string, o Options) (*Summary, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 && !neverStarted(dir) {
		return nil, &NotEmptyError{Dir: dir}
	}
	data, err := LoadData(c)
	if err != nil {
		return nil, err
	}
	d := runDir{rundir.Dir(dir)}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	lock, err := runlock.Acquire(dir)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	defer lock.Release()
	if !neverStarted(dir) {
		return nil, fmt.Errorf("train: %s was filled by another process meanwhile", dir)
	}
	if err := os.MkdirAll(d.Checkpoints(), 0o755); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	rec := Record{Version: version.Version, Config: c, Data: data.Info}
	if err := d.writeSeen(data); err != nil {
		return nil, err
	}
	if err := d.writeRecord(rec); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	return fresh(ctx, d, rec, data, o)
}

// Resume continues the run in dir from its last checkpoint, or starts it
// over when none was written yet; a finished run is reported as it is.
func Resume(ctx context.Context, dir string, o Options) (*Summary, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	notStarted := neverStarted(dir) // before our own lock file appears
	lock, err := runlock.Acquire(dir)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	defer lock.Release()
	rec, err := ReadRecord(dir)
	if errors.Is(err, ErrNoRecord) && notStarted {
		return nil, &NotStartedError{Dir: dir}
	}
	if err != nil {
		return nil, err
	}
	if err := rec.Config.Validate(); err != nil {
		return nil, err
	}
	data, err := LoadData(rec.Config)
	if err != nil {
		return nil, err
	}
	if data.Info.SHA256 != rec.Data.SHA256 {
		return nil, fmt.Errorf("train: %s: the run's data hashed to %s, %s now hashes to %s", dir, rec.Data.SHA256, data.Info.Source, data.Info.SHA256)
	}
	d := runDir{rundir.Dir(dir)}
	if _, err := os.Stat(d.Seen()); errors.Is(err, os.ErrNotExist) {
		if err := d.writeSeen(data); err != nil {
			return nil, err
		}
	}
	if err := d.removeTemporaries(); err != nil {
		return nil, err
	}
	last := d.Checkpoint(rundir.LastFile)
	if _, err := os.Stat(last); errors.Is(err, os.ErrNotExist) {
		if progress := d.progress(); progress != "" {
			return nil, fmt.Errorf("train: %s: %s is missing but the run has progress (%s); refusing to start it over (restore the checkpoint, or start a new run elsewhere)", dir, filepath.Join(rundir.CheckpointDir, rundir.LastFile), progress)
		}
		return fresh(ctx, d, rec, data, o)
	}
	m, opt, st, err := loadCheckpoint(last, rec.Config, rec.Data)
	if err != nil {
		return nil, err
	}
	if err := d.truncateLines(d.Log(), st.LogLines); err != nil {
		return nil, err
	}
	if err := d.truncateLines(d.Landscape(), st.LandscapeLines); err != nil {
		return nil, err
	}
	entries, err := ReadLog(dir)
	if err != nil {
		return nil, err
	}
	r := &run{cfg: rec.Config, rec: rec, dir: d, data: data, m: m, opt: opt, st: st, log: entries, opts: o, saved: last}
	return r.loop(ctx)
}

// fresh starts a run from initial weights and an empty log.
func fresh(ctx context.Context, d runDir, rec Record, data *Data, o Options) (*Summary, error) {
	c := rec.Config
	m, err := c.InitialModel()
	if err != nil {
		return nil, err
	}
	if err := d.truncateLines(d.Log(), 0); err != nil {
		return nil, err
	}
	if err := d.truncateLines(d.Landscape(), 0); err != nil {
		return nil, err
	}
	r := &run{cfg: c, rec: rec, dir: d, data: data, m: m, opt: NewSGD(m.Params(), c.Momentum, c.WeightDecay),
		st: State{BestEpoch: -1}, opts: o}
	return r.loop(ctx)
}

// run is a run in progress.
type run struct {
	cfg   Config
	rec   Record
	dir   runDir
	data  *Data
	m     *resnet.Model
	opt   *SGD
	st    State
	log   []LogEntry
	opts  Options
	saved string // the last checkpoint written or resumed from
	// w0 holds the initial weights while the run probes its landscape
	// (regenerated from the seed, so a resumed run has them too).
	w0 [][]float64
}

func (r *run) save(name string) error {
	ps, bs := r.m.State()
	if v, i, x := firstNonFinite(append(append(ps, bs...), r.opt.Buffers()...)); v != nil {
		return &NonFiniteError{Epoch: r.st.Epoch, Step: r.st.Step, Tensor: v.Name, Index: i, Value: x, Checkpoint: r.saved}
	}
	path := r.dir.Checkpoint(name)
	if err := saveCheckpoint(path, r.m, r.opt, r.cfg, r.st, r.data.Info); err != nil {
		return err
	}
	if name == rundir.LastFile {
		r.saved = path
	}
	return nil
}

// interrupted checkpoints the position and reports the interruption: an
// error wrapping rundir.ErrInterrupted, after which Resume continues from
// the checkpoint.
func (r *run) interrupted() error {
	if err := r.save(rundir.LastFile); err != nil {
		return err
	}
	return fmt.Errorf("train: %s: %w after checkpointing the step in progress", r.dir.Dir, rundir.ErrInterrupted)
}

func (r *run) loop(ctx context.Context) (*Summary, error) {
	c := r.cfg
	ld, err := loader.New(r.data.Train, loader.Config{BatchSize: c.Batch, Shuffle: true, Augment: c.Augment, Last: c.lastBatch(), Seed: c.Seed})
	if err != nil {
		return nil, err
	}
	it := NewIteration(r.m, r.opt, c)
	nb := ld.NumBatches()
	perEpoch := ld.Len()
	if c.lastBatch() == loader.DropLast {
		perEpoch = nb * c.Batch
	}
	remaining := (c.Epochs-r.st.Epoch)*perEpoch - r.st.Step*c.Batch
	var bar *progress.Reporter
	if r.opts.Progress != nil && remaining > 0 {
		bar = progress.New(r.opts.Progress, fmt.Sprintf("train %s %s", c.Norm, c.Objective), float64(remaining), "img")
	}
	done := 0
	var b loader.Batch
	for r.st.Epoch < c.Epochs {
		e := r.st.Epoch
		order := ld.Order(e)
		for r.st.Step < nb {
			if ctx.Err() != nil {
				return nil, r.interrupted()
			}
			k := r.st.Step
			start := time.Now()
			if err := ld.Fill(e, k, order, &b); err != nil {
				return nil, err
			}
			lr := c.LearningRate(e, k)
			global := uint64(e*nb + k)
			probe := c.LandscapeEvery > 0 && global%uint64(c.LandscapeEvery) == 0
			var before [][]float64 // w_t, for the probe after the update
			if probe {
				before = landscape.Values(r.m.Params())
			}
			res, err := it.step(b.X, b.Y, lr, rand.New(rand.NewPCG(c.Seed, attackStream|global)))
			if err != nil {
				return nil, fmt.Errorf("train: epoch %d step %d: %w", e, k, err)
			}
			if math.IsNaN(res.loss) || math.IsInf(res.loss, 0) {
				return nil, &NonFiniteError{Epoch: e, Step: k, Loss: res.loss, Checkpoint: r.saved}
			}
			r.accumulate(res, b.Y, lr, time.Since(start))
			if probe {
				if err := r.probe(e, k, int(global), lr, &b, res, before); err != nil {
					return nil, err
				}
			}
			r.st.Step++
			if r.opts.AfterStep != nil {
				r.opts.AfterStep(e, k)
			}
			done += len(b.Y)
			if bar != nil {
				bar.Update(float64(done))
			}
			if c.SaveSteps > 0 && r.st.Step%c.SaveSteps == 0 && r.st.Step < nb {
				if err := r.save(rundir.LastFile); err != nil {
					return nil, err
				}
			}
		}
		if err := r.endEpoch(ctx, nb); err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return nil, r.interrupted()
			}
			return nil, err
		}
	}
	if bar != nil {
		bar.Done(float64(done))
	}
	s := &Summary{Dir: string(r.dir.Dir), Record: r.rec, BestEpoch: r.st.BestEpoch, BestRA: r.st.BestRA, Log: r.log}
	if len(r.log) > 0 {
		s.Final = &r.log[len(r.log)-1]
	}
	return s, nil
}

// probe measures the landscape of the step just taken (w_t its weights
// before the update, the model's now w_{t+1}) on its batch along each
// pass's own gradient, in training mode, and appends the line to
// landscape.jsonl; the model is left as the step left it.
func (r *run) probe(e, k, global int, lr float64, b *loader.Batch, res *stepResult, w [][]float64) error {
	if r.w0 == nil {
		m0, err := r.cfg.InitialModel()
		if err != nil {
			return err
		}
		r.w0 = landscape.Values(m0.Params())
	}
	line, err := measureStep(r.m, r.w0, res, b.X, b.Y, lr, w)
	if err != nil {
		return fmt.Errorf("train: epoch %d step %d: %w", e, k, err)
	}
	line.Epoch, line.Step, line.GlobalStep = e, k, global
	if err := r.dir.appendLine(r.dir.Landscape(), line); err != nil {
		return err
	}
	r.st.LandscapeLines++
	return nil
}

// measureStep probes the step just taken on batch (x, y) with learning
// rate lr: w its weights before the update (the model holds w_{t+1}), w0
// the initial ones.
func measureStep(m *resnet.Model, w0 [][]float64, res *stepResult, x []float32, y []int, lr float64, w [][]float64) (*landscape.Line, error) {
	var passes []landscape.Pass
	if p := res.clean; p != nil {
		passes = append(passes, landscape.Pass{Input: "clean", X: x, Branch: nn.Clean, Loss: p.loss, Grad: landscape.Grads(m, p.grads)})
	}
	if p := res.adv; p != nil {
		passes = append(passes, landscape.Pass{Input: "adversarial", X: res.xAdv, Branch: nn.Adv, Loss: p.loss, Grad: landscape.Grads(m, p.grads)})
	}
	next := landscape.Values(m.Params())
	return landscape.Measure(landscape.ResNet(m), y, passes, w, next, w0, lr, landscape.Setup{})
}

// accumulate adds a step's losses and accuracies to the epoch's sums.
func (r *run) accumulate(res *stepResult, y []int, lr float64, d time.Duration) {
	s := &r.st.Sums
	n := float64(len(y))
	s.Examples += len(y)
	s.Loss += res.loss * n
	if res.clean != nil {
		s.CleanLoss += res.clean.loss * n
		s.CleanCorrect += correct(res.clean.logits, y)
	}
	if res.adv != nil {
		s.AdvLoss += res.adv.loss * n
		s.AdvCorrect += correct(res.adv.logits, y)
	}
	s.LR = lr
	s.Seconds += d.Seconds()
}

// endEpoch evaluates, logs and checkpoints the epoch whose steps are done.
func (r *run) endEpoch(ctx context.Context, nb int) error {
	c, e, s := r.cfg, r.st.Epoch, r.st.Sums
	start := time.Now()
	val, err := validate(ctx, r.m, c, r.data.Val)
	if err != nil {
		return err
	}
	var tl *TestLosses
	if r.data.Test != nil {
		l, err := testLosses(ctx, r.m, c, r.data.Test)
		if err != nil {
			return err
		}
		tl = &l
	}
	n := float64(s.Examples)
	entry := LogEntry{Epoch: e, LR: s.LR, GlobalSteps: (e + 1) * nb, Val: val, Test: tl,
		Train:        TrainMetrics{Examples: s.Examples, Loss: s.Loss / n},
		TrainSeconds: s.Seconds, EvalSeconds: time.Since(start).Seconds()}
	obj := objectives[c.Objective]
	if obj.clean {
		entry.Train.Clean = &PassMetrics{Loss: s.CleanLoss / n, Accuracy: float64(s.CleanCorrect) / n}
	}
	if obj.adv {
		entry.Train.Adv = &PassMetrics{Loss: s.AdvLoss / n, Accuracy: float64(s.AdvCorrect) / n}
	}
	if s.Seconds > 0 {
		entry.ImagesPerSecond = n / s.Seconds
	}
	if what, v := entry.nonFinite(); what != "" {
		return &NonFiniteError{Epoch: e, Step: r.st.Step, Measured: what, Value: v, Checkpoint: r.saved}
	}
	if err := r.dir.appendLine(r.dir.Log(), entry); err != nil {
		return err
	}
	r.log = append(r.log, entry)
	ra := val.Clean.RA
	if obj.trains == nn.Adv {
		ra = val.Adv.RA
	}
	improved := r.st.BestEpoch < 0 || ra > r.st.BestRA
	r.st = State{Epoch: e + 1, LogLines: r.st.LogLines + 1, LandscapeLines: r.st.LandscapeLines, BestRA: r.st.BestRA, BestEpoch: r.st.BestEpoch}
	if improved {
		r.st.BestRA, r.st.BestEpoch = ra, e
		if err := r.save(rundir.BestFile); err != nil {
			return err
		}
	}
	if c.SaveEvery > 0 && e > 0 && e%c.SaveEvery == 0 {
		if err := r.save(rundir.EpochFile(e)); err != nil {
			return err
		}
	}
	if err := r.save(rundir.LastFile); err != nil {
		return err
	}
	r.report(entry)
	return nil
}

// report prints an epoch's line on the progress stream.
func (r *run) report(e LogEntry) {
	if r.opts.Progress == nil {
		return
	}
	pct := func(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) }
	fmt.Fprintf(r.opts.Progress, "epoch %d/%d lr %.4g: train loss %.4f | val clean SA %s RA %s | adv SA %s RA %s | %s | %.1f img/s, %.0f s + %.0f s eval\n",
		e.Epoch+1, r.cfg.Epochs, e.LR, e.Train.Loss, pct(e.Val.Clean.SA), pct(e.Val.Clean.RA), pct(e.Val.Adv.SA), pct(e.Val.Adv.RA),
		e.Test.String(), e.ImagesPerSecond, e.TrainSeconds, e.EvalSeconds)
}
