package evaluate

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/advbench/advbench/data/cifar"
	"github.com/advbench/advbench/data/source"
	"github.com/advbench/advbench/internal/classify"
	"github.com/advbench/advbench/models/resnet"
	"github.com/advbench/advbench/nn"
	"github.com/advbench/advbench/results"
	"github.com/advbench/advbench/rundir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkpointOf saves an untrained width-1/16 model of a norm and returns
// its path (a checkpoint outside any run: evaluated on the built-in data).
func checkpointOf(t *testing.T, norm string) string {
	t.Helper()
	m, err := resnet.New(resnet.Config{Norm: norm, Width: 1.0 / 16, Seed: 3})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "model.safetensors")
	require.NoError(t, m.Save(path, nil, map[string]string{"epoch": "4"}))
	return path
}

func spec(ckpt, out string) Spec {
	return Spec{Target: ckpt, Data: "builtin", TestN: 40, Batch: 16, Attacks: []string{"pgd-10", "fgsm"}, Seed: 5, Out: out}
}

// withoutTime returns a copy of f without its wall time, the one field
// that measures rather than computes.
func withoutTime(f *results.File) results.File {
	g := *f
	g.WallSeconds = 0
	return g
}

// TestInterruptedEvaluationResumes: an evaluation stopped after its first
// batch continues from the saved state to the result of an uninterrupted
// one, field for field (wall time aside), and a finished result is then
// reused rather than recomputed.
func TestInterruptedEvaluationResumes(t *testing.T) {
	ckpt := checkpointOf(t, "saauxbn")
	whole, err := Run(context.Background(), spec(ckpt, filepath.Join(t.TempDir(), "whole")), Options{})
	require.NoError(t, err)
	require.Len(t, whole, 2)
	assert.Equal(t, results.BranchClean, whole[0].File.Branch)
	assert.Equal(t, results.BranchAdv, whole[1].File.Branch)

	out := filepath.Join(t.TempDir(), "cut")
	ctx, cancel := context.WithCancel(context.Background())
	batches := 0
	stop := func(branch string, batch int) {
		if batches++; branch == results.BranchAdv && batch == 0 {
			cancel()
		}
	}
	_, err = Run(ctx, spec(ckpt, out), Options{AfterBatch: stop})
	require.ErrorIs(t, err, rundir.ErrInterrupted)
	assert.Equal(t, 3+1, batches, "the clean branch's 3 batches, then one of the adversarial branch")
	_, err = os.Stat(filepath.Join(out, ".adv.json.partial"))
	require.NoError(t, err, "the state of the interrupted branch is saved")

	resumed := 0
	again, err := Run(context.Background(), spec(ckpt, out), Options{AfterBatch: func(string, int) { resumed++ }})
	require.NoError(t, err)
	assert.Equal(t, 2, resumed, "only the adversarial branch's remaining 2 batches are computed")
	assert.True(t, again[0].Reused, "the finished clean branch is reused")
	for i := range whole {
		assert.Equal(t, withoutTime(whole[i].File), withoutTime(again[i].File), whole[i].File.Branch)
		back, err := results.Read(again[i].Path)
		require.NoError(t, err)
		assert.Equal(t, withoutTime(again[i].File), withoutTime(back), "the file holds what was returned")
	}
	_, err = os.Stat(filepath.Join(out, ".adv.json.partial"))
	assert.True(t, os.IsNotExist(err), "the saved state is removed once the result is written")

	f := whole[1].File
	assert.Equal(t, 40, f.Examples)
	assert.Equal(t, results.Schema, f.Schema)
	assert.Equal(t, "saauxbn", f.Model.Norm)
	assert.Equal(t, 2, f.Model.Branches)
	assert.Equal(t, 4, f.Checkpoint.Epoch)
	assert.Len(t, f.Checkpoint.SHA256, 64)
	assert.Contains(t, f.Data.Source, "builtin")
	assert.Equal(t, "eval", f.Mode)
	assert.Len(t, f.PerExample.Robust["fgsm"], 40)
	// In place of RA <= SA (true by construction): the checks a broken
	// attack or a masked model fails all pass on this run.
	require.NotEmpty(t, f.Checks)
	for _, c := range f.Checks {
		assert.True(t, c.OK, "%s: %s", c.Name, c.Detail)
	}
}

