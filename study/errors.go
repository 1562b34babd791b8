package study

import (
	"fmt"

	"github.com/advbench/advbench/rundir"
)

// OtherPlanError reports a reproduction's directory that records another
// plan than the one asked for (rundir.PlanFile): its cells are not this
// plan's.
type OtherPlanError struct{ Dir string }

func (e *OtherPlanError) Error() string {
	return fmt.Sprintf("study: %s holds another plan (%s)", e.Dir, rundir.Plan(e.Dir))
}

// OtherRunError reports a cell's directory that holds a run of another
// configuration than the plan's cell.
type OtherRunError struct {
	Dir    string
	Norm   string
	Seed   uint64
	Preset string
}

func (e *OtherRunError) Error() string {
	return fmt.Sprintf("study: %s holds a run of another configuration than this plan's cell (%s, seed %d, preset %s)", e.Dir, e.Norm, e.Seed, e.Preset)
}

// NoResultsError reports a path given for evaluation results that holds
// none: a run directory not evaluated yet (Run), or a directory without
// result files.
type NoResultsError struct {
	Path string
	Run  bool
}

func (e *NoResultsError) Error() string {
	if e.Run {
		return fmt.Sprintf("study: %s is a run without results yet", e.Path)
	}
	return fmt.Sprintf("study: %s holds no result files", e.Path)
}
