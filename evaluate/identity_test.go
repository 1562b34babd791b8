package evaluate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/advbench/advbench/attack"
	"github.com/advbench/advbench/results"
	"github.com/advbench/advbench/rundir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fileState is a file's contents (their SHA-256) and modification time:
// unchanged when the file was reused rather than written again.
type fileState struct {
	sha256 string
	mtime  time.Time
}

func stateOf(t *testing.T, path string) fileState {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	st, err := os.Stat(path)
	require.NoError(t, err)
	h := sha256.Sum256(b)
	return fileState{hex.EncodeToString(h[:]), st.ModTime()}
}

// lightSpec is a small evaluation: 16 images, PGD-10 with its random
// start, seed 5.
func lightSpec(ckpt, out string, batch int) Spec {
	return Spec{Target: ckpt, Data: "builtin", TestN: 16, Batch: batch, Attacks: []string{"pgd-10"}, Seed: 5, Out: out}
}

// counter counts the batches an evaluation computes.
func counter(n *int) Options {
	return Options{AfterBatch: func(string, int) { *n++ }}
}

// TestSweepOfOtherStepsIsRefused: a sweep asked for with PGD-5 does not
// take a PGD-3 sweep's file for its own; the file is kept.
func TestSweepOfOtherStepsIsRefused(t *testing.T) {
	ckpt, out := checkpointOf(t, "bn"), t.TempDir()
	s := SweepSpec{Spec: Spec{Target: ckpt, Data: "builtin", TestN: 24, Batch: 12, Out: out}, Steps: 3}
	sweeps, err := Sweep(context.Background(), s, Options{})
	require.NoError(t, err)
	before := stateOf(t, sweeps[0].Path)

	s.Steps = 5
	calls := 0
	_, err = Sweep(context.Background(), s, counter(&calls))
	require.Error(t, err, "a PGD-3 sweep is not a PGD-5 sweep")
	assert.ErrorContains(t, err, sweeps[0].Path+" holds another evaluation: attack pgd-3 in the file, pgd-5 asked for")
	assert.Zero(t, calls)
	assert.Equal(t, before, stateOf(t, sweeps[0].Path), "the file is kept")
}

// TestSweepOfOtherGridIsNotOverwritten: a sweep of another grid (other
// eps values, or the same eps with another step) is refused before any
// attack runs, and the file of the first is kept.
func TestSweepOfOtherGridIsNotOverwritten(t *testing.T) {
	ckpt, out := checkpointOf(t, "bn"), t.TempDir()
	s := SweepSpec{Spec: Spec{Target: ckpt, Data: "builtin", TestN: 24, Batch: 12, Out: out}, Steps: 3}
	sweeps, err := Sweep(context.Background(), s, Options{})
	require.NoError(t, err)
	before := stateOf(t, sweeps[0].Path)

	grids := []struct {
		name string
		edit func(*SweepSpec)
		err  string
	}{
		{"fewer points", func(s *SweepSpec) { s.Eps = []float64{0, 8.0 / 255} },
			"attacks pgd-3 at 0/255, 2/255, 4/255, 8/255, 16/255 in the file, pgd-3 at 0/255, 8/255 asked for"},
		{"another last point", func(s *SweepSpec) { s.Eps = []float64{0, 2.0 / 255, 4.0 / 255, 8.0 / 255, 12.0 / 255} },
			"pgd-3 eps 16/255 in the file, 12/255 asked for"},
		{"another step", func(s *SweepSpec) { s.Options = &attack.Options{Eps: 8.0 / 255, Step: 1.0 / 255, Restarts: 1} },
			"pgd-3 step 0.50/255 in the file, 0.25/255 asked for"},
		{"another batch", func(s *SweepSpec) { s.Batch = 8 }, "batch size 12 in the file, 8 asked for"},
		{"another seed", func(s *SweepSpec) { s.Seed = 1 }, "seed 0 in the file, 1 asked for"},
	}
	for _, g := range grids {
		t.Run(g.name, func(t *testing.T) {
			other := s
			g.edit(&other)
			calls := 0
			_, err := Sweep(context.Background(), other, counter(&calls))
			assert.ErrorContains(t, err, sweeps[0].Path+" holds another evaluation: "+g.err)
			assert.Zero(t, calls, "nothing computed")
			assert.Equal(t, before, stateOf(t, sweeps[0].Path), "the file is kept")
		})
	}
}

