package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/advbench/advbench/models/resnet"
	"github.com/advbench/advbench/reports"
	"github.com/advbench/advbench/train"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeRun writes a run directory of the smoke preset without training it:
// config.json, no seen images, and an untrained last checkpoint.
func fakeRun(t *testing.T, dir, norm, objective string, seed uint64) string {
	t.Helper()
	cfg, err := train.Preset("smoke")
	require.NoError(t, err)
	cfg.Norm, cfg.Objective, cfg.Seed = norm, objective, seed
	require.NoError(t, cfg.Validate())
	run := filepath.Join(dir, fmt.Sprintf("%s-%s-s%d", norm, objective, seed))
	require.NoError(t, os.MkdirAll(filepath.Join(run, "checkpoints"), 0o755))
	rec, err := json.Marshal(train.Record{Version: "test", Config: cfg, Data: train.DataInfo{Source: "builtin", SHA256: "00"}})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(run, "config.json"), rec, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(run, "seen-images.fp64"), nil, 0o644))
	m, err := resnet.New(resnet.Config{Norm: norm, Width: cfg.Width, Seed: seed})
	require.NoError(t, err)
	require.NoError(t, m.Save(filepath.Join(run, "checkpoints", "last.safetensors"), nil, map[string]string{"epoch": "1"}))
	return run
}

// TestGradstatsColumnsAreModels: gradient statistics are labelled by one
// rule in gradstats and reproduce: a column per norm and objective, the
// seeds of a model pooled in it; runs of one norm and seed but different
// objectives are two columns, never one.
func TestGradstatsColumnsAreModels(t *testing.T) {
	dir := t.TempDir()
	a1 := fakeRun(t, dir, "bn", "advprop", 1)
	c1 := fakeRun(t, dir, "bn", "clean", 1)
	a2 := fakeRun(t, dir, "bn", "advprop", 2)
	code, stdout, stderr := runCLI(t, "gradstats", a1, c1, a2, "--n", "8", "--batch", "4", "--steps", "1", "--format", "json")
	require.Equal(t, exitOK, code, stderr)
	var rep reports.GradReport
	require.NoError(t, json.Unmarshal([]byte(stdout), &rep))
	assert.Equal(t, []string{"BN advprop", "BN clean"}, rep.Columns)
	assert.Contains(t, rep.Caption, "over the seeds' means for several")
}
