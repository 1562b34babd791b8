package rundir

import (
	"fmt"
	"strconv"
	"strings"
)

// Checkpoint selections: which of a run's checkpoints to use.
const (
	// SelectLast is the run's latest checkpoint (the default, also "").
	SelectLast = "last"
	// SelectBest is the checkpoint of the best validation robust accuracy.
	SelectBest = "best"
	// SelectReference is the checkpoint the reference's test scripts
	// evaluate: model_epoch190.pt, written after 0-based epoch
	// ReferenceEpoch, that is after 191 epochs (RECIPE.md), which is
	// advbench's epoch-190 of a run that saves every 10 epochs (the paper
	// preset).
	SelectReference = "reference"
	// ReferenceEpoch is the 0-based epoch SelectReference names.
	ReferenceEpoch = 190
)

// SelectError reports a checkpoint selection that names no checkpoint.
type SelectError struct{ Select string }

func (e *SelectError) Error() string {
	return fmt.Sprintf("rundir: checkpoint %q: want %s, %s, %s or %sNNN", e.Select, SelectLast, SelectBest, SelectReference, epochPrefix)
}

// CheckpointName is the file name of the checkpoint a selection names:
// "" or SelectLast, SelectBest, SelectReference, or "epoch-N" for the
// checkpoint after 0-based epoch N (EpochFile). Anything else is a
// *SelectError.
func CheckpointName(sel string) (string, error) {
	switch {
	case sel == "" || sel == SelectLast:
		return LastFile, nil
	case sel == SelectBest:
		return BestFile, nil
	case sel == SelectReference:
		return EpochFile(ReferenceEpoch), nil
	case strings.HasPrefix(sel, epochPrefix):
		e, err := strconv.Atoi(strings.TrimPrefix(sel, epochPrefix))
		if err != nil {
			return "", &SelectError{Select: sel}
		}
		return EpochFile(e), nil
	}
	return "", &SelectError{Select: sel}
}
