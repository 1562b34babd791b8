package train

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/advbench/advbench/checkpoint"
	"github.com/advbench/advbench/landscape"
	"github.com/advbench/advbench/nn"
	"github.com/advbench/advbench/rundir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// landscapeWithoutTimes returns landscape.jsonl's lines as maps without
// the probe's wall time.
func landscapeWithoutTimes(t *testing.T, dir string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(rundir.Dir(dir).Landscape())
	require.NoError(t, err)
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
		var m map[string]any
		require.NoError(t, json.Unmarshal(line, &m), "%s", line)
		require.Contains(t, m, "seconds")
		delete(m, "seconds")
		out = append(out, m)
	}
	return out
}

// sameTensors: two runs wrote the same checkpoint files holding
// bit-identical tensors (the checksum of every tensor's bytes) and the same
// position but for the landscape lines counted; their logs are equal but
// for times.
func sameTensors(t *testing.T, want, got string) {
	t.Helper()
	wc, gc := checkpointFiles(t, want), checkpointFiles(t, got)
	require.Equal(t, len(wc), len(gc), "checkpoint files")
	for name := range wc {
		require.Contains(t, gc, name)
		fw, err := checkpoint.Read(filepath.Join(want, rundir.CheckpointDir, name))
		require.NoError(t, err)
		fg, err := checkpoint.Read(filepath.Join(got, rundir.CheckpointDir, name))
		require.NoError(t, err)
		require.Equal(t, len(fw.Entries), len(fg.Entries))
		assert.Equal(t, fw.Meta[checkpoint.ChecksumKey], fg.Meta[checkpoint.ChecksumKey], "%s: tensors differ", name)
		var sw, sg State
		require.NoError(t, json.Unmarshal([]byte(fw.Meta[MetaTrainState]), &sw))
		require.NoError(t, json.Unmarshal([]byte(fg.Meta[MetaTrainState]), &sg))
		sw.LandscapeLines, sg.LandscapeLines = 0, 0
		sw.Sums.Seconds, sg.Sums.Seconds = 0, 0
		assert.Equal(t, sw, sg, name)
	}
	assert.Equal(t, logWithoutTimes(t, want), logWithoutTimes(t, got))
}

// TestLandscapeLeavesTrainingAlone: a smoke run probed every third step
// writes checkpoints with bit-identical weights, running statistics and
// momentum to a run without probes, and one landscape line per probed
// step: global steps 0, 3 and 6 of its 8, each with the clean loss on the
// clean branch and the adversarial loss on the adversarial branch.
func TestLandscapeLeavesTrainingAlone(t *testing.T) {
	want := runSmoke(t)
	c := smoke(t)
	c.LandscapeEvery = 3
	dir := filepath.Join(t.TempDir(), "probed")
	_, err := Start(context.Background(), c, dir, Options{})
	require.NoError(t, err)
	sameTensors(t, want, dir)

	lines, err := landscape.ReadFile(rundir.Dir(dir).Landscape())
	require.NoError(t, err)
	require.Len(t, lines, 3)
	for i, l := range lines {
		g := 3 * i
		assert.Equal(t, g, l.GlobalStep)
		assert.Equal(t, g/4, l.Epoch, "4 steps per epoch")
		assert.Equal(t, g%4, l.Step)
		assert.Equal(t, c.LearningRate(g/4, g%4), l.LR)
		require.Len(t, l.Etas, len(landscape.DefaultMultiples))
		assert.InDelta(t, 4*l.LR, l.Etas[len(l.Etas)-1], 1e-15)
		require.Len(t, l.Probes, 2)
		assert.Equal(t, []string{"clean", "adv"}, []string{l.Probes[0].Branch, l.Probes[1].Branch})
		assert.Equal(t, []string{"clean", "adversarial"}, []string{l.Probes[0].Input, l.Probes[1].Input})
		for _, p := range l.Probes {
			assert.Len(t, p.Shift, len(landscape.DefaultLayers))
			assert.Zero(t, p.NonFinite)
			assert.Positive(t, float64(p.Beta))
		}
		assert.Greater(t, l.Probes[1].Loss, l.Probes[0].Loss, "the training attack raises the loss")
		all := l.Distance[len(l.Distance)-1]
		require.Equal(t, landscape.AllStages, all.Stage)
		if g == 0 {
			assert.Zero(t, all.Distance, "step 0 probes the initial weights, which the run regenerates from its seed")
		} else {
			assert.Greater(t, all.Distance, lines[i-1].Distance[len(l.Distance)-1].Distance, "the weights move away from W_0")
		}
	}
	f, err := checkpoint.Read(rundir.Dir(dir).Checkpoint(rundir.LastFile))
	require.NoError(t, err)
	var st State
	require.NoError(t, json.Unmarshal([]byte(f.Meta[MetaTrainState]), &st))
	assert.Equal(t, 3, st.LandscapeLines)
	rec, err := ReadRecord(dir)
	require.NoError(t, err)
	assert.Equal(t, 3, rec.Config.LandscapeEvery, "config.json records the interval")
	b, err := os.ReadFile(rundir.Dir(want).Config())
	require.NoError(t, err)
	assert.NotContains(t, string(b), "landscape", "a run without probes records no interval")
	_, err = os.Stat(rundir.Dir(want).Landscape())
	assert.ErrorIs(t, err, os.ErrNotExist, "nor a landscape file")
}

