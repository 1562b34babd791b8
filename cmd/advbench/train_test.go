package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/advbench/advbench/rundir"
	"github.com/advbench/advbench/train"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cliHelperEnv makes the test binary run advbench with the arguments the
// variable holds (space-separated) and exit with its code: a real process
// for signal tests.
const cliHelperEnv = "ADVBENCH_CLI_HELPER_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(cliHelperEnv); args != "" {
		os.Exit(run(append([]string{"advbench"}, strings.Fields(args)...), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// runFiles returns a finished run's checkpoints (all written at epoch ends)
// and its log without the timing fields.
func runFiles(t *testing.T, dir string) (map[string]string, []train.LogEntry) {
	t.Helper()
	files := map[string]string{}
	entries, err := os.ReadDir(filepath.Join(dir, rundir.CheckpointDir))
	require.NoError(t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, rundir.CheckpointDir, e.Name()))
		require.NoError(t, err)
		files[e.Name()] = string(b)
	}
	log, err := train.ReadLog(dir)
	require.NoError(t, err)
	for i := range log {
		log[i].ImagesPerSecond, log[i].TrainSeconds, log[i].EvalSeconds = 0, 0, 0
	}
	return files, log
}

// TestTrainSIGINTThenResume: SIGINT finishes the step, checkpoints and exits
// 130; --resume alone finishes the run bit-identical to an uninterrupted one.
func TestTrainSIGINTThenResume(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess training skipped in -short")
	}
	base := t.TempDir()
	want := filepath.Join(base, "whole")
	code, out, stderr := runCLI(t, "train", "--preset", "smoke", "--out", want, "--format", "json")
	require.Equal(t, exitOK, code, stderr)
	var s train.Summary
	require.NoError(t, json.Unmarshal([]byte(out), &s))
	assert.Equal(t, "smoke", s.Record.Config.Preset)
	require.NotNil(t, s.Final)
	assert.Equal(t, 1, s.Final.Epoch)

	dir := filepath.Join(base, "interrupted")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), cliHelperEnv+"=train --preset smoke --out "+dir)
	var errb strings.Builder
	cmd.Stderr = &errb
	require.NoError(t, cmd.Start())
	last := filepath.Join(dir, rundir.CheckpointDir, rundir.LastFile)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if _, err := os.Stat(last); err == nil {
			break
		}
		require.True(t, time.Now().Before(deadline), "no checkpoint within two minutes")
		time.Sleep(5 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	err := cmd.Wait()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, errb.String())
	assert.Equal(t, exitInterrupted, exit.ExitCode(), errb.String())
	assert.Contains(t, errb.String(), "finishing the step and checkpointing")
	assert.Contains(t, errb.String(), "continues with --resume")
	log, err := train.ReadLog(dir)
	require.NoError(t, err)
	assert.Less(t, len(log), 2, "stopped before the end")

	code, _, stderr = runCLI(t, "train", "--resume", dir)
	require.Equal(t, exitOK, code, stderr)
	wf, wl := runFiles(t, want)
	gf, gl := runFiles(t, dir)
	assert.Equal(t, wl, gl)
	require.Equal(t, len(wf), len(gf))
	for name, b := range wf {
		assert.True(t, b == gf[name], "%s differs", name)
	}
}

func TestTrainRefusals(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	code, out, stderr := runCLI(t, "train", "--preset", "smoke", "--epochs", "1", "--train-n", "64", "--out", dir)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "run "+dir+": saauxbn, width 0.0625, advprop objective, 1 epochs")
	assert.Contains(t, out, "best validation RA")
	before, _ := runFiles(t, dir)

	cases := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"non-empty out", []string{"train", "--preset", "smoke", "--out", dir}, exitFailure, "exists and is not empty: continue it with --resume"},
		{"contradicting flag", []string{"train", "--resume", dir, "--epochs", "3"}, exitUsage, "--epochs 3 contradicts the configuration of " + dir + " (epochs 1)"},
		{"contradicting preset", []string{"train", "--resume", dir, "--preset", "quick"}, exitUsage, "(preset smoke)"},
		{"contradicting eps", []string{"train", "--resume", dir, "--eps", "4/255"}, exitUsage, "(eps 8/255)"},
		{"out with resume", []string{"train", "--resume", dir, "--out", "x"}, exitUsage, "--out and --resume"},
		{"not a run", []string{"train", "--resume", t.TempDir()}, exitFailure, "not a run directory"},
		{"unknown preset", []string{"train", "--preset", "huge"}, exitUsage, `unknown preset "huge"`},
		{"bad norm", []string{"train", "--preset", "smoke", "--norm", "xn", "--out", t.TempDir() + "/x"}, exitUsage, `norm "xn"`},
		{"bad number", []string{"train", "--preset", "smoke", "--epochs", "many"}, exitUsage, `--epochs "many": want a whole number`},
		{"bad eps", []string{"train", "--preset", "smoke", "--eps", "8/0"}, exitUsage, "--eps"},
		{"bad milestones", []string{"train", "--preset", "smoke", "--milestones", "5,x"}, exitUsage, `"x" is not a whole number`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, c.args...)
			assert.Equal(t, c.code, code, stderr)
			assert.Contains(t, stderr, c.err)
		})
	}
	after, _ := runFiles(t, dir)
	assert.Equal(t, before, after, "refused commands leave the run alone")

	// Flags that agree with the stored configuration are accepted.
	code, _, stderr = runCLI(t, "train", "--resume", dir, "--epochs", "1", "--norm", "saauxbn")
	assert.Equal(t, exitOK, code, stderr)
}

func TestTrainHelp(t *testing.T) {
	code, out, _ := runCLI(t, "train", "--help")
	require.Equal(t, exitOK, code)
	for _, want := range []string{"--resume", "--attack-mode", "smoke  width 0.0625", "paper  width 1, all training images, 200 epochs", "Examples:", "exits with 130"} {
		assert.Contains(t, out, want)
	}
}
