package evaluate

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/advbench/advbench/data/cifar"
	"github.com/advbench/advbench/data/synth"
	"github.com/advbench/advbench/rundir"
	"github.com/advbench/advbench/train"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeCIFAR writes a split of the built-in data as one CIFAR-10 file.
func writeCIFAR(t *testing.T, path string, c synth.Config, split cifar.Split) {
	t.Helper()
	d, err := synth.Split(c, split)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, cifar.Encode(d), 0o644))
}

// tinyRun trains one smoke-sized epoch on all of data (every record is
// trained or validated on) into a new run directory.
func tinyRun(t *testing.T, data string) string {
	t.Helper()
	c, err := train.Preset("smoke")
	require.NoError(t, err)
	c.Data, c.Epochs, c.Milestones, c.TrainN, c.ValN, c.TestN = data, 1, nil, 0, 0, 0
	dir := filepath.Join(t.TempDir(), "run")
	_, err = train.Start(context.Background(), c, dir, train.Options{})
	require.NoError(t, err)
	return dir
}

// TestSingleFileRunIsNotScoredOnItsTrainingImages: a run on one CIFAR file
// trains and validates on it and has no test set of its own; evaluating it
// on that file (by default or by naming it, or on a copy under another
// name) is refused, and a file of other images is scored.
func TestSingleFileRunIsNotScoredOnItsTrainingImages(t *testing.T) {
	dir := t.TempDir()
	trainFile, copyFile, testFile := filepath.Join(dir, "data_batch_1.bin"), filepath.Join(dir, "renamed.bin"), filepath.Join(dir, "test_batch.bin")
	writeCIFAR(t, trainFile, synth.Config{NTrain: 400}, cifar.Train)
	writeCIFAR(t, copyFile, synth.Config{NTrain: 400}, cifar.Train)
	writeCIFAR(t, testFile, synth.Config{NTest: 64}, cifar.Test)
	run := tinyRun(t, trainFile)

	rec, err := train.ReadRecord(run)
	require.NoError(t, err)
	assert.Zero(t, rec.Data.Test, "a single file is one split: no test images")
	assert.NotEmpty(t, rec.Data.NoTest)

	for _, tc := range []struct {
		name, data string
		runOnFile  bool
	}{{"the run's data", "", true}, {"the same file named", trainFile, false}, {"a renamed copy", copyFile, false}} {
		s := Spec{Target: run, Data: tc.data, TestN: 64, Batch: 32, Attacks: []string{"fgsm"}, Out: filepath.Join(t.TempDir(), "r")}
		_, err := Run(context.Background(), s, Options{})
		var seen *SeenImagesError
		require.ErrorAs(t, err, &seen, tc.name)
		assert.Equal(t, 64, seen.Shared, "%s: every test image is a training or validation image", tc.name)
		assert.Equal(t, tc.runOnFile, seen.RunOnFile, tc.name)
	}
	s := Spec{Target: run, Data: testFile, Batch: 32, Attacks: []string{"fgsm"}, Out: filepath.Join(t.TempDir(), "r")}
	outs, err := Run(context.Background(), s, Options{})
	require.NoError(t, err)
	assert.Equal(t, 64, outs[0].File.Examples)
}

// TestCheckpointOutsideARunNeedsData: nothing says which data a checkpoint
// outside a run belongs to, so its test data must be named.
func TestCheckpointOutsideARunNeedsData(t *testing.T) {
	s := spec(checkpointOf(t, "bn"), filepath.Join(t.TempDir(), "r"))
	s.Data = ""
	_, err := Run(context.Background(), s, Options{})
	require.ErrorIs(t, err, ErrNoTestData)
	s.Data = "builtin"
	_, err = Run(context.Background(), s, Options{})
	require.NoError(t, err)
}

// TestSelectReference: "reference" is the checkpoint the reference's test
// scripts score, model_epoch190.pt, written after 0-based epoch 190.
func TestSelectReference(t *testing.T) {
	run := filepath.Join(t.TempDir(), "run")
	require.NoError(t, os.MkdirAll(filepath.Join(run, rundir.CheckpointDir), 0o755))
	c, err := train.Preset("paper")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(run, rundir.ConfigFile), []byte(`{"advbench_version":"test","config":`+mustJSON(t, c)+`,"data":{"source":"builtin","sha256":"00","train_examples":1,"val_examples":1,"test_examples":1}}`), 0o644))
	_, err = CheckpointPath(run, "reference")
	require.ErrorContains(t, err, "has no checkpoint epoch-190.safetensors")
	want := filepath.Join(run, rundir.CheckpointDir, "epoch-190.safetensors")
	require.NoError(t, os.WriteFile(want, []byte("x"), 0o644))
	got, err := CheckpointPath(run, "reference")
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