func TestEvaluationRefusals(t *testing.T) {
	ckpt := checkpointOf(t, "bn")
	out := t.TempDir()
	first, err := Run(context.Background(), spec(ckpt, out), Options{})
	require.NoError(t, err)
	require.Len(t, first, 1, "a single-branch network is evaluated once")
	assert.Equal(t, results.BranchShared, first[0].File.Branch)
	assert.Equal(t, filepath.Join(out, "shared.json"), first[0].Path)

	other := spec(ckpt, out)
	other.Seed = 6
	_, err = Run(context.Background(), other, Options{})
	assert.ErrorContains(t, err, "holds another evaluation")

	two := spec(checkpointOf(t, "auxbn"), filepath.Join(out, "one.json"))
	_, err = Run(context.Background(), two, Options{})
	var outFile *OutFileError
	require.ErrorAs(t, err, &outFile)
	assert.Equal(t, OutFileError{Out: filepath.Join(out, "one.json"), Branches: 2}, *outFile)
	assert.ErrorContains(t, err, "names one file, but 2 branches")
	assert.NotContains(t, err.Error(), "--", "no flag named: the command line adds its hint")

	bad := spec(ckpt, t.TempDir())
	bad.TestN = 5000
	_, err = Run(context.Background(), bad, Options{})
	assert.ErrorContains(t, err, "test-n 5000, the test set has 2000 images")

	_, err = Run(context.Background(), Spec{Target: t.TempDir()}, Options{})
	assert.ErrorContains(t, err, "not a run directory")
}

// TestSweep: the default grid 0, 2, 4, 8, 16 /255; at eps 0 robust accuracy
// is the standard accuracy of the same images; a second call reuses the
// file.
func TestSweep(t *testing.T) {
	ckpt := checkpointOf(t, "bn")
	out := t.TempDir()
	s := SweepSpec{Spec: Spec{Target: ckpt, Data: "builtin", TestN: 24, Batch: 12, Out: out}, Steps: 3}
	sweeps, err := Sweep(context.Background(), s, Options{})
	require.NoError(t, err)
	require.Len(t, sweeps, 1)
	require.Equal(t, filepath.Join(out, "sweep-shared.json"), sweeps[0].Path)
	assert.False(t, sweeps[0].Reused)
	sw, err := results.ReadSweep(sweeps[0].Path)
	require.NoError(t, err)
	assert.Equal(t, sw, sweeps[0].File, "the outcome holds what the file holds")
	require.Len(t, sw.Points, 5)
	assert.Equal(t, []string{"0/255", "2/255", "4/255", "8/255", "16/255"}, []string{sw.Points[0].Eps255, sw.Points[1].Eps255, sw.Points[2].Eps255, sw.Points[3].Eps255, sw.Points[4].Eps255})
	assert.Equal(t, "pgd-3", sw.Attack)
	assert.InDelta(t, 0.25, sw.StepRatio, 1e-12)
	ev, err := Run(context.Background(), Spec{Target: ckpt, Data: "builtin", TestN: 24, Batch: 12, Attacks: []string{"fgsm"}, Out: t.TempDir()}, Options{})
	require.NoError(t, err)
	assert.Equal(t, ev[0].File.SA, sw.Points[0].Accuracy, "eps 0 reproduces SA")
	calls := 0
	again, err := Sweep(context.Background(), s, Options{AfterBatch: func(string, int) { calls++ }})
	require.NoError(t, err)
	assert.Zero(t, calls, "reused")
	assert.True(t, again[0].Reused)
	assert.Equal(t, sw, again[0].File)
}

// TestScoredInEvaluationMode: a result's clean flags are the model's
// evaluation-mode predictions (running statistics), computed here from the
// model directly; an untrained BN network's training-mode predictions
// (batch statistics) differ, so an evaluation run in training mode fails.
func TestScoredInEvaluationMode(t *testing.T) {
	ckpt := checkpointOf(t, "bn")
	out, err := Run(context.Background(), Spec{Target: ckpt, Data: "builtin", TestN: 32, Batch: 32, Attacks: []string{"fgsm"}, Seed: 5, Out: filepath.Join(t.TempDir(), "r")}, Options{})
	require.NoError(t, err)
	require.Len(t, out, 1)
	data, err := source.Load(source.Spec{Path: source.Builtin}, cifar.Test)
	require.NoError(t, err)
	x := make([]float32, 32*cifar.ImageBytes)
	for i := range 32 {
		data.Float32(i, x[i*cifar.ImageBytes:(i+1)*cifar.ImageBytes])
	}
	m, _, err := resnet.Load(ckpt)
	require.NoError(t, err)
	predict := func(mode nn.Mode) []bool {
		z, err := m.Logits(x, nn.Clean, mode)
		require.NoError(t, err)
		ok := make([]bool, 32)
		for i := range ok {
			ok[i] = classify.Argmax(z[i*10:(i+1)*10]) == int(data.Labels[i])
		}
		return ok
	}
	eval, train := predict(nn.Eval), predict(nn.Train)
	require.NotEqual(t, eval, train, "the test needs a model whose two modes disagree")
	assert.Equal(t, eval, out[0].File.PerExample.CleanCorrect)
}
