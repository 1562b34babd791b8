package runlock

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary hold a lock as a separate process.
func TestMain(m *testing.M) {
	if dir := os.Getenv("RUNLOCK_HOLD"); dir != "" {
		l, err := Acquire(dir)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("held")
		bufio.NewReader(os.Stdin).ReadString('\n') // until the parent closes stdin
		l.Release()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestAcquireRefusesLiveHolderInAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "RUNLOCK_HOLD="+dir)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "held\n", line)

	_, err = Acquire(dir)
	var held *HeldError
	require.True(t, errors.As(err, &held), "got %v", err)
	assert.Equal(t, cmd.Process.Pid, held.PID)
	assert.Contains(t, err.Error(), strconv.Itoa(cmd.Process.Pid))

	stdin.Close()
	require.NoError(t, cmd.Wait())
	l, err := Acquire(dir)
	require.NoError(t, err, "the lock is free once its holder exits")
	require.NoError(t, l.Release())
}

func TestAcquireTakesOverStaleLock(t *testing.T) {
	dir := t.TempDir()
	// A lock file left by a killed process: a PID, but no flock held.
	require.NoError(t, os.WriteFile(filepath.Join(dir, FileName), []byte("999999999\n"), 0o644))
	l, err := Acquire(dir)
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(os.Getpid()), strings.TrimSpace(string(b)))
	require.NoError(t, l.Release())
	_, err = os.Stat(filepath.Join(dir, FileName))
	assert.True(t, errors.Is(err, os.ErrNotExist), "Release removes the lock file")
}

func TestAcquireTwiceInOneProcess(t *testing.T) {
	dir := t.TempDir()
	l, err := Acquire(dir)
	require.NoError(t, err)
	defer l.Release()
	_, err = Acquire(dir)
	var held *HeldError
	require.True(t, errors.As(err, &held), "a second open file description is refused too: %v", err)
	assert.Equal(t, os.Getpid(), held.PID)
}
