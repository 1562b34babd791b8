package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/advbench/advbench/results"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSmokeTrainEvalTables is the fresh-clone path: smoke training of the
// paper's four norms, evaluation of both branches, then both tables.
func TestSmokeTrainEvalTables(t *testing.T) {
	if testing.Short() {
		t.Skip("four smoke trainings skipped in -short")
	}
	base := t.TempDir()
	var dirs []string
	for _, norm := range []string{"bn", "modenorm", "auxbn", "saauxbn"} {
		dir := filepath.Join(base, norm)
		code, _, stderr := runCLI(t, "train", "--preset", "smoke", "--norm", norm, "--epochs", "1", "--out", dir)
		require.Equal(t, exitOK, code, stderr)
		code, out, stderr := runCLI(t, "eval", dir, "--test-n", "48", "--batch", "16", "--format", "json")
		require.Equal(t, exitOK, code, stderr)
		var files []results.File
		require.NoError(t, json.Unmarshal([]byte(out), &files))
		if norm == "bn" || norm == "modenorm" {
			require.Len(t, files, 1, norm)
			assert.Equal(t, results.BranchShared, files[0].Branch)
		} else {
			require.Len(t, files, 2, norm)
			assert.Equal(t, []string{"clean", "adv"}, []string{files[0].Branch, files[1].Branch})
		}
		for _, f := range files {
			assert.Equal(t, 48, f.Examples)
			assert.Equal(t, "smoke", f.Model.Preset)
			assert.Len(t, f.Attacks, 2)
		}
		dirs = append(dirs, dir)
	}
	// Run again: the results are found, not recomputed.
	code, out, stderr := runCLI(t, "eval", dirs[3], "--test-n", "48", "--batch", "16")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "(already there)")

	code, out, stderr = runCLI(t, append([]string{"eval", "tables", "--paper"}, dirs...)...)
	require.Equal(t, exitOK, code, stderr)
	for _, want := range []string{"Table 3: standard accuracy (%) of the clean branch", "Table 4", "SaAuxBN (clean)", "AuxBN (adv)", "ModeNorm", "PGD-20 (RA)", "(paper 44.93", "Preset smoke", "48 images"} {
		assert.Contains(t, out, want)
	}
	for _, format := range []string{"text", "markdown", "csv", "json", "latex"} {
		code, out, stderr := runCLI(t, append([]string{"eval", "tables", "--format", format}, dirs...)...)
		require.Equal(t, exitOK, code, "%s: %s", format, stderr)
		assert.Contains(t, out, "PGD-10", format)
	}

	// A result of another test-set size cannot share the table.
	other := filepath.Join(base, "other.json")
	code, _, stderr = runCLI(t, "eval", dirs[0], "--test-n", "32", "--batch", "16", "--out", other)
	require.Equal(t, exitOK, code, stderr)
	code, _, stderr = runCLI(t, "eval", "tables", dirs[3], other)
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, stderr, fmt.Sprintf("%s cannot share a table: test-set size 48 vs 32", other))
}

func TestEvalUsage(t *testing.T) {
	cases := []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"eval"}, exitUsage, "want one RUN_DIR or CHECKPOINT"},
		{[]string{"eval", "x", "--attacks", "pgd-7"}, exitUsage, `unknown attack "pgd-7"`},
		{[]string{"eval", "x", "--eps", "9/0"}, exitUsage, "--eps"},
		{[]string{"eval", "x", "--loss", "hinge"}, exitUsage, `--loss "hinge": want ce, cw or dlr`},
		{[]string{"eval", "x", "--loss", "dlr-t"}, exitUsage, `--loss "dlr-t"`},
		{[]string{"eval", "x", "--restarts", "-1"}, exitUsage, "--restarts"},
		{[]string{"eval", "x", "--attacks", "aa,pgd-7"}, exitUsage, `unknown attack "pgd-7"`},
		{[]string{"eval", "/nonexistent"}, exitFailure, "no such file"},
		{[]string{"eval", "tables"}, exitUsage, "want result files"},
		{[]string{"eval", "tables", "--format", "xml", "x"}, exitUsage, `--format "xml"`},
	}
	for _, c := range cases {
		code, _, stderr := runCLI(t, c.args...)
		assert.Equal(t, c.code, code, "%v: %s", c.args, stderr)
		assert.Contains(t, stderr, c.err, "%v", c.args)
	}
	code, out, _ := runCLI(t, "eval", "--help")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "white-box on the evaluated branch")
	assert.Contains(t, out, "tables")
}

// TestEvalAutoAttackSuite: --attacks with AutoAttack attacks beside PGD,
// --loss and --restarts reach the result file; the pruned attacks' RA is
// cumulative (non-increasing, from SA on) and printed on stderr.
func TestEvalAutoAttackSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("a smoke training and an APGD evaluation skipped in -short")
	}
	dir := filepath.Join(t.TempDir(), "bn")
	code, _, stderr := runCLI(t, "train", "--preset", "smoke", "--norm", "bn", "--epochs", "1", "--out", dir)
	require.Equal(t, exitOK, code, stderr)
	prof := filepath.Join(t.TempDir(), "cpu.prof")
	code, out, stderr := runCLI(t, "eval", dir, "--test-n", "16", "--batch", "16", "--format", "json",
		"--attacks", "pgd-10,apgd-ce,apgd-t", "--loss", "cw", "--restarts", "2", "--eps", "2/255", "--cpuprofile", prof)
	require.Equal(t, exitOK, code, stderr)
	st, err := os.Stat(prof)
	require.NoError(t, err)
	assert.Greater(t, st.Size(), int64(0), "a CPU profile was written")
	var files []results.File
	require.NoError(t, json.Unmarshal([]byte(out), &files))
	require.Len(t, files, 1)
	f := files[0]
	require.Len(t, f.Attacks, 3)
	assert.Equal(t, []string{"cw", "ce", "dlr-t"}, []string{f.Attacks[0].Loss, f.Attacks[1].Loss, f.Attacks[2].Loss})
	assert.Equal(t, []int{2, 2, 2}, []int{f.Attacks[0].Restarts, f.Attacks[1].Restarts, f.Attacks[2].Restarts})
	assert.Equal(t, []bool{false, true, true}, []bool{f.Attacks[0].Pruned, f.Attacks[1].Pruned, f.Attacks[2].Pruned})
	assert.Equal(t, 9, f.Attacks[2].Targets)
	assert.LessOrEqual(t, f.Attacks[1].RA, f.SA)
	assert.LessOrEqual(t, f.Attacks[2].RA, f.Attacks[1].RA, "cumulative")
	assert.Contains(t, stderr, fmt.Sprintf("cumulative RA: SA %.2f%% -> apgd-ce %.2f%% -> apgd-t %.2f%%", 100*f.SA, 100*f.Attacks[1].RA, 100*f.Attacks[2].RA))
}
