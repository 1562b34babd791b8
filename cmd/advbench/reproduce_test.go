package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReproduceSmoke: two cells of the smoke reproduction print both tables
// and the gradient table and write the report, the tables and readable
// plots; run again, nothing is redone and the tables are the same; plot and
// gradstats work on its runs.
func TestReproduceSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("smoke reproduction skipped in -short")
	}
	out := filepath.Join(t.TempDir(), "repro")
	args := []string{"reproduce", "--preset", "smoke", "--norms", "bn,saauxbn", "--eval-n", "48", "--grad-n", "32", "--out", out}
	code, tables, stderr := runCLI(t, args...)
	require.Equal(t, exitOK, code, stderr)
	for _, want := range []string{"Table 3", "Table 4", "SaAuxBN (adv)", "BN", "PGD-20 (RA)", "(paper 44.93", "Gradient statistics", "layer4.1.conv2.weight", "report: " + filepath.Join(out, "report.md")} {
		assert.Contains(t, tables, want)
	}
	for _, f := range []string{"report.md", "tables.txt", "tables.json", "tables.csv", "tables.tex", "bn-s1/results/shared.json", "saauxbn-s1/results/adv.json", "saauxbn-s1/results/gradstats.json"} {
		_, err := os.Stat(filepath.Join(out, f))
		assert.NoError(t, err, f)
	}
	report, err := os.ReadFile(filepath.Join(out, "report.md"))
	require.NoError(t, err)
	for _, want := range []string{"## Tables 3 and 4", "## Gradient statistics", "![losses](plots/losses.png)", "advbench train --preset smoke --norm saauxbn --seed 1 --out " + filepath.Join(out, "saauxbn-s1"), `"warmup_iters": 4`} {
		assert.Contains(t, string(report), want)
	}
	for _, name := range []string{"losses", "accuracy", "gradstats", "gradcos"} {
		raw, err := os.ReadFile(filepath.Join(out, "plots", name+".png"))
		require.NoError(t, err, name)
		_, err = png.Decode(bytes.NewReader(raw))
		assert.NoError(t, err, name)
		svg, err := os.ReadFile(filepath.Join(out, "plots", name+".svg"))
		require.NoError(t, err, name)
		assert.Contains(t, string(svg), "SaAuxBN", name)
	}

	code, again, stderr := runCLI(t, args...)
	require.Equal(t, exitOK, code, stderr)
	assert.Equal(t, tables, again, "the same tables from the same files")
	assert.NotContains(t, stderr, "training into", "finished cells are not redone")
	assert.NotContains(t, stderr, "img /", "no progress bar: nothing trained, evaluated or analysed again")

	figs := filepath.Join(t.TempDir(), "figs")
	code, listing, stderr := runCLI(t, "plot", out, "--out", figs)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, listing, filepath.Join(figs, "gradcos.svg"))

	code, grad, stderr := runCLI(t, "gradstats", filepath.Join(out, "bn-s1"), filepath.Join(out, "saauxbn-s1"), "--n", "16", "--batch", "8", "--steps", "2", "--format", "csv", "--plot", figs, "--force")
	require.Equal(t, exitOK, code, stderr)
	assert.Equal(t, 1+4*2, strings.Count(grad, "\n"), "a header and 4 stages x 2 models:\n%s", grad)
	assert.Contains(t, stderr, "wrote "+filepath.Join(out, "bn-s1", "results", "gradstats.json"))

	code, sweep, stderr := runCLI(t, "eval", filepath.Join(out, "saauxbn-s1"), "--sweep", "--sweep-steps", "2", "--test-n", "16", "--batch", "16")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, sweep, "eps 16/255")
	assert.Contains(t, sweep, "sweep-adv.json")
	code, listing, stderr = runCLI(t, "plot", filepath.Join(out, "saauxbn-s1"), "--out", figs)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, listing, filepath.Join(figs, "sweep.png"))

	// The same reproduction as separate cell processes (a Kubernetes Indexed
	// Job), in reverse order, the first killed once it has checkpointed and
	// then restarted, merges into the same tables.
	cells := filepath.Join(t.TempDir(), "cells")
	cellArgs := "reproduce --cell auto --preset smoke --norms bn,saauxbn --eval-n 48 --grad-n 32 --out " + cells
	runCell := func(index string, kill bool) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), cliHelperEnv+"="+cellArgs, "JOB_COMPLETION_INDEX="+index)
		var errb strings.Builder
		cmd.Stderr = &errb
		require.NoError(t, cmd.Start())
		if kill {
			last := filepath.Join(cells, "saauxbn-s1", "checkpoints", "last.safetensors")
			deadline := time.Now().Add(2 * time.Minute)
			for {
				if _, err := os.Stat(last); err == nil {
					break
				}
				require.True(t, time.Now().Before(deadline), "no checkpoint within two minutes: %s", errb.String())
				time.Sleep(5 * time.Millisecond)
			}
			require.NoError(t, cmd.Process.Kill())
			_ = cmd.Wait()
			return
		}
		require.NoError(t, cmd.Wait(), errb.String())
	}
	runCell("1", true)
	code, _, stderr = runCLI(t, "reproduce", "merge", cells)
	assert.Equal(t, exitFailure, code, "cells missing")
	assert.Contains(t, stderr, "cells not finished: 0 (bn, seed 1")
	runCell("1", false)
	code, partial, stderr := runCLI(t, "reproduce", "merge", cells, "--out", filepath.Join(t.TempDir(), "partial"), "--allow-missing")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, partial, "NOTE: 1 of 2 cells missing and not shown: 0 (bn, seed 1)")
	assert.Contains(t, partial, "SaAuxBN (adv)")
	runCell("0", false)
	code, merged, stderr := runCLI(t, "reproduce", "merge", cells)
	require.Equal(t, exitOK, code, stderr)
	cut := func(s string) string { return s[:strings.Index(s, "\nreport: ")] }
	assert.Equal(t, cut(tables), cut(merged), "the merged cells give the single process's tables")

	code, _, stderr = runCLI(t, "reproduce", "--preset", "huge", "--out", filepath.Join(t.TempDir(), "huge"))
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, `preset "huge"`)
	code, _, stderr = runCLI(t, "reproduce", "--norms", "bn,bn", "--out", filepath.Join(t.TempDir(), "twice"))
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "listed twice")
}

