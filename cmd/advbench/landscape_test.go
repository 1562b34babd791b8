package main

import (
	"path/filepath"
	"testing"

	"github.com/advbench/advbench/landscape"
	"github.com/advbench/advbench/rundir"
	"github.com/advbench/advbench/train"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTrainLandscapeEvery: --landscape-every sets the run's interval,
// recorded in config.json, and the run writes one landscape line per probed
// step; a negative interval is a usage error naming the flag.
func TestTrainLandscapeEvery(t *testing.T) {
	code, _, stderr := runCLI(t, "train", "--preset", "smoke", "--landscape-every", "-1", "--out", filepath.Join(t.TempDir(), "x"))
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "--landscape-every: train: landscape interval -1 must not be negative")

	dir := filepath.Join(t.TempDir(), "run")
	code, _, stderr = runCLI(t, "train", "--preset", "smoke", "--epochs", "1", "--train-n", "128", "--landscape-every", "1", "--out", dir)
	require.Equal(t, exitOK, code, stderr)
	rec, err := train.ReadRecord(dir)
	require.NoError(t, err)
	assert.Equal(t, 1, rec.Config.LandscapeEvery)
	lines, err := landscape.ReadFile(rundir.Dir(dir).Landscape())
	require.NoError(t, err)
	require.Len(t, lines, 2, "128 images in batches of 64, every step probed")
	assert.Equal(t, []int{0, 1}, []int{lines[0].GlobalStep, lines[1].GlobalStep})
}
