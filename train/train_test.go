package train

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/advbench/advbench/checkpoint"
	"github.com/advbench/advbench/models/resnet"
	"github.com/advbench/advbench/nn"
	"github.com/advbench/advbench/rundir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"
)

// helperEnv makes the test binary a training process (see TestMain): it
// trains the smoke preset into the directory the variable names.
const helperEnv = "ADVBENCH_TRAIN_HELPER_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		c, _ := Preset("smoke")
		if _, err := Start(context.Background(), c, dir, Options{}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func smoke(t *testing.T) Config {
	t.Helper()
	c, err := Preset("smoke")
	require.NoError(t, err)
	return c
}

// timeFields are the log fields that measure time rather than compute.
var timeFields = []string{"images_per_second", "train_seconds", "eval_seconds"}

// logWithoutTimes returns log.jsonl's lines as maps without time fields.
func logWithoutTimes(t *testing.T, dir string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, rundir.LogFile))
	require.NoError(t, err)
	var out []map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	for dec.More() {
		var m map[string]any
		require.NoError(t, dec.Decode(&m))
		for _, f := range timeFields {
			require.Contains(t, m, f)
			delete(m, f)
		}
		out = append(out, m)
	}
	return out
}

// checkpointFiles returns the names and bytes of a run's checkpoints.
func checkpointFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, rundir.CheckpointDir))
	require.NoError(t, err)
	out := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, rundir.CheckpointDir, e.Name()))
		require.NoError(t, err)
		out[e.Name()] = b
	}
	return out
}

// assertSameRun: two run directories hold byte-identical checkpoints (all
// written at epoch ends, so free of time fields) and equal logs once the
// time fields are removed.
func assertSameRun(t *testing.T, want, got string) {
	t.Helper()
	wc, gc := checkpointFiles(t, want), checkpointFiles(t, got)
	require.Equal(t, len(wc), len(gc), "checkpoint files")
	for name, b := range wc {
		require.Contains(t, gc, name)
		assert.True(t, string(b) == string(gc[name]), "%s differs", name)
	}
	assert.Equal(t, logWithoutTimes(t, want), logWithoutTimes(t, got))
}

// runSmoke trains the smoke preset into a new directory.
func runSmoke(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	_, err := Start(context.Background(), smoke(t), dir, Options{})
	require.NoError(t, err)
	return dir
}

