// Package runlock keeps two processes out of one directory: a run directory
// or a reproduction's output takes a lock file holding the owner's PID,
// locked with flock(2). The kernel drops the lock when its process dies, so
// a stale lock (a killed process) is taken over without guessing from PIDs;
// a live holder makes Acquire fail with a *HeldError naming its PID.
package runlock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// FileName is the lock file inside a locked directory.
const FileName = ".lock"

// HeldError reports a directory locked by another live process.
type HeldError struct {
	Dir string
	PID int // 0 when the holder's PID could not be read
}

func (e *HeldError) Error() string {
	who := "another process"
	if e.PID > 0 {
		who = fmt.Sprintf("process %d", e.PID)
	}
	return fmt.Sprintf("runlock: %s is in use by %s (%s); wait for it to finish or stop it first", e.Dir, who, filepath.Join(e.Dir, FileName))
}

// Lock is a held lock; Release gives it up.
type Lock struct {
	f    *os.File
	path string
}

// Acquire locks dir, which must exist, for this process.
func Acquire(dir string) (*Lock, error) {
	path := filepath.Join(dir, FileName)
	for attempt := 0; attempt < 10; attempt++ {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("runlock: %w", err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, &HeldError{Dir: dir, PID: readPID(path)}
			}
			return nil, fmt.Errorf("runlock: %s: %w", path, err)
		}
		// The holder we raced with may have removed the file between our
		// open and our flock: then we hold a lock on a name nobody sees.
		if !sameFile(f, path) {
			f.Close()
			continue
		}
		// A stale lock (its process died) keeps its old PID: replace it.
		if err := f.Truncate(0); err != nil {
			f.Close()
			return nil, fmt.Errorf("runlock: %w", err)
		}
		if _, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
			f.Close()
			return nil, fmt.Errorf("runlock: %w", err)
		}
		return &Lock{f: f, path: path}, nil
	}
	return nil, fmt.Errorf("runlock: %s: the lock file keeps changing; another process is starting or stopping", path)
}

// Release removes the lock file and unlocks; calling it again does nothing.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := os.Remove(l.path) // while still locked, so nobody locks the old file
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("runlock: %w", err)
	}
	return nil
}

func sameFile(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	if err != nil {
		return false
	}
	return os.SameFile(a, b)
}

func readPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0
	}
	return pid
}