// TestReproduceAttacks: --attacks is checked before any work, recorded in
// the plan, used for every cell's evaluation, and a later run with other
// attacks is refused rather than mixing them.
func TestReproduceAttacks(t *testing.T) {
	if testing.Short() {
		t.Skip("smoke reproduction skipped in -short")
	}
	out := filepath.Join(t.TempDir(), "repro")
	code, _, stderr := runCLI(t, "reproduce", "--preset", "smoke", "--norms", "bn", "--attacks", "pgd-10,nosuch", "--out", out)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "--attacks nosuch")
	_, err := os.Stat(out)
	assert.True(t, os.IsNotExist(err), "nothing written before the attacks are checked")

	args := []string{"reproduce", "--preset", "smoke", "--norms", "bn", "--eval-n", "16", "--grad-n", "16", "--attacks", "fgsm", "--out", out}
	code, _, stderr = runCLI(t, args...)
	require.Equal(t, exitOK, code, stderr)
	var res struct {
		Attacks []struct{ Name string } `json:"attacks"`
	}
	raw, err := os.ReadFile(filepath.Join(out, "bn-s1", "results", "shared.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &res))
	require.Len(t, res.Attacks, 1)
	assert.Equal(t, "fgsm", res.Attacks[0].Name)
	var plan struct{ Attacks []string }
	raw, err = os.ReadFile(filepath.Join(out, "plan.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &plan))
	assert.Equal(t, []string{"fgsm"}, plan.Attacks)

	code, _, stderr = runCLI(t, "reproduce", "--preset", "smoke", "--norms", "bn", "--eval-n", "16", "--grad-n", "16", "--out", out)
	assert.Equal(t, exitUsage, code, "the default attacks are another plan")
	assert.Contains(t, stderr, out)
}

// TestReproduceLandscape: --landscape studies none, bn, auxbn and saauxbn
// plus the norms given, every cell probing its landscape at the interval
// asked for (recorded in the plan), and report.md gains the landscape
// tables; a negative interval is refused before anything is written.
func TestReproduceLandscape(t *testing.T) {
	if testing.Short() {
		t.Skip("smoke reproduction skipped in -short")
	}
	out := filepath.Join(t.TempDir(), "repro")
	code, _, stderr := runCLI(t, "reproduce", "--landscape", "--landscape-every", "-1", "--preset", "smoke", "--out", out)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "--landscape-every -1")
	_, err := os.Stat(out)
	assert.True(t, os.IsNotExist(err), "nothing written before the interval is checked")

	code, stdout, stderr := runCLI(t, "reproduce", "--landscape", "--landscape-every", "4", "--preset", "smoke", "--norms", "bn,gn",
		"--eval-n", "16", "--grad-n", "16", "--attacks", "fgsm", "--out", out)
	require.Equal(t, exitOK, code, stderr)
	var plan struct {
		Norms          []string
		LandscapeEvery int `json:"landscape_every"`
	}
	raw, err := os.ReadFile(filepath.Join(out, "plan.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &plan))
	assert.Equal(t, []string{"none", "bn", "auxbn", "saauxbn", "gn"}, plan.Norms, "the landscape norms first, bn once, then the ones given")
	assert.Equal(t, 4, plan.LandscapeEvery)
	for _, n := range plan.Norms {
		raw, err := os.ReadFile(filepath.Join(out, n+"-s1", "landscape.jsonl"))
		require.NoError(t, err, n)
		assert.Equal(t, 2, bytes.Count(raw, []byte("\n")), "%s: 8 steps of smoke training probed at steps 0 and 4", n)
	}
	report, err := os.ReadFile(filepath.Join(out, "report.md"))
	require.NoError(t, err)
	for _, want := range []string{"## Loss landscape", "| SaAuxBN | 2 | ", "| GN | 2 | ", "--landscape-every 4", "--attacks fgsm", "| AuxBN | clean / adv |"} {
		assert.Contains(t, string(report), want)
	}
	_, err = os.Stat(filepath.Join(out, "plots", "landscape-loss.png"))
	assert.NoError(t, err)
	assert.Contains(t, stdout, "report:")
}
