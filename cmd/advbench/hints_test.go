package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/advbench/advbench/study"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLibraryRefusalsGetTheFlagHint: the library's typed refusals name no
// flag; the command line turns them into usage errors (exit 2) that name
// the flag and what to do.
func TestLibraryRefusalsGetTheFlagHint(t *testing.T) {
	dir := t.TempDir()
	ckpt := tinyCheckpoint(t, dir, "auxbn") // two branches
	one := filepath.Join(dir, "one.json")

	repro := filepath.Join(t.TempDir(), "repro")
	require.NoError(t, study.Plan{Preset: "smoke", Norms: []string{"bn"}, Seeds: []uint64{2}, Out: repro}.Record())

	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"one --out file for two branches", []string{"eval", ckpt, "--data", "builtin", "--test-n", "8", "--out", one},
			[]string{"--out " + one + " names one file, but 2 branches are evaluated: give a directory or one --branch"}},
		{"--out holds another plan", []string{"reproduce", "--preset", "smoke", "--norms", "bn", "--seeds", "1", "--out", repro},
			[]string{"holds another plan (" + filepath.Join(repro, "plan.json") + "): choose another --out"}},
		{"k8s plan without an image", []string{"reproduce", "plan", "--preset", "smoke", "--target", "k8s", "--results", "pvc"},
			[]string{"reproduce plan: --target k8s needs --image (a container image holding /advbench)"}},
		{"slurm plan without results", []string{"reproduce", "plan", "--preset", "smoke", "--target", "slurm"},
			[]string{"reproduce plan: --target slurm needs --results (a shared directory)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, c.args...)
			assert.Equal(t, exitUsage, code, stderr)
			for _, w := range c.want {
				assert.Contains(t, stderr, w)
			}
		})
	}
	_, err := os.Stat(one)
	assert.True(t, os.IsNotExist(err), "nothing written")
	_, err = os.Stat(filepath.Join(repro, "bn-s1"))
	assert.True(t, os.IsNotExist(err), "no cell started")
}
