package train

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/advbench/advbench/internal/runlock"
	"github.com/advbench/advbench/rundir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// interruptedRun is a smoke run stopped after its first step: config.json,
// one checkpoint, no log line yet.
func interruptedRun(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := Start(ctx, smoke(t), dir, Options{AfterStep: func(int, int) { cancel() }})
	require.ErrorIs(t, err, rundir.ErrInterrupted)
	return dir
}

// TestResumeRefusesMissingLastCheckpoint: a run with progress whose
// last.safetensors is gone is not silently started over.
func TestResumeRefusesMissingLastCheckpoint(t *testing.T) {
	dir := interruptedRun(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, rundir.LogFile), []byte("{\"epoch\":0}\n"), 0o644))
	require.NoError(t, os.Rename(filepath.Join(dir, rundir.CheckpointDir, rundir.LastFile), filepath.Join(dir, rundir.CheckpointDir, rundir.EpochFile(0))))
	_, err := Resume(context.Background(), dir, Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), filepath.Join(rundir.CheckpointDir, rundir.LastFile)+" is missing")
	assert.Contains(t, err.Error(), rundir.EpochFile(0))
	b, rerr := os.ReadFile(filepath.Join(dir, rundir.LogFile))
	require.NoError(t, rerr)
	assert.Equal(t, "{\"epoch\":0}\n", string(b), "log.jsonl is kept")
}

// TestResumeRefusesLockedRun: a run directory another live process holds is
// refused, naming that process.
func TestResumeRefusesLockedRun(t *testing.T) {
	dir := interruptedRun(t)
	lock, err := runlock.Acquire(dir)
	require.NoError(t, err)
	_, err = Resume(context.Background(), dir, Options{})
	var held *runlock.HeldError
	require.True(t, errors.As(err, &held), "got %v", err)
	assert.Contains(t, err.Error(), strconv.Itoa(os.Getpid()))
	require.NoError(t, lock.Release())
	// A lock file left by a dead process is taken over.
	require.NoError(t, os.WriteFile(filepath.Join(dir, runlock.FileName), []byte("999999999\n"), 0o644))
	_, err = Resume(context.Background(), dir, Options{})
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(dir, runlock.FileName))
	assert.True(t, errors.Is(err, os.ErrNotExist), "the finished run leaves no lock behind")
}

// TestResumeRemovesStaleTemporaries: a checkpoint write killed half-way
// leaves a temporary file; resuming removes it.
func TestResumeRemovesStaleTemporaries(t *testing.T) {
	dir := interruptedRun(t)
	tmp := filepath.Join(dir, rundir.CheckpointDir, "."+rundir.LastFile+".tmp-123456")
	require.NoError(t, os.WriteFile(tmp, []byte("half"), 0o644))
	_, err := Resume(context.Background(), dir, Options{})
	require.NoError(t, err)
	_, err = os.Stat(tmp)
	assert.True(t, errors.Is(err, os.ErrNotExist), "stale temporary removed")
}

// TestResumeOfRunStoppedBeforeConfig says what happened instead of "not a
// run directory".
func TestResumeOfRunStoppedBeforeConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, rundir.CheckpointDir), 0o755))
	_, err := Resume(context.Background(), dir, Options{})
	var ns *NotStartedError
	require.True(t, errors.As(err, &ns), "got %v", err)
	assert.Contains(t, err.Error(), "stopped before its config.json was written")
}

// TestStartIntoRunStoppedBeforeConfig: what NotStartedError advises works.
func TestStartIntoRunStoppedBeforeConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, rundir.CheckpointDir), 0o755))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := Start(ctx, smoke(t), dir, Options{AfterStep: func(int, int) { cancel() }})
	require.ErrorIs(t, err, rundir.ErrInterrupted)
}

// TestReadRecordAndLogValidate: a config.json or log line with zero or
// impossible values is refused, naming the file and the field.
func TestReadRecordAndLogValidate(t *testing.T) {
	cases := []struct{ name, config, want string }{
		{"empty", `{}`, "config.norm"},
		{"zero width", `{"config":{"norm":"bn","objective":"clean","attack_mode":"train"}}`, "config.width"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, rundir.ConfigFile), []byte(c.config), 0o644))
			_, err := ReadRecord(dir)
			require.Error(t, err)
			assert.Contains(t, err.Error(), filepath.Join(dir, rundir.ConfigFile))
			assert.Contains(t, err.Error(), c.want)
		})
	}
	t.Run("huge width", func(t *testing.T) {
		c := smoke(t)
		c.Width = 1e9
		err := c.Validate()
		var ce *ConfigError
		require.True(t, errors.As(err, &ce), "got %v", err)
		assert.Equal(t, "width", ce.Field)
	})
	t.Run("log", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, rundir.LogFile), []byte("{}\n"), 0o644))
		_, err := ReadLog(dir)
		require.Error(t, err)
		assert.Contains(t, err.Error(), filepath.Join(dir, rundir.LogFile)+": line 1: lr")
	})
}
