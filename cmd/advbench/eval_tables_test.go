package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advbench/advbench/results"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// handResult is a result file of 20 examples: 16 clean-correct, pgd-20
// robust on 9 and, when aa, AutoAttack's pruned attacks robust on 9, 8, 8
// and 7 (cumulative), so SA 80.00% and AutoAttack 35.00% by hand.
func handResult(t *testing.T, dir, norm, branch string, branches int, aa bool) string {
	t.Helper()
	run := func(k int) []bool {
		f := make([]bool, 20)
		for i := range k {
			f[i] = true
		}
		return f
	}
	f := &results.File{
		Provenance: results.Provenance{Schema: results.Schema, Version: "test",
			Model: results.Model{Norm: norm, Width: 0.25, Branches: branches, Objective: "advprop", Preset: "quick", TrainSeed: 1},
			Data:  results.Data{Source: "cifar-10 test", SHA256: strings.Repeat("cd", 32), Split: "test"}},
		Branch: branch, Mode: "eval",
		Measurement: results.Measurement{Examples: 20, SA: 0.8, PerExample: &results.PerExample{CleanCorrect: run(16), Robust: map[string][]bool{}}},
	}
	type att struct {
		name   string
		robust int
		pruned bool
	}
	list := []att{{"pgd-20", 9, false}}
	if aa {
		list = append(list, att{"apgd-ce", 9, true}, att{"apgd-t", 8, true}, att{"fab-t", 8, true}, att{"square", 7, true})
	}
	for _, a := range list {
		f.Attacks = append(f.Attacks, results.AttackResult{AttackParams: results.AttackParams{Name: a.name, Eps: 8.0 / 255, Eps255: "8/255", Steps: 100, Restarts: 1, Loss: "ce", Pruned: a.pruned}, RA: float64(a.robust) / 20, Robust: a.robust})
		f.PerExample.Robust[a.name] = run(a.robust)
	}
	f.PerExample.WorstCase = run(list[len(list)-1].robust)
	path := filepath.Join(dir, norm+"-"+branch+".json")
	require.NoError(t, results.Write(path, f))
	return path
}

// TestEvalTablesRobustBench: one RobustBench record per result file, with
// the hand-counted accuracies as percent strings; refusals exit 2 (no
// --out, an existing record without --force) or 1 (no AutoAttack).
func TestEvalTablesRobustBench(t *testing.T) {
	in := t.TempDir()
	adv := handResult(t, in, "saauxbn", "adv", 2, true)
	shared := handResult(t, in, "sabn", "shared", 1, true)
	out := filepath.Join(t.TempDir(), "model_info")

	code, stdout, stderr := runCLI(t, "eval", "tables", "--format", "robustbench", "--out", out, adv, shared)
	require.Equal(t, exitOK, code, stderr)
	want := filepath.Join(out, "cifar10", "Linf", "saauxbn-s1-adv.json")
	assert.Equal(t, want+"\n"+filepath.Join(out, "cifar10", "Linf", "sabn-s1-shared.json")+"\n", stdout)
	b, err := os.ReadFile(want)
	require.NoError(t, err)
	var rec map[string]any
	require.NoError(t, json.Unmarshal(b, &rec))
	assert.Equal(t, "80.00", rec["clean_acc"])
	assert.Equal(t, "35.00", rec["autoattack_acc"])
	assert.Equal(t, "43.14", rec["reported"], "the paper's SaAuxBN PGD-20 RA")
	assert.Equal(t, "8/255", rec["eps"])
	assert.Equal(t, "cifar10", rec["dataset"])
	assert.Equal(t, "PreActResNet-18 (width x0.25)", rec["architecture"])
	assert.Equal(t, 1.0, rec["number_forward_passes"])
	assert.Equal(t, false, rec["unreliable"])
	assert.Equal(t, false, rec["additional_data"])
	assert.Equal(t, "https://arxiv.org/abs/2102.11382", rec["link"])
	b, err = os.ReadFile(filepath.Join(out, "cifar10", "Linf", "sabn-s1-shared.json"))
	require.NoError(t, err)
	assert.NotContains(t, string(b), `"reported"`, "the paper has no SaBN row")

	code, _, stderr = runCLI(t, "eval", "tables", "--format", "robustbench", "--out", out, adv)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "--force")
	code, _, stderr = runCLI(t, "eval", "tables", "--format", "robustbench", "--out", out, "--force", adv)
	assert.Equal(t, exitOK, code, stderr)

	code, _, stderr = runCLI(t, "eval", "tables", "--format", "robustbench", adv)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "--out")

	pgd := handResult(t, t.TempDir(), "bn", "shared", 1, false)
	code, _, stderr = runCLI(t, "eval", "tables", "--format", "robustbench", "--out", t.TempDir(), pgd)
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, stderr, pgd)
	assert.Contains(t, stderr, "--attacks aa")
}