// TestSmokeIsDeterministic: the smoke preset trained twice with one seed
// gives byte-identical checkpoints and equal logs, and the run directory
// holds what it promises.
func TestSmokeIsDeterministic(t *testing.T) {
	a, b := runSmoke(t), runSmoke(t)
	assertSameRun(t, a, b)
	c := smoke(t)
	files := checkpointFiles(t, a)
	assert.Contains(t, files, rundir.LastFile)
	assert.Contains(t, files, rundir.BestFile)
	assert.Contains(t, files, rundir.EpochFile(1), "save-every 1: epoch 1 (0-based) is a positive multiple")
	entries, err := ReadLog(a)
	require.NoError(t, err)
	require.Len(t, entries, c.Epochs)
	for i, e := range entries {
		assert.Equal(t, i, e.Epoch)
		require.NotNil(t, e.Train.Clean, "advprop runs the clean pass")
		require.NotNil(t, e.Train.Adv, "and the adversarial pass")
		assert.Greater(t, e.Train.Adv.Loss, e.Train.Clean.Loss, "the training attack raises the loss above the clean pass's")
		for _, v := range []float64{e.Val.Clean.SA, e.Val.Clean.RA, e.Val.Adv.SA, e.Val.Adv.RA, e.Train.Clean.Accuracy, e.Train.Adv.Accuracy} {
			assert.True(t, v >= 0 && v <= 1, "accuracies are fractions: %v", v)
		}
		// (RA < SA is not asserted: at smoke size the network is near
		// chance on the built-in data, where the attack can leave RA = SA;
		// the adversarial pass's loss above the clean pass's guards the
		// attack's direction.)
		assert.Greater(t, e.Test.Adv, 0.0)
		assert.Greater(t, e.ImagesPerSecond, 0.0)
	}
	assert.InDelta(t, 0.1*0.1, entries[1].LR, 1e-15, "epoch 1 is past the milestone: lr 0.1 x decay 0.1")
	assert.Equal(t, 2*4, entries[1].GlobalSteps, "256 images in batches of 64")

	// The best checkpoint is the epoch whose validation RA of the trained
	// branch (adv: advprop trains it) is highest in the log, the first on
	// ties; its epoch metadata counts the epochs completed.
	wantBest, wantRA := -1, 0.0
	for _, e := range entries {
		if wantBest < 0 || e.Val.Adv.RA > wantRA {
			wantBest, wantRA = e.Epoch, e.Val.Adv.RA
		}
	}
	state := func(name string) (State, map[string]string) {
		f, err := checkpoint.Read(filepath.Join(a, rundir.CheckpointDir, name))
		require.NoError(t, err)
		var st State
		require.NoError(t, json.Unmarshal([]byte(f.Meta[MetaTrainState]), &st))
		return st, f.Meta
	}
	best, bestMeta := state(rundir.BestFile)
	assert.Equal(t, fmt.Sprint(wantBest+1), bestMeta[MetaEpoch], "best.safetensors holds the epoch of the best validation RA")
	assert.Equal(t, State{Epoch: wantBest + 1, LogLines: wantBest + 1, BestRA: wantRA, BestEpoch: wantBest}, best)

	// The last checkpoint is a finished run's: position after the last epoch.
	st, lastMeta := state(rundir.LastFile)
	assert.Equal(t, State{Epoch: c.Epochs, LogLines: c.Epochs, BestRA: wantRA, BestEpoch: wantBest}, st)
	assert.Equal(t, "2", lastMeta[MetaEpoch])
	rec, err := ReadRecord(a)
	require.NoError(t, err)
	assert.Equal(t, c, rec.Config)
	assert.Equal(t, 256, rec.Data.Train)
	assert.Len(t, rec.Data.SHA256, 64)

	// Resuming a finished run does nothing and reports it.
	s, err := Resume(context.Background(), a, Options{})
	require.NoError(t, err)
	require.NotNil(t, s.Final)
	assert.Equal(t, 1, s.Final.Epoch)
	assertSameRun(t, b, a)
}

// TestResumeAfterSIGKILL: a training process killed with SIGKILL once it
// has written a mid-epoch checkpoint resumes to a run identical to an
// uninterrupted one.
func TestResumeAfterSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess training skipped in -short")
	}
	dir := filepath.Join(t.TempDir(), "killed")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	require.NoError(t, cmd.Start())
	last := filepath.Join(dir, rundir.CheckpointDir, rundir.LastFile)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if _, err := os.Stat(last); err == nil {
			break
		}
		require.True(t, time.Now().Before(deadline), "no checkpoint within two minutes")
		time.Sleep(5 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	f, err := checkpoint.Read(last)
	require.NoError(t, err)
	var st State
	require.NoError(t, json.Unmarshal([]byte(f.Meta[MetaTrainState]), &st))
	assert.Equal(t, State{Epoch: 0, Step: 2, BestEpoch: -1, Sums: st.Sums}, st, "killed after the first mid-epoch checkpoint (save-steps 2)")

	_, err = Resume(context.Background(), dir, Options{})
	require.NoError(t, err)
	assertSameRun(t, runSmoke(t), dir)
}

// TestInterruptAndResume: a cancelled context stops the run after the step
// in progress with rundir.ErrInterrupted and a checkpoint; resuming gives the
// uninterrupted run. A resume that finds no checkpoint starts over.
func TestInterruptAndResume(t *testing.T) {
	want := runSmoke(t)
	for _, after := range []int{1, 4} { // inside epoch 0; at the end of epoch 0, before its evaluation
		t.Run(fmt.Sprint(after), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			steps := 0
			stop := func(epoch, step int) {
				if steps++; steps == after {
					cancel()
				}
			}
			_, err := Start(ctx, smoke(t), dir, Options{AfterStep: stop})
			require.ErrorIs(t, err, rundir.ErrInterrupted)
			_, err = Resume(context.Background(), dir, Options{})
			require.NoError(t, err)
			assertSameRun(t, want, dir)
		})
	}
	t.Run("no checkpoint yet", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "run")
		require.NoError(t, os.MkdirAll(filepath.Join(dir, rundir.CheckpointDir), 0o755))
		data, err := LoadData(smoke(t))
		require.NoError(t, err)
		require.NoError(t, runDir{rundir.Dir(dir)}.writeRecord(Record{Config: smoke(t), Data: data.Info}))
		require.NoError(t, os.WriteFile(filepath.Join(dir, rundir.LogFile), []byte(`{"torn`), 0o644))
		_, err = Resume(context.Background(), dir, Options{})
		require.NoError(t, err)
		assertSameRun(t, want, dir)
	})
}

