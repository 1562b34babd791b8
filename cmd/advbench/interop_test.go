package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/advbench/advbench/interop"
	"github.com/advbench/advbench/results"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var fixtures = filepath.Join("..", "..", "interop", "testdata")

// TestImportExportEvalForeign: a reference torch.save file is imported,
// exported back with the reference names, and evaluated directly with
// eval --checkpoint, with the same numbers as its import.
func TestImportExportEvalForeign(t *testing.T) {
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "auxbn.safetensors")
	code, out, stderr := runCLI(t, "import", filepath.Join(fixtures, "auxbn.pt"), "--norm", "auxbn", "--width", "0.0625", "--out", ckpt)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "imported")
	code, _, stderr = runCLI(t, "import", filepath.Join(fixtures, "auxbn.pt"), "--norm", "auxbn", "--width", "0.0625", "--out", ckpt)
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, stderr, "exists: remove it or choose another --out")

	exported := filepath.Join(dir, "exported.safetensors")
	code, _, stderr = runCLI(t, "export", ckpt, "--out", exported)
	require.Equal(t, exitOK, code, stderr)
	sd, err := interop.Read(exported)
	require.NoError(t, err)
	orig, err := interop.Read(filepath.Join(fixtures, "auxbn.pt"))
	require.NoError(t, err)
	assert.ElementsMatch(t, orig.Names, sd.Names, "the reference state dict's names")

	var a, b []results.File
	code, _, stderr = runCLI(t, "eval", ckpt, "--test-n", "24", "--out", filepath.Join(dir, "nodata"))
	assert.Equal(t, exitUsage, code, "a checkpoint outside a run names its test data")
	assert.Contains(t, stderr, "--data builtin")
	code, out, stderr = runCLI(t, "eval", ckpt, "--data", "builtin", "--test-n", "24", "--batch", "12", "--attacks", "fgsm", "--format", "json", "--out", filepath.Join(dir, "imported"))
	require.Equal(t, exitOK, code, stderr)
	require.NoError(t, json.Unmarshal([]byte(out), &a))
	code, out, stderr = runCLI(t, "eval", "--checkpoint", filepath.Join(fixtures, "auxbn.pt"), "--norm", "auxbn", "--width", "0.0625", "--data", "builtin",
		"--test-n", "24", "--batch", "12", "--attacks", "fgsm", "--format", "json", "--out", filepath.Join(dir, "direct"))
	require.Equal(t, exitOK, code, stderr)
	require.NoError(t, json.Unmarshal([]byte(out), &b))
	require.Len(t, b, 2)
	for i := range a {
		assert.Equal(t, a[i].PerExample, b[i].PerExample, "the same model either way")
	}
	assert.Equal(t, "imported (pytorch)", b[0].Model.Objective)

	code, _, stderr = runCLI(t, "eval", "--checkpoint", filepath.Join(fixtures, "auxbn.pt"), "--norm", "auxbn", "--width", "0.25", "--test-n", "8")
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, stderr, "width 0.0625, not 0.25")
	code, _, stderr = runCLI(t, "eval", "--checkpoint", filepath.Join(fixtures, "auxbn.pt"))
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "--checkpoint needs --norm")
}
