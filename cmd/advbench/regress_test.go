package main

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/advbench/advbench/norms"
	"github.com/advbench/advbench/results"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var registerStale sync.Once

// staleNorm is a deliberately broken SaAuxBN: its running statistics never
// move (momentum 1e-30 instead of 0.1), a classic bug that training does
// not notice and evaluation mode suffers from.
const staleNorm = "saauxbn-stale"

// TestRegressGate proves the gate bites and stays quiet: a baseline from a
// ci-preset SaAuxBN run; the same evaluation again passes; the same run
// with the broken norm shipped as saauxbn fails naming the metrics; results
// of another eps or test-set size cannot be compared (exit 2).
func TestRegressGate(t *testing.T) {
	if testing.Short() {
		t.Skip("two ci-preset trainings skipped in -short")
	}
	registerStale.Do(func() {
		norms.Register(staleNorm, "SaAuxBN whose running statistics never move (a test's broken norm)", func(c norms.Config) norms.Norm {
			c.Momentum = 1e-30
			n, err := norms.New("saauxbn", c)
			if err != nil {
				panic(err)
			}
			return n
		})
	})
	base := t.TempDir()
	good, broken := filepath.Join(base, "good"), filepath.Join(base, "broken")
	for dir, norm := range map[string]string{good: "saauxbn", broken: staleNorm} {
		code, _, stderr := runCLI(t, "train", "--preset", "ci", "--norm", norm, "--train-n", "1024", "--out", dir)
		require.Equal(t, exitOK, code, stderr)
		code, _, stderr = runCLI(t, "eval", dir, "--test-n", "100")
		require.Equal(t, exitOK, code, stderr)
	}
	baseline := filepath.Join(base, "baseline.json")
	code, out, stderr := runCLI(t, "regress", "--update", "--baseline", baseline, good)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "6 metrics from 2 result files")

	again := filepath.Join(base, "again")
	code, _, stderr = runCLI(t, "eval", good, "--test-n", "100", "--out", again)
	require.Equal(t, exitOK, code, stderr)
	code, out, stderr = runCLI(t, "regress", "--baseline", baseline, again)
	assert.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "PASS: 6 metrics, 0 regressions")

	// The broken implementation ships under saauxbn's name.
	for _, b := range []string{"clean", "adv"} {
		p := filepath.Join(broken, "results", b+".json")
		f, err := results.Read(p)
		require.NoError(t, err)
		f.Model.Norm = "saauxbn"
		require.NoError(t, results.Write(p, f))
	}
	code, out, stderr = runCLI(t, "regress", "--baseline", baseline, broken, "--format", "markdown")
	assert.Equal(t, exitFailure, code, out)
	assert.Contains(t, stderr, "metrics failed the gate")
	assert.Contains(t, stderr, "SaAuxBN (adv) SA:")
	assert.Contains(t, stderr, "SaAuxBN (clean) SA:")
	assert.Contains(t, out, "**regression**")

	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--eps", "4/255", "--test-n", "100"}, "pgd-10 eps 8/255 in the baseline, 4/255 here"},
		{[]string{"--test-n", "50"}, "test-set size 100 in the baseline, 50 here"},
	} {
		dir := filepath.Join(base, "other", c.args[1])
		require.NoError(t, os.MkdirAll(dir, 0o755))
		code, _, stderr := runCLI(t, append([]string{"eval", good, "--out", dir}, c.args...)...)
		require.Equal(t, exitOK, code, stderr)
		code, _, stderr = runCLI(t, "regress", "--baseline", baseline, dir)
		assert.Equal(t, exitUsage, code, stderr)
		assert.Contains(t, stderr, c.msg)
	}
}
