package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/advbench/advbench/internal/runlock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoOverwriteWithoutForce: commands that write named files refuse to
// replace an existing one unless --force, and leave it as it was.
func TestNoOverwriteWithoutForce(t *testing.T) {
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "auxbn.safetensors")
	code, _, stderr := runCLI(t, "import", filepath.Join(fixtures, "auxbn.pt"), "--norm", "auxbn", "--width", "0.0625", "--out", ckpt)
	require.Equal(t, exitOK, code, stderr)
	before, err := os.ReadFile(ckpt)
	require.NoError(t, err)

	synthDir := filepath.Join(dir, "cifar")
	code, _, stderr = runCLI(t, "data", "synth", "--out", synthDir, "--n-train", "5", "--n-test", "1")
	require.Equal(t, exitOK, code, stderr)
	sheet := filepath.Join(dir, "sheet.png")
	require.NoError(t, os.WriteFile(sheet, []byte("mine"), 0o644))
	exported := filepath.Join(dir, "exported.safetensors")
	require.NoError(t, os.WriteFile(exported, []byte("mine"), 0o644))

	cases := []struct {
		name string
		args []string
		kept string
	}{
		{"data synth", []string{"data", "synth", "--out", synthDir, "--n-train", "5", "--n-test", "2"}, filepath.Join(synthDir, "test_batch.bin")},
		{"data inspect --sheet", []string{"data", "inspect", "--sheet", sheet}, sheet},
		{"export over a file", []string{"export", ckpt, "--out", exported}, exported},
		{"export over its own checkpoint", []string{"export", ckpt, "--out", ckpt, "--force"}, ckpt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, err := os.ReadFile(c.kept)
			require.NoError(t, err)
			code, _, stderr := runCLI(t, c.args...)
			assert.Equal(t, exitUsage, code, stderr)
			assert.Contains(t, stderr, "--")
			got, err := os.ReadFile(c.kept)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(want, got), "%s is kept", c.kept)
		})
	}
	got, err := os.ReadFile(ckpt)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(before, got), "the exported checkpoint is kept")

	t.Run("--force replaces", func(t *testing.T) {
		code, _, stderr := runCLI(t, "export", ckpt, "--out", exported, "--force")
		assert.Equal(t, exitOK, code, stderr)
		code, _, stderr = runCLI(t, "data", "inspect", "--sheet", sheet, "--force")
		assert.Equal(t, exitOK, code, stderr)
		code, _, stderr = runCLI(t, "data", "synth", "--out", synthDir, "--n-train", "5", "--n-test", "2", "--force")
		assert.Equal(t, exitOK, code, stderr)
	})
}

// TestReproduceRefusesLockedOut: a second reproduction into the same
// output directory is refused, naming the process that holds it.
func TestReproduceRefusesLockedOut(t *testing.T) {
	out := filepath.Join(t.TempDir(), "repro")
	require.NoError(t, os.MkdirAll(out, 0o755))
	lock, err := runlock.Acquire(out)
	require.NoError(t, err)
	defer lock.Release()
	code, _, stderr := runCLI(t, "reproduce", "--preset", "smoke", "--norms", "bn", "--eval-n", "8", "--grad-n", "8", "--out", out)
	assert.Equal(t, exitFailure, code, stderr)
	assert.Contains(t, stderr, "process "+strconv.Itoa(os.Getpid()))
	_, err = os.Stat(filepath.Join(out, "bn-s1"))
	assert.True(t, os.IsNotExist(err), "no cell was started")
}

// TestReproduceValidatesBeforeWriting: a bad size is a usage error before
// anything is written, so the corrected command runs.
func TestReproduceValidatesBeforeWriting(t *testing.T) {
	for _, flag := range []string{"--eval-n", "--grad-n"} {
		t.Run(flag, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "repro")
			code, _, stderr := runCLI(t, "reproduce", "--preset", "smoke", "--norms", "bn", flag, "-1", "--out", out)
			assert.Equal(t, exitUsage, code, stderr)
			assert.Contains(t, stderr, flag+" -1")
			_, err := os.Stat(out)
			assert.True(t, os.IsNotExist(err), "nothing written")
		})
	}
}

