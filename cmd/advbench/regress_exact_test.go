package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/advbench/advbench/regress"
	"github.com/advbench/advbench/results"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRegressExact runs the exact layer on a reduced copy of the committed
// one (the BN and SaAuxBN fixtures, 16 images): --update writes the
// expected files, the same evaluation then matches them example by
// example, and one changed flag in an expected file fails the gate naming
// the fixture, branch, metric and example.
func TestRegressExact(t *testing.T) {
	src := filepath.Join("..", "..", "testdata", "baselines", "exact")
	m, err := regress.ReadExact(src)
	require.NoError(t, err)
	dir := t.TempDir()
	var keep []regress.ExactFixture
	for _, f := range m.Fixtures {
		if f.Name == "bn" || f.Name == "saauxbn" {
			b, err := os.ReadFile(filepath.Join(src, f.Checkpoint))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(dir, f.Checkpoint), b, 0o644))
			keep = append(keep, f)
		}
	}
	m.Fixtures, m.TestN = keep, 16
	b, err := json.Marshal(m)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, regress.ExactManifestFile), b, 0o644))

	code, out, stderr := runCLI(t, "regress", "--exact", dir)
	assert.Equal(t, exitUsage, code, out)
	assert.Contains(t, stderr, "--update")

	code, out, stderr = runCLI(t, "regress", "--exact", dir, "--update")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "wrote 3 expected result files")

	code, out, stderr = runCLI(t, "regress", "--exact", dir)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "PASS: exact layer: 12 per-example comparisons identical")

	p := regress.ExpectedPath(dir, "saauxbn", "adv")
	f, err := results.Read(p)
	require.NoError(t, err)
	f.PerExample.Robust["pgd-20"][5] = !f.PerExample.Robust["pgd-20"][5]
	require.NoError(t, results.Write(p, f))
	code, out, stderr = runCLI(t, "regress", "--exact", dir)
	assert.Equal(t, exitFailure, code, out)
	assert.Contains(t, stderr, "saauxbn (adv) pgd-20: 1 examples differ (first: [5])")
	assert.Contains(t, out, "DIFFERS (1)")

	code, _, stderr = runCLI(t, "regress", "--exact", dir, "--baseline", "x.json")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "not both")
}