func TestNonFiniteLossStops(t *testing.T) {
	c := smoke(t)
	c.LR = 1e30
	c.WarmupIters = 0
	dir := filepath.Join(t.TempDir(), "run")
	_, err := Start(context.Background(), c, dir, Options{})
	var nf *NonFiniteError
	require.ErrorAs(t, err, &nf)
	assert.True(t, math.IsNaN(nf.Loss) || math.IsInf(nf.Loss, 0))
	assert.Equal(t, 0, nf.Epoch)
	assert.Contains(t, err.Error(), fmt.Sprintf("epoch 0 step %d", nf.Step))
	if nf.Step > c.SaveSteps {
		assert.Equal(t, filepath.Join(dir, rundir.CheckpointDir, rundir.LastFile), nf.Checkpoint)
		_, _, st, err := loadCheckpoint(nf.Checkpoint, c, mustData(t, c).Info)
		require.NoError(t, err, "the last good checkpoint is intact")
		assert.Less(t, st.Step, nf.Step)
	} else {
		assert.Contains(t, err.Error(), "no checkpoint was written yet")
	}
}

// TestCheckpointsAreFinite makes the first update overflow while its loss is
// finite (a float64 learning rate of 1e300 is +Inf in float32): the weights
// become non-finite, and no checkpoint may hold them.
func TestCheckpointsAreFinite(t *testing.T) {
	c := smoke(t)
	c.LR = 1e300
	c.WarmupIters = 0
	c.SaveSteps = 1
	dir := filepath.Join(t.TempDir(), "run")
	_, err := Start(context.Background(), c, dir, Options{})
	var nf *NonFiniteError
	require.ErrorAs(t, err, &nf)
	assert.Contains(t, err.Error(), "no checkpoint was written yet", "the first step already broke the weights")
	names, _ := filepath.Glob(filepath.Join(dir, rundir.CheckpointDir, "*.safetensors"))
	for _, name := range names {
		m, _, err := resnet.Load(name)
		require.NoError(t, err)
		ps, bs := m.State()
		for _, v := range append(ps, bs...) {
			for i, x := range v.Float64s() {
				require.False(t, math.IsNaN(x) || math.IsInf(x, 0), "%s: %s[%d] = %v", name, v.Name, i, x)
			}
		}
	}
}

func mustData(t *testing.T, c Config) *Data {
	t.Helper()
	d, err := LoadData(c)
	require.NoError(t, err)
	return d
}

func TestStartRefusesNonEmptyDir(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "x"), []byte("keep me"), 0o644))
	_, err := Start(context.Background(), smoke(t), dir, Options{})
	var full *NotEmptyError
	require.ErrorAs(t, err, &full)
	assert.Equal(t, dir, full.Dir)
	assert.EqualError(t, err, "train: "+dir+" exists and is not empty", "no flag named: the command line adds its hint")
	b, err := os.ReadFile(filepath.Join(dir, "x"))
	require.NoError(t, err)
	assert.Equal(t, "keep me", string(b), "nothing overwritten")
	_, err = Resume(context.Background(), dir, Options{})
	assert.ErrorContains(t, err, "not a run directory")
}

