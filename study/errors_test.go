package study

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/advbench/advbench/train"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRefusalsAreTyped: what a reproduction or a results path refuses is a
// typed error whose fields the command line turns into its hint; the
// library's messages name no flag.
func TestRefusalsAreTyped(t *testing.T) {
	p := Plan{Preset: "smoke", Norms: []string{"bn"}, Seeds: []uint64{1}, Out: t.TempDir(), EvalN: 8, GradN: 8}
	require.NoError(t, p.Record())
	other := p
	other.Seeds = []uint64{2}
	err := other.Record()
	var otherPlan *OtherPlanError
	require.ErrorAs(t, err, &otherPlan)
	assert.Equal(t, p.Out, otherPlan.Dir)
	assert.EqualError(t, err, "study: "+p.Out+" holds another plan ("+filepath.Join(p.Out, "plan.json")+")")

	// A cell directory holding a run of seed 7 where the plan's cell is
	// seed 1.
	c := p.Cells()[0]
	cfg, err := p.Config(c)
	require.NoError(t, err)
	cfg.Seed = 7
	rec, err := json.Marshal(train.Record{Version: "test", Config: cfg, Data: train.DataInfo{Source: "builtin", SHA256: "00"}})
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(c.Dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(c.Dir, "config.json"), rec, 0o644))
	err = p.CheckCell(c)
	var otherRun *OtherRunError
	require.ErrorAs(t, err, &otherRun)
	assert.Equal(t, OtherRunError{Dir: c.Dir, Norm: "bn", Seed: 1, Preset: "smoke"}, *otherRun)

	// A run never evaluated, and a directory without result files.
	_, err = ResultFiles([]string{c.Dir})
	var none *NoResultsError
	require.ErrorAs(t, err, &none)
	assert.Equal(t, NoResultsError{Path: c.Dir, Run: true}, *none)
	empty := t.TempDir()
	_, err = ResultFiles([]string{empty})
	require.ErrorAs(t, err, &none)
	assert.Equal(t, NoResultsError{Path: empty}, *none)

	for _, err := range []error{otherPlan, otherRun, none, &NoResultsError{Path: "x", Run: true}} {
		assert.NotContains(t, err.Error(), "--", "no flag named: the command line adds its hint")
		assert.NotContains(t, err.Error(), "advbench ", "no command named: the command line adds its hint")
	}
}
