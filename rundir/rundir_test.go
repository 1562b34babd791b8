package rundir

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLayout spells every path of a run directory as docs/training.md documents
// it; the expectations are literals, not the constants.
func TestLayout(t *testing.T) {
	d := Dir(filepath.Join("runs", "bn-s1"))
	for _, c := range []struct{ got, want string }{
		{d.Config(), "runs/bn-s1/config.json"},
		{d.Log(), "runs/bn-s1/log.jsonl"},
		{d.Landscape(), "runs/bn-s1/landscape.jsonl"},
		{d.CheckpointLandscape(BestFile), "runs/bn-s1/results/landscape-best.jsonl"},
		{d.CheckpointLandscape("runs/bn-s1/checkpoints/epoch-007.safetensors"), "runs/bn-s1/results/landscape-epoch-007.jsonl"},
		{filepath.Join(ResultsBeside("models/x.safetensors"), CheckpointLandscapeFile("models/x.safetensors")), "models/results/landscape-x.jsonl"},
		{d.Seen(), "runs/bn-s1/seen-images.fp64"},
		{d.Checkpoints(), "runs/bn-s1/checkpoints"},
		{d.Checkpoint(LastFile), "runs/bn-s1/checkpoints/last.safetensors"},
		{d.Checkpoint(BestFile), "runs/bn-s1/checkpoints/best.safetensors"},
		{d.Checkpoint(EpochFile(7)), "runs/bn-s1/checkpoints/epoch-007.safetensors"},
		{d.Checkpoint(EpochFile(190)), "runs/bn-s1/checkpoints/epoch-190.safetensors"},
		{d.Results(), "runs/bn-s1/results"},
		{d.Result("adv"), "runs/bn-s1/results/adv.json"},
		{d.Sweep("clean"), "runs/bn-s1/results/sweep-clean.json"},
		{d.GradStats(), "runs/bn-s1/results/gradstats.json"},
		{ResultsBeside("models/x.safetensors"), "models/results"},
		{Plan("repro-quick"), "repro-quick/plan.json"},
	} {
		assert.Equal(t, filepath.FromSlash(c.want), c.got)
	}
}

// TestCheckpointName resolves every spelling of a selection, and refuses
// what names no checkpoint with a *SelectError.
func TestCheckpointName(t *testing.T) {
	for _, c := range []struct{ sel, want string }{
		{"", "last.safetensors"},
		{"last", "last.safetensors"},
		{"best", "best.safetensors"},
		{"reference", "epoch-190.safetensors"},
		{"epoch-5", "epoch-005.safetensors"},
		{"epoch-020", "epoch-020.safetensors"},
		{"epoch-1234", "epoch-1234.safetensors"},
	} {
		t.Run(c.sel, func(t *testing.T) {
			got, err := CheckpointName(c.sel)
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
			p, err := Dir("run").Select(c.sel)
			require.NoError(t, err)
			assert.Equal(t, filepath.Join("run", "checkpoints", c.want), p)
		})
	}
	for _, sel := range []string{"latest", "epoch-", "epoch-x", "Best", "190"} {
		t.Run(sel, func(t *testing.T) {
			_, err := CheckpointName(sel)
			var se *SelectError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, sel, se.Select)
			assert.EqualError(t, err, `rundir: checkpoint "`+sel+`": want last, best, reference or epoch-NNN`)
			_, err = Dir("run").Select(sel)
			assert.ErrorAs(t, err, &se)
		})
	}
}

// TestResultKinds tells a results directory's entries apart.
func TestResultKinds(t *testing.T) {
	for _, c := range []struct {
		name          string
		result, sweep bool
	}{
		{"clean.json", true, false},
		{"adv-best.json", true, false},
		{"sweep-adv.json", false, true},
		{"gradstats.json", false, false},
		{"landscape-last.jsonl", false, false},
		{".adv.json.partial", false, false},
		{"notes.txt", false, false},
	} {
		assert.Equal(t, c.result, IsResultFile(c.name), c.name)
		assert.Equal(t, c.sweep, IsSweepFile(c.name), c.name)
	}
}

// TestContaining finds the run of a checkpoint by the layout alone.
func TestContaining(t *testing.T) {
	d, ok := Containing(filepath.FromSlash("runs/bn-s1/checkpoints/best.safetensors"))
	require.True(t, ok)
	assert.Equal(t, Dir(filepath.FromSlash("runs/bn-s1")), d)
	_, ok = Containing(filepath.FromSlash("models/best.safetensors"))
	assert.False(t, ok)
}
