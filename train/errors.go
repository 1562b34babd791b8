package train

import (
	"fmt"

	"github.com/advbench/advbench/rundir"
)

// NotStartedError reports a run directory whose run was stopped before its
// config.json was written: there is no configuration to resume.
type NotStartedError struct{ Dir string }

func (e *NotStartedError) Error() string {
	return fmt.Sprintf("train: %s: the run was stopped before its %s was written, so there is nothing to resume; start it again into that directory (it holds no progress)", e.Dir, rundir.ConfigFile)
}

// NotEmptyError reports a directory Start refuses to begin a run in: it
// holds files, and not only what a Start stopped before its config.json
// leaves (another run, this run's progress, or anything else).
type NotEmptyError struct{ Dir string }

func (e *NotEmptyError) Error() string {
	return fmt.Sprintf("train: %s exists and is not empty", e.Dir)
}