// TestEmptyConfigRefused: a run directory whose config.json is {} is not
// taken as a configuration of zero values by any reader.
func TestEmptyConfigRefused(t *testing.T) {
	run := filepath.Join(t.TempDir(), "run")
	ckpt := filepath.Join(run, "checkpoints", "last.safetensors")
	require.NoError(t, os.MkdirAll(filepath.Dir(ckpt), 0o755))
	code, _, stderr := runCLI(t, "import", filepath.Join(fixtures, "auxbn.pt"), "--norm", "auxbn", "--width", "0.0625", "--out", ckpt)
	require.Equal(t, exitOK, code, stderr)
	require.NoError(t, os.WriteFile(filepath.Join(run, "config.json"), []byte("{}"), 0o644))
	for _, args := range [][]string{
		{"eval", run, "--test-n", "8"},
		{"eval", ckpt, "--test-n", "8"},
		{"export", run, "--out", filepath.Join(t.TempDir(), "x.safetensors")},
		{"gradstats", run, "--n", "8"},
		{"plot", run, "--out", t.TempDir()},
	} {
		t.Run(strings.Join(args[:2], " "), func(t *testing.T) {
			code, _, stderr := runCLI(t, args...)
			assert.Equal(t, exitFailure, code, stderr)
			assert.Contains(t, stderr, filepath.Join(run, "config.json")+": config.norm")
		})
	}
}

// TestUsageErrorsExit2NamingTheFlag: every bad flag value is a usage error
// (exit 2) whose message names the flag, before any file is read.
func TestUsageErrorsExit2NamingTheFlag(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	cases := []struct {
		args []string
		flag string
	}{
		{[]string{"eval", "x", "--test-n", "-1"}, "--test-n"},
		{[]string{"eval", "x", "--batch", "0"}, "--batch"},
		{[]string{"eval", "x", "--branch", "nosuch"}, "--branch"},
		{[]string{"eval", "x", "--select", "nosuch"}, "--select"},
		{[]string{"eval", "x", "--data", "/nonexistent"}, "--data"},
		{[]string{"eval", "x", "--attacks", "nosuch"}, "--attacks"},
		{[]string{"eval", "--checkpoint", "x.pt", "--norm", "bn", "--width", "1e9"}, "--width"},
		{[]string{"gradstats", "x", "--steps", "-1"}, "--steps"},
		{[]string{"gradstats", "x", "--batch", "0"}, "--batch"},
		{[]string{"gradstats", "x", "--select", "nosuch"}, "--select"},
		{[]string{"regress", "x"}, "baseline"},
		{[]string{"export", "x", "--out", "x.txt"}, "--out"},
		{[]string{"train", "--lr", "NaN", "--out", out}, "--lr"},
		{[]string{"train", "--width", "1e9", "--out", out}, "--width"},
		{[]string{"train", "--batch", "0", "--out", out}, "--batch"},
		{[]string{"data", "inspect", "--grid", "100000", "--sheet", filepath.Join(out, "s.png")}, "--grid"},
		{[]string{"data", "inspect", "--grid", "100", "--scale", "16", "--sheet", filepath.Join(out, "s.png")}, "--grid"},
		{[]string{"reproduce", "--eval-n", "-1", "--out", out}, "--eval-n"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, _, stderr := runCLI(t, c.args...)
			assert.Equal(t, exitUsage, code, stderr)
			assert.Contains(t, stderr, c.flag)
		})
	}
	_, err := os.Stat(out)
	assert.True(t, os.IsNotExist(err), "no usage error wrote anything")
}

// TestRunWithoutResults: rendering a run that was not evaluated says so and
// how to evaluate it, instead of calling its config.json a bad result file.
func TestRunWithoutResults(t *testing.T) {
	run := filepath.Join(t.TempDir(), "run")
	require.NoError(t, os.MkdirAll(run, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(run, "config.json"), []byte("{}"), 0o644))
	baseline := filepath.Join(t.TempDir(), "baseline.json")
	for _, args := range [][]string{{"eval", "tables", run}, {"regress", "--baseline", baseline, run}} {
		t.Run(args[0], func(t *testing.T) {
			code, _, stderr := runCLI(t, args...)
			assert.Equal(t, exitFailure, code, stderr)
			assert.Contains(t, stderr, "without results yet")
			assert.Contains(t, stderr, "advbench eval "+run)
		})
	}
}