// TestResultOfOtherBatchIsRefused: the attacks' random starts are drawn
// per batch, so a result of batch 16 is not the evaluation asked for at
// batch 8.
func TestResultOfOtherBatchIsRefused(t *testing.T) {
	ckpt, out := checkpointOf(t, "bn"), t.TempDir()
	first, err := Run(context.Background(), lightSpec(ckpt, out, 16), Options{})
	require.NoError(t, err)
	before := stateOf(t, first[0].Path)

	calls := 0
	outs, err := Run(context.Background(), lightSpec(ckpt, out, 8), counter(&calls))
	require.Error(t, err, "reused as %+v", outs)
	assert.ErrorContains(t, err, first[0].Path+" holds another evaluation: batch size 16 in the file, 8 asked for")
	assert.Zero(t, calls)
	assert.Equal(t, before, stateOf(t, first[0].Path))
}

// TestSavedStateOfOtherEvaluationNamesTheField: an interrupted evaluation's
// saved state is continued only by the same evaluation; another is refused
// by the same rule as a finished file, naming what differs.
func TestSavedStateOfOtherEvaluationNamesTheField(t *testing.T) {
	ckpt, out := checkpointOf(t, "bn"), t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Run(ctx, lightSpec(ckpt, out, 8), Options{AfterBatch: func(string, int) { cancel() }})
	require.ErrorIs(t, err, rundir.ErrInterrupted)
	pp := filepath.Join(out, ".shared.json.partial")
	before := stateOf(t, pp)

	other := lightSpec(ckpt, out, 8)
	other.Seed = 6
	_, err = Run(context.Background(), other, Options{})
	assert.ErrorContains(t, err, pp+" holds another evaluation: seed 5 in the file, 6 asked for")
	assert.Equal(t, before, stateOf(t, pp), "the saved state is kept")
}

// TestSameEvaluationIsReused: the same evaluation of the same weights
// (found by contents: here a copy under another name) is not computed
// again: its result and sweep files keep their contents and times.
func TestSameEvaluationIsReused(t *testing.T) {
	ckpt, out := checkpointOf(t, "bn"), t.TempDir()
	first, err := Run(context.Background(), lightSpec(ckpt, out, 8), Options{})
	require.NoError(t, err)
	s := SweepSpec{Spec: Spec{Target: ckpt, Data: "builtin", TestN: 12, Batch: 12, Out: out}, Steps: 2}
	sweeps, err := Sweep(context.Background(), s, Options{})
	require.NoError(t, err)
	result, sweep := stateOf(t, first[0].Path), stateOf(t, sweeps[0].Path)

	raw, err := os.ReadFile(ckpt)
	require.NoError(t, err)
	moved := filepath.Join(t.TempDir(), "renamed.safetensors")
	require.NoError(t, os.WriteFile(moved, raw, 0o644))
	calls := 0
	again, err := Run(context.Background(), lightSpec(moved, out, 8), counter(&calls))
	require.NoError(t, err)
	assert.True(t, again[0].Reused)
	s.Target = moved
	_, err = Sweep(context.Background(), s, counter(&calls))
	require.NoError(t, err)
	assert.Zero(t, calls, "nothing computed")
	assert.Equal(t, result, stateOf(t, first[0].Path))
	assert.Equal(t, sweep, stateOf(t, sweeps[0].Path))
	f, err := results.Read(first[0].Path)
	require.NoError(t, err)
	assert.Equal(t, ckpt, f.Checkpoint.Path, "the file still names the weights it was computed from")
}