// TestLearningRate: the reference warm-up in epoch 0, then the milestones.
func TestLearningRate(t *testing.T) {
	c, err := Preset("paper")
	require.NoError(t, err)
	cases := []struct {
		epoch, iter int
		want        float64
	}{
		{0, 0, 0.01}, {0, 100, 0.055}, {0, 200, 0.1}, {0, 351, 0.1},
		{1, 0, 0.1}, {49, 10, 0.1}, {50, 0, 0.01}, {149, 0, 0.01}, {150, 0, 0.001}, {199, 351, 0.001},
	}
	for _, k := range cases {
		assert.InDelta(t, k.want, c.LearningRate(k.epoch, k.iter), 1e-12, "epoch %d iter %d", k.epoch, k.iter)
	}
	c.WarmupIters = 0
	assert.Equal(t, 0.1, c.LearningRate(0, 0))
}

// TestSGDMatchesPyTorch: two steps of SGD with momentum and weight decay
// against the weights and momentum buffer torch.optim.SGD computed
// (testdata/sgd.json, from scripts/make_torch_fixtures.py --sgd-out), and a
// parameter without a gradient left alone.
func TestSGDMatchesPyTorch(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "sgd.json"))
	require.NoError(t, err)
	var fx struct {
		Momentum    float64   `json:"momentum"`
		WeightDecay float64   `json:"weight_decay"`
		W0          []float64 `json:"w0"`
		Idle0       []float64 `json:"idle0"`
		Steps       []struct {
			LR       float64   `json:"lr"`
			Grad     []float64 `json:"grad"`
			W        []float64 `json:"w"`
			Momentum []float64 `json:"momentum"`
			Idle     []float64 `json:"idle"`
		} `json:"steps"`
	}
	require.NoError(t, json.Unmarshal(raw, &fx))
	require.Len(t, fx.Steps, 2)
	w := nn.NewVar("w", tensor.Float64, 3)
	w.SetFloat64s(append([]float64(nil), fx.W0...))
	idle := nn.NewVar("idle", tensor.Float64, 1)
	idle.SetFloat64s(append([]float64(nil), fx.Idle0...))
	o := NewSGD([]*nn.Var{w, idle}, fx.Momentum, fx.WeightDecay)
	for k, st := range fx.Steps {
		t.Run(fmt.Sprintf("step%d", k+1), func(t *testing.T) {
			v := tensor.New(tensor.WithShape(3), tensor.WithBacking(append([]float64(nil), st.Grad...)))
			require.NoError(t, o.Step([]resnet.Grad{{Param: w, Value: v}}, st.LR))
			assert.InDeltaSlice(t, st.W, w.Float64s(), 1e-15, "weights as torch.optim.SGD")
			assert.InDeltaSlice(t, st.Momentum, o.Buffers()[0].Float64s(), 1e-15, "momentum buffer as torch.optim.SGD")
			assert.Equal(t, st.Idle, idle.Float64s(), "no gradient: no weight decay either")
		})
	}
	assert.Equal(t, MomentumPrefix+"w", o.Buffers()[0].Name)

	stranger := nn.NewVar("stranger", tensor.Float64, 1)
	err = o.Step([]resnet.Grad{{Param: stranger, Value: tensor.New(tensor.WithShape(1), tensor.Of(tensor.Float64))}}, 0.1)
	assert.ErrorContains(t, err, "stranger")
}

func TestPresetsAndValidate(t *testing.T) {
	for _, name := range PresetNames() {
		c, err := Preset(name)
		require.NoError(t, err)
		assert.NoError(t, c.Validate(), name)
		assert.Equal(t, name, c.Preset)
		c.Milestones = append(c.Milestones, 1000)
		again, _ := Preset(name)
		assert.NotEqual(t, c.Milestones, again.Milestones, "Preset returns a copy")
	}
	_, err := Preset("huge")
	assert.ErrorContains(t, err, `unknown preset "huge"`)
	bad := []struct {
		edit func(*Config)
		msg  string
	}{
		{func(c *Config) { c.Norm = "xn" }, `norm "xn"`},
		{func(c *Config) { c.Objective = "trades" }, `objective "trades"`},
		{func(c *Config) { c.AttackMode = "test" }, `attack mode "test"`},
		{func(c *Config) { c.Width = 0 }, "width 0"},
		{func(c *Config) { c.Epochs = 0 }, "epochs 0"},
		{func(c *Config) { c.Milestones = []int{5, 3} }, "milestones [5 3]"},
		{func(c *Config) { c.Eps = 2 }, "eps 2"},
		{func(c *Config) { c.TrainSteps = 0 }, "train steps 0"},
		{func(c *Config) { c.ValFraction = 1 }, "validation fraction 1"},
	}
	for _, b := range bad {
		c := smoke(t)
		b.edit(&c)
		assert.ErrorContains(t, c.Validate(), b.msg)
	}
	c := smoke(t)
	c.Objective, c.TrainSteps = "clean", 0
	assert.NoError(t, c.Validate(), "the clean objective runs no attack")
}