// TestLandscapeResume: a probed run interrupted after a probed step, whose
// landscape.jsonl then gained lines the checkpoint did not count (a later
// probe's line and a torn one, as a kill leaves them), resumes to the
// landscape lines of an uninterrupted probed run.
func TestLandscapeResume(t *testing.T) {
	if testing.Short() {
		t.Skip("two more smoke runs skipped in -short")
	}
	c := smoke(t)
	c.LandscapeEvery = 3
	c.Epochs = 1
	want := filepath.Join(t.TempDir(), "whole")
	_, err := Start(context.Background(), c, want, Options{})
	require.NoError(t, err)

	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	steps := 0
	_, err = Start(ctx, c, dir, Options{AfterStep: func(int, int) {
		if steps++; steps == 4 { // global step 3, which was probed
			cancel()
		}
	}})
	require.ErrorIs(t, err, rundir.ErrInterrupted)
	path := rundir.Dir(dir).Landscape()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, 2, bytes.Count(b, []byte("\n")), "steps 0 and 3")
	extra := append(bytes.SplitAfter(b, []byte("\n"))[1], []byte(`{"schema":"advbench.lands`)...)
	require.NoError(t, os.WriteFile(path, append(b, extra...), 0o644))

	_, err = Resume(context.Background(), dir, Options{})
	require.NoError(t, err)
	assert.Equal(t, landscapeWithoutTimes(t, want), landscapeWithoutTimes(t, dir))
	sameTensors(t, want, dir)
}

// TestLandscapeEveryValidated: a negative interval is refused, naming the
// field.
func TestLandscapeEveryValidated(t *testing.T) {
	c := smoke(t)
	c.LandscapeEvery = -2
	err := c.Validate()
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "landscape_every", ce.Field)
	assert.EqualError(t, err, fmt.Sprintf("train: landscape interval %d must not be negative (0 probes nothing)", -2))
}

// TestAttackPrecisionConfig: an unknown attack precision is refused naming
// the field; bf16 builds a model whose attack steps are bf16 (and "" is
// fp32).
func TestAttackPrecisionConfig(t *testing.T) {
	c := smoke(t)
	c.AttackPrecision = "fp16"
	var ce *ConfigError
	require.ErrorAs(t, c.Validate(), &ce)
	assert.Equal(t, "attack_precision", ce.Field)
	for p, want := range map[string]nn.Precision{"": nn.FP32, "fp32": nn.FP32, "bf16": nn.BF16} {
		c.AttackPrecision = p
		require.NoError(t, c.Validate())
		m, err := c.InitialModel()
		require.NoError(t, err)
		assert.Equal(t, want, m.AttackPrecision(), "%q", p)
	}
}
