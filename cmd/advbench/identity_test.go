package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/advbench/advbench/models/resnet"
	"github.com/advbench/advbench/results"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tinyCheckpoint saves an untrained width-1/16 network of a norm into dir
// (a checkpoint outside any run: evaluated with --data builtin).
func tinyCheckpoint(t *testing.T, dir, norm string) string {
	t.Helper()
	m, err := resnet.New(resnet.Config{Norm: norm, Width: 1.0 / 16, Seed: 3})
	require.NoError(t, err)
	path := filepath.Join(dir, norm+".safetensors")
	require.NoError(t, m.Save(path, nil, map[string]string{"epoch": "1"}))
	return path
}

// written is a file's contents (their SHA-256) and modification time.
type written struct {
	sha256 string
	mtime  time.Time
}

func writtenOf(t *testing.T, path string) written {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	st, err := os.Stat(path)
	require.NoError(t, err)
	h := sha256.Sum256(b)
	return written{hex.EncodeToString(h[:]), st.ModTime()}
}

// TestSweepGridRefusedBeforeWork: a sweep whose step ratio or grid is
// unusable exits 2 naming the flag and its value, before any attack runs
// and before anything is written.
func TestSweepGridRefusedBeforeWork(t *testing.T) {
	ckpt := tinyCheckpoint(t, t.TempDir(), "bn")
	base := []string{"eval", ckpt, "--data", "builtin", "--sweep", "--test-n", "8", "--batch", "8", "--sweep-steps", "1"}
	cases := []struct {
		name string
		args []string
		err  string
	}{
		{"eps 0", []string{"--eps", "0"}, `--eps "0": attack: sweep eps 0: want eps in (0, 1]`},
		{"step 0", []string{"--step", "0"}, `--step "0": attack: sweep step 0: want a positive step`},
		{"unsorted grid", []string{"--sweep-eps", "0,8,4"}, `--sweep-eps "0,8,4": attack: sweep grid 4/255: follows 8/255`},
		{"repeated eps", []string{"--sweep-eps", "0,4,4"}, `--sweep-eps "0,4,4": attack: sweep grid 4/255: follows 4/255`},
		{"negative eps", []string{"--sweep-eps", "-2,4"}, `--sweep-eps "-2,4"`},
		{"no steps", []string{"--sweep-steps", "0"}, `--sweep-steps 0`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			code, _, stderr := runCLI(t, append(base, c.args...)...)
			assert.Equal(t, exitUsage, code, stderr)
			assert.Contains(t, stderr, c.err)
			_, err := os.Stat(filepath.Join(filepath.Dir(ckpt), "results"))
			assert.True(t, os.IsNotExist(err), "nothing written")
			assert.Less(t, time.Since(start), 2*time.Second, "refused before the sweep ran")
		})
	}
}

// TestEvalRefusesAnotherEvaluationWithoutForce: a result file of another
// evaluation (here another batch size, which moves the random starts) is
// refused with exit 2 naming the file, the setting and --force, and kept;
// --force replaces it.
func TestEvalRefusesAnotherEvaluationWithoutForce(t *testing.T) {
	ckpt := tinyCheckpoint(t, t.TempDir(), "bn")
	out := filepath.Join(t.TempDir(), "r.json")
	args := []string{"eval", ckpt, "--data", "builtin", "--test-n", "8", "--attacks", "fgsm", "--out", out}
	code, _, stderr := runCLI(t, append(args, "--batch", "8")...)
	require.Equal(t, exitOK, code, stderr)
	before := writtenOf(t, out)

	code, stdout, stderr := runCLI(t, append(args, "--batch", "8")...)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "(already there)")
	assert.Equal(t, before, writtenOf(t, out), "reused, not written again")

	code, _, stderr = runCLI(t, append(args, "--batch", "4")...)
	assert.Equal(t, exitUsage, code, stderr)
	assert.Contains(t, stderr, out+" holds another evaluation: batch size 8 in the file, 4 asked for; give --force")
	assert.Equal(t, before, writtenOf(t, out), "kept")

	code, _, stderr = runCLI(t, append(args, "--batch", "4", "--force")...)
	require.Equal(t, exitOK, code, stderr)
	f, err := results.Read(out)
	require.NoError(t, err)
	assert.Equal(t, 4, f.Batch)
}

// TestGradstatsReusesAndRefuses: the gradstats command reuses a file of
// the same analysis, refuses one of another (exit 2, naming the file, the
// setting and --force) before computing any target, and replaces it with
// --force.
func TestGradstatsReusesAndRefuses(t *testing.T) {
	dir := t.TempDir()
	ckpt := tinyCheckpoint(t, dir, "saauxbn")
	path := filepath.Join(dir, "results", "gradstats.json")
	args := []string{"gradstats", ckpt, "--data", "builtin", "--batch", "4", "--steps", "1", "--format", "csv"}
	code, _, stderr := runCLI(t, append(args, "--n", "8")...)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "wrote "+path)
	before := writtenOf(t, path)

	code, _, stderr = runCLI(t, append(args, "--n", "8")...)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, path+" already there")
	assert.Equal(t, before, writtenOf(t, path), "reused, not written again")

	code, _, stderr = runCLI(t, append(args, "--n", "12")...)
	assert.Equal(t, exitUsage, code, stderr)
	assert.Contains(t, stderr, path+" holds another evaluation: test images 8 in the file, 12 asked for; give --force")
	assert.Equal(t, before, writtenOf(t, path), "kept")

	// Every target is checked first: a second target of another analysis
	// stops the command before the first is computed.
	dir2 := t.TempDir()
	fresh := tinyCheckpoint(t, dir2, "auxbn")
	flags := []string{"--data", "builtin", "--batch", "4", "--steps", "1", "--format", "csv"}
	code, _, stderr = runCLI(t, append([]string{"gradstats", fresh, ckpt, "--n", "12"}, flags...)...)
	assert.Equal(t, exitUsage, code, stderr)
	_, err := os.Stat(filepath.Join(dir2, "results"))
	assert.True(t, os.IsNotExist(err), "the first target was not computed")

	// Two targets whose statistics share one file.
	twin := tinyCheckpoint(t, dir, "bn")
	code, _, stderr = runCLI(t, append([]string{"gradstats", ckpt, twin, "--n", "8", "--force"}, flags...)...)
	assert.Equal(t, exitUsage, code, stderr)
	assert.Contains(t, stderr, "would both write "+path)

	code, _, stderr = runCLI(t, append(args, "--n", "12", "--force")...)
	require.Equal(t, exitOK, code, stderr)
	g, err := results.ReadGradStats(path)
	require.NoError(t, err)
	assert.Equal(t, 12, g.Examples)
}

// TestSweepSaysWhenReused: eval --sweep reports a reused sweep as eval and
// gradstats report theirs: the table names the file "(already there)",
// and the file is not written again.
func TestSweepSaysWhenReused(t *testing.T) {
	dir := t.TempDir()
	ckpt := tinyCheckpoint(t, dir, "bn")
	path := filepath.Join(dir, "results", "sweep-shared.json")
	args := []string{"eval", ckpt, "--data", "builtin", "--sweep", "--test-n", "8", "--batch", "8", "--sweep-steps", "1", "--sweep-eps", "0,8"}
	code, stdout, stderr := runCLI(t, args...)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, path)
	assert.NotContains(t, stdout, "(already there)")
	before := writtenOf(t, path)

	code, stdout, stderr = runCLI(t, args...)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, path+" (already there)")
	assert.Equal(t, before, writtenOf(t, path), "reused, not written again")
}