func TestLoadDataRefusesOversizedSubsets(t *testing.T) {
	c := smoke(t)
	c.TrainN = 9001 // the built-in 10000 minus a tenth for validation leaves 9000
	_, err := LoadData(c)
	assert.ErrorContains(t, err, "training part: 9001 images asked, 9000 available")
	c = smoke(t)
	c.Batch = 512
	_, err = LoadData(c)
	assert.ErrorContains(t, err, "256 training images make no full batch of 512")
}

func TestCrossEntropySum(t *testing.T) {
	// Two rows: uniform logits give log 3; a confident correct row ~0.
	got := crossEntropySum([]float32{1, 1, 1, 0, 100, 0}, []int{2, 1})
	assert.InDelta(t, math.Log(3)+2*math.Exp(-100), got, 1e-12)
	assert.Equal(t, 1, correct([]float32{1, 1, 1, 0, 100, 0}, []int{2, 1}), "ties go to the first class, as arg-max does")
}

// TestLastBatchPolicy trains one epoch of 100 images in batches of 64: the
// reference loader's "keep" runs two steps (64 + 36 images), "drop" one.
func TestLastBatchPolicy(t *testing.T) {
	for _, c := range []struct {
		policy          string
		steps, examples int
	}{{"keep", 2, 100}, {"drop", 1, 64}} {
		t.Run(c.policy, func(t *testing.T) {
			cfg := smoke(t)
			cfg.TrainN, cfg.Epochs, cfg.Milestones, cfg.LastBatch = 100, 1, nil, c.policy
			steps := 0
			sum, err := Start(context.Background(), cfg, t.TempDir(), Options{AfterStep: func(int, int) { steps++ }})
			require.NoError(t, err)
			assert.Equal(t, c.steps, steps)
			require.NotNil(t, sum.Final)
			assert.Equal(t, c.steps, sum.Final.GlobalSteps)
			assert.Equal(t, c.examples, sum.Final.Train.Examples)
		})
	}
	cfg := smoke(t)
	cfg.LastBatch = "sometimes"
	assert.ErrorContains(t, cfg.Validate(), `last-batch policy "sometimes"`)
}

// TestNonFiniteMeasurementIsNamed: JSON has no NaN, so an epoch whose
// evaluation-mode test loss is NaN (finite weights, broken running
// statistics) cannot be logged; the run stops naming the quantity instead
// of "json: unsupported value: NaN".
func TestNonFiniteMeasurementIsNamed(t *testing.T) {
	e := LogEntry{Train: TrainMetrics{Loss: 2.3, Clean: &PassMetrics{Loss: 2.2}, Adv: &PassMetrics{Loss: 2.4}}, Test: &TestLosses{Clean: 1.9, Adv: math.NaN()}}
	what, v := e.nonFinite()
	assert.Equal(t, "test loss of the adversarial branch", what)
	assert.True(t, math.IsNaN(v))
	e.Train.Clean.Loss = math.Inf(1)
	what, _ = e.nonFinite()
	assert.Equal(t, "training loss of the clean pass", what, "the first in log order")
	e.Train.Clean.Loss, e.Test.Adv = 2.2, 2.0
	what, _ = e.nonFinite()
	assert.Equal(t, "", what)
	err := &NonFiniteError{Epoch: 3, Measured: "test loss of the clean branch", Value: math.NaN(), Checkpoint: "run/checkpoints/last.safetensors"}
	assert.Equal(t, "train: epoch 3: the test loss of the clean branch is NaN in evaluation mode with finite weights (broken running statistics?); stopped before logging the epoch (the last good checkpoint is run/checkpoints/last.safetensors)", err.Error())
}
