package evaluate

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/advbench/advbench/results"
	"github.com/advbench/advbench/rundir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestForceReplaces: with Force, a result and a sweep of another
// evaluation are recomputed and replaced, and a saved state of another
// evaluation is started over rather than continued.
func TestForceReplaces(t *testing.T) {
	ckpt, out := checkpointOf(t, "bn"), t.TempDir()
	light := func(out string, batch int) Spec { return lightSpec(ckpt, out, batch) }
	_, err := Run(context.Background(), light(out, 8), Options{})
	require.NoError(t, err)
	_, err = Run(context.Background(), light(out, 4), Options{})
	var refused *results.OtherEvaluationError
	require.ErrorAs(t, err, &refused)
	assert.Equal(t, filepath.Join(out, "shared.json"), refused.Path)
	assert.Equal(t, "batch size", refused.Field)

	calls := 0
	o := counter(&calls)
	o.Force = true
	forced, err := Run(context.Background(), light(out, 4), o)
	require.NoError(t, err)
	assert.Equal(t, 4, calls, "16 images in batches of 4, computed")
	assert.False(t, forced[0].Reused)
	back, err := results.Read(filepath.Join(out, "shared.json"))
	require.NoError(t, err)
	assert.Equal(t, 4, back.Batch, "the file now holds the forced evaluation")

	// A saved state of another evaluation (seed 5, one batch done) is
	// started over by seed 6: both batches are computed.
	ctx, cancel := context.WithCancel(context.Background())
	cut := t.TempDir()
	_, err = Run(ctx, light(cut, 8), Options{AfterBatch: func(string, int) { cancel() }})
	require.ErrorIs(t, err, rundir.ErrInterrupted)
	seed6 := light(cut, 8)
	seed6.Seed = 6
	calls = 0
	_, err = Run(context.Background(), seed6, o)
	require.NoError(t, err)
	assert.Equal(t, 2, calls, "started over, not continued from seed 5's batch")
	got, err := results.Read(filepath.Join(cut, "shared.json"))
	require.NoError(t, err)
	assert.Equal(t, uint64(6), got.Seed)

	// A sweep of other steps is replaced.
	s := SweepSpec{Spec: Spec{Target: ckpt, Data: "builtin", TestN: 12, Batch: 12, Out: out}, Steps: 1}
	_, err = Sweep(context.Background(), s, Options{})
	require.NoError(t, err)
	s.Steps = 2
	sweeps, err := Sweep(context.Background(), s, Options{Force: true})
	require.NoError(t, err)
	assert.False(t, sweeps[0].Reused)
	sw, err := results.ReadSweep(sweeps[0].Path)
	require.NoError(t, err)
	assert.Equal(t, "pgd-2", sw.Attack)
	assert.Equal(t, 2, sw.Points[4].Steps)
	assert.InDelta(t, 4.0/255, sw.Points[4].Step, 1e-15, "16/255 at the step 1/4 of eps")
}

// TestGradStatsFileReuse: gradient statistics are written to the
// target's results/gradstats.json; the same analysis is reused (the file
// untouched), another (more images, another batch, another attack mode)
// refused before any attack runs, and replaced with Force.
func TestGradStatsFileReuse(t *testing.T) {
	ckpt := checkpointOf(t, "saauxbn")
	s := GradSpec{Target: ckpt, Data: "builtin", N: 8, Batch: 4, Steps: 1, Seed: 2}
	first, err := GradStats(context.Background(), s, Options{})
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(filepath.Dir(ckpt), "results", rundir.GradStatsFile), first.Path)
	assert.False(t, first.Reused)
	assert.Equal(t, 8, first.File.Examples)
	before := stateOf(t, first.Path)

	again, err := GradStats(context.Background(), s, Options{})
	require.NoError(t, err)
	assert.True(t, again.Reused)
	assert.Equal(t, before, stateOf(t, first.Path), "reused, not written again")

	for _, c := range []struct {
		edit       func(*GradSpec)
		field      string
		have, want any
	}{
		{func(g *GradSpec) { g.N = 12 }, "test images", 8, 12},
		{func(g *GradSpec) { g.Batch = 8 }, "batch size", 4, 8},
		{func(g *GradSpec) { g.AttackMode = "eval" }, "mode", "train", "eval"},
		{func(g *GradSpec) { g.Steps = 2 }, "attack", "pgd-1", "pgd-2"},
	} {
		other := s
		c.edit(&other)
		path, err := CheckGradStats(other, Options{})
		assert.Equal(t, first.Path, path)
		var refused *results.OtherEvaluationError
		require.ErrorAs(t, err, &refused, c.field)
		assert.Equal(t, c.field, refused.Field)
		assert.Equal(t, c.have, refused.Have, c.field)
		assert.Equal(t, c.want, refused.Want, c.field)
		_, err = GradStats(context.Background(), other, Options{})
		assert.ErrorAs(t, err, &refused, c.field)
		assert.Equal(t, before, stateOf(t, first.Path), "%s: the file is kept", c.field)
	}

	s.N = 12
	forced, err := GradStats(context.Background(), s, Options{Force: true})
	require.NoError(t, err)
	assert.False(t, forced.Reused)
	back, err := results.ReadGradStats(first.Path)
	require.NoError(t, err)
	assert.Equal(t, 12, back.Examples)
	assert.Equal(t, 3, back.Batches, "12 images in batches of 4")
}

// TestEveryJobInterrupted: an evaluation, a sweep and gradient statistics
// stopped by their context all return the one interrupt error
// (rundir.ErrInterrupted), which the command line maps to exit 130, and
// leave no result file behind.
func TestEveryJobInterrupted(t *testing.T) {
	ckpt := checkpointOf(t, "bn")
	stopped, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		name string
		run  func(out string) error
		file string
	}{
		{"eval", func(out string) error { _, err := Run(stopped, lightSpec(ckpt, out, 8), Options{}); return err }, "shared.json"},
		{"sweep", func(out string) error {
			_, err := Sweep(stopped, SweepSpec{Spec: Spec{Target: ckpt, Data: "builtin", TestN: 8, Batch: 8, Out: out}, Steps: 1}, Options{})
			return err
		}, "sweep-shared.json"},
		{"gradstats", func(out string) error {
			_, err := GradStats(stopped, GradSpec{Target: ckpt, Data: "builtin", N: 8, Batch: 4, Steps: 1, Out: filepath.Join(out, "gradstats.json")}, Options{})
			return err
		}, "gradstats.json"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := t.TempDir()
			err := c.run(out)
			require.ErrorIs(t, err, rundir.ErrInterrupted)
			assert.NoFileExists(t, filepath.Join(out, c.file))
		})
	}
}
