package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/advbench/advbench/landscape"
	"github.com/advbench/advbench/models/resnet"
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
	code, _, stderr = runCLI(t, "train", "--preset", "smoke", "--epochs", "1", "--train-n", "128", "--val-n", "16", "--test-n", "16", "--landscape-every", "1", "--out", dir)
	require.Equal(t, exitOK, code, stderr)
	rec, err := train.ReadRecord(dir)
	require.NoError(t, err)
	assert.Equal(t, 1, rec.Config.LandscapeEvery)
	lines, err := landscape.ReadFile(rundir.Dir(dir).Landscape())
	require.NoError(t, err)
	require.Len(t, lines, 2, "128 images in batches of 64, every step probed")
	assert.Equal(t, []int{0, 1}, []int{lines[0].GlobalStep, lines[1].GlobalStep})

	figs := filepath.Join(t.TempDir(), "figs")
	code, out, stderr := runCLI(t, "plot", dir, "--out", figs)
	require.Equal(t, exitOK, code, stderr)
	for _, name := range []string{"landscape-loss", "landscape-gradchange", "landscape-beta", "landscape-distance"} {
		assert.Contains(t, out, filepath.Join(figs, name+".png"))
	}
}

// TestLandscapeCommand: the command probes a checkpoint outside a run on
// the named data into results/ beside it, prints a row per batch and pass,
// and refuses to replace its file without --force (usage error naming it).
func TestLandscapeCommand(t *testing.T) {
	code, out, _ := runCLI(t, "landscape", "--help")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "Examples:\n     advbench landscape runs/saauxbn-advprop-quick-s1")
	assert.Contains(t, out, "{0.25, 0.5, 1, 2, 4} x lr")

	m, err := resnet.New(resnet.Config{Norm: "auxbn", Width: 1.0 / 16, Seed: 7})
	require.NoError(t, err)
	ckpt := filepath.Join(t.TempDir(), "model.safetensors")
	require.NoError(t, m.Save(ckpt, nil, nil))
	args := []string{"landscape", ckpt, "--data", "builtin", "--batches", "2", "--batch", "4", "--steps", "1"}
	code, out, stderr := runCLI(t, args...)
	require.Equal(t, exitOK, code, stderr)
	path := filepath.Join(filepath.Dir(ckpt), "results", "landscape-model.jsonl")
	assert.Contains(t, stderr, "landscape: wrote "+path)
	lines, err := landscape.ReadFile(path)
	require.NoError(t, err)
	require.Len(t, lines, 2)
	assert.Equal(t, 2, strings.Count(out, " clean "), out)
	assert.Equal(t, 2, strings.Count(out, " adversarial "), out)
	assert.Contains(t, out, "lr 0.1: step sizes [0.025 0.05 0.1 0.2 0.4]")

	code, _, stderr = runCLI(t, args...)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "landscape: "+path+" exists; give --force to replace it")
	code, _, stderr = runCLI(t, "landscape", ckpt, "--data", "builtin", "--batches", "0")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "--batches 0: want at least 1")
}
