package study

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/advbench/advbench/evaluate"
	"github.com/advbench/advbench/rundir"
	"github.com/advbench/advbench/train"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stamp is a file's contents (their SHA-256) and modification time.
func stamp(t *testing.T, path string) (string, time.Time) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	st, err := os.Stat(path)
	require.NoError(t, err)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:]), st.ModTime()
}

// TestCellGradStatsOfAnotherAnalysisRefused: a reproduction reuses a
// cell's finished measurements only when they are the ones its plan asks
// for. Gradient statistics of another analysis (16 images where the plan
// asks for 8, as 'advbench gradstats --n 16' leaves them) are refused,
// naming the file and the setting, before any cell is worked on.
func TestCellGradStatsOfAnotherAnalysisRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("a smoke training skipped in -short")
	}
	p := Plan{Preset: "smoke", Norms: []string{"bn"}, Seeds: []uint64{1, 2}, Out: t.TempDir(), EvalN: 8, GradN: 8}
	require.NoError(t, p.Validate())
	cells := p.Cells()
	done := cells[1]
	require.NoError(t, p.RunCell(context.Background(), done, Options{}))
	gpath := filepath.Join(done.Dir, "results", "gradstats.json")
	epath := filepath.Join(done.Dir, "results", "shared.json")
	gsum, gtime := stamp(t, gpath)
	esum, etime := stamp(t, epath)

	// The same cell again: its measurements are reused, not recomputed.
	require.NoError(t, p.RunCell(context.Background(), done, Options{}))
	s, m := stamp(t, gpath)
	assert.Equal(t, gsum, s)
	assert.Equal(t, gtime, m, "gradient statistics reused")
	s, m = stamp(t, epath)
	assert.Equal(t, esum, s)
	assert.Equal(t, etime, m, "evaluation reused")

	// Statistics of 16 images replace the plan's 8 (as 'advbench
	// gradstats --n 16 --force' does).
	g, err := evaluate.GradStats(context.Background(), evaluate.GradSpec{Target: done.Dir, N: 16}, evaluate.Options{Force: true})
	require.NoError(t, err)
	require.Equal(t, gpath, g.Path)
	gsum, gtime = stamp(t, gpath)

	err = p.RunCell(context.Background(), done, Options{})
	require.Error(t, err, "the cell took 16-image statistics for its 8-image ones")
	assert.ErrorContains(t, err, gpath+" holds another evaluation: test images 16 in the file, 8 asked for")
	_, err = Reproduce(context.Background(), p, Options{})
	require.Error(t, err)
	assert.ErrorContains(t, err, "cell 1 (bn, seed 2)")
	assert.ErrorContains(t, err, gpath+" holds another evaluation")
	_, err = os.Stat(cells[0].Dir)
	assert.True(t, os.IsNotExist(err), "cell 0 was not started: every cell is checked before any work")
	_, err = os.Stat(filepath.Join(p.Out, "report.md"))
	assert.True(t, os.IsNotExist(err), "nothing rendered")
	s, m = stamp(t, gpath)
	assert.Equal(t, gsum, s)
	assert.Equal(t, gtime, m, "the file is kept")
}

// TestUnfinishedCellWithResultsRefused: results beside a run whose
// training is not finished measure a checkpoint the training will
// replace; the reproduction refuses them before it trains.
func TestUnfinishedCellWithResultsRefused(t *testing.T) {
	p := Plan{Preset: "smoke", Norms: []string{"bn"}, Seeds: []uint64{1}, Out: t.TempDir(), EvalN: 8, GradN: 8}
	c := p.Cells()[0]
	cfg, err := p.Config(c)
	require.NoError(t, err)
	stopped, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = train.Start(stopped, cfg, c.Dir, train.Options{})
	require.ErrorIs(t, err, rundir.ErrInterrupted, "a run started and stopped before its first epoch")
	require.NoError(t, p.CheckCell(c), "an unfinished run without results is resumed")

	stale := filepath.Join(c.Dir, "results", "shared.json")
	require.NoError(t, os.MkdirAll(filepath.Dir(stale), 0o755))
	require.NoError(t, os.WriteFile(stale, []byte("{}"), 0o644))
	_, err = Reproduce(context.Background(), p, Options{})
	assert.ErrorContains(t, err, fmt.Sprintf("%s measures a checkpoint of the unfinished run %s (0 of %d epochs)", stale, c.Dir, cfg.Epochs))
	log, err := train.ReadLog(c.Dir)
	require.NoError(t, err)
	assert.Empty(t, log, "nothing trained")
}
