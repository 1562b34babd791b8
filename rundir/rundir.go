package rundir

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Names of the files and folders of a run directory.
const (
	// ConfigFile records what a run computes and on which data.
	ConfigFile = "config.json"
	// LogFile holds one JSON line per finished epoch.
	LogFile = "log.jsonl"
	// LandscapeFile holds one JSON line per probed training step (the loss
	// landscape along the step's gradient: package landscape).
	LandscapeFile = "landscape.jsonl"
	// SeenFile holds the fingerprints of the images the run trains and
	// validates on (sorted little-endian uint64s), so that no evaluation
	// scores the run on them.
	SeenFile = "seen-images.fp64"
	// CheckpointDir holds the run's checkpoints.
	CheckpointDir = "checkpoints"
	// LastFile is the checkpoint of the run's latest position.
	LastFile = "last.safetensors"
	// BestFile is the checkpoint of the best validation robust accuracy.
	BestFile = "best.safetensors"
	// ResultsDir holds what was measured of the run's checkpoints.
	ResultsDir = "results"
	// GradStatsFile holds a model's gradient statistics.
	GradStatsFile = "gradstats.json"
	// PlanFile is the plan a reproduction's directory records.
	PlanFile = "plan.json"

	resultExt   = ".json"
	sweepPrefix = "sweep-"
	landPrefix  = "landscape-"
	linesExt    = ".jsonl"
	epochPrefix = "epoch-"
	ckptExt     = ".safetensors"
)

// EpochFile is the name of the checkpoint written after epoch e (0-based):
// epoch-007.safetensors.
func EpochFile(e int) string { return fmt.Sprintf(epochPrefix+"%03d"+ckptExt, e) }

// ResultFile is the name of a branch's evaluation result in a results
// directory: clean.json, adv.json or shared.json.
func ResultFile(branch string) string { return branch + resultExt }

// SweepFile is the name of a branch's accuracy-against-eps sweep in a
// results directory: sweep-adv.json.
func SweepFile(branch string) string { return sweepPrefix + branch + resultExt }

// CheckpointLandscapeFile is the name of the landscape probe of a checkpoint
// file in a results directory: landscape-last.jsonl for last.safetensors.
func CheckpointLandscapeFile(checkpoint string) string {
	base := filepath.Base(checkpoint)
	return landPrefix + strings.TrimSuffix(base, filepath.Ext(base)) + linesExt
}

// IsSweepFile reports whether a results directory entry is a sweep.
func IsSweepFile(name string) bool {
	return strings.HasPrefix(name, sweepPrefix) && filepath.Ext(name) == resultExt
}

// IsResultFile reports whether a results directory entry is an evaluation
// result: a JSON file that is neither a sweep nor gradient statistics.
func IsResultFile(name string) bool {
	return filepath.Ext(name) == resultExt && name != GradStatsFile && !strings.HasPrefix(name, sweepPrefix)
}

// Dir is a run directory.
type Dir string

// path joins names under the run directory.
func (d Dir) path(names ...string) string {
	return filepath.Join(append([]string{string(d)}, names...)...)
}

// Config is the run's ConfigFile.
func (d Dir) Config() string { return d.path(ConfigFile) }

// Log is the run's LogFile.
func (d Dir) Log() string { return d.path(LogFile) }

// Landscape is the run's LandscapeFile.
func (d Dir) Landscape() string { return d.path(LandscapeFile) }

// Seen is the run's SeenFile.
func (d Dir) Seen() string { return d.path(SeenFile) }

// Checkpoints is the run's CheckpointDir.
func (d Dir) Checkpoints() string { return d.path(CheckpointDir) }

// Checkpoint is the checkpoint file called name (LastFile, BestFile,
// EpochFile(e)).
func (d Dir) Checkpoint(name string) string { return d.path(CheckpointDir, name) }

// Results is the run's ResultsDir.
func (d Dir) Results() string { return d.path(ResultsDir) }

// Result is the evaluation result of a branch.
func (d Dir) Result(branch string) string { return d.path(ResultsDir, ResultFile(branch)) }

// Sweep is the accuracy-against-eps sweep of a branch.
func (d Dir) Sweep(branch string) string { return d.path(ResultsDir, SweepFile(branch)) }

// CheckpointLandscape is the landscape probe of one of the run's
// checkpoints (a CheckpointDir file name or path).
func (d Dir) CheckpointLandscape(checkpoint string) string {
	return d.path(ResultsDir, CheckpointLandscapeFile(checkpoint))
}

// GradStats is the run's gradient statistics.
func (d Dir) GradStats() string { return d.path(ResultsDir, GradStatsFile) }

// Select is the checkpoint file a selection names in the run (Checkpoint
// of CheckpointName); whether it exists is not checked.
func (d Dir) Select(sel string) (string, error) {
	name, err := CheckpointName(sel)
	if err != nil {
		return "", err
	}
	return d.Checkpoint(name), nil
}

// Containing returns the run directory a checkpoint file lies in by the
// layout (its folder is a run's CheckpointDir), and false for a file
// elsewhere; whether that directory holds a run is not checked.
func Containing(checkpoint string) (Dir, bool) {
	folder := filepath.Dir(checkpoint)
	if filepath.Base(folder) != CheckpointDir {
		return "", false
	}
	return Dir(filepath.Dir(folder)), true
}

// ResultsBeside is the results folder of a model file outside a run: a
// ResultsDir beside it.
func ResultsBeside(file string) string {
	return filepath.Join(filepath.Dir(file), ResultsDir)
}

// Plan is the PlanFile of a reproduction's directory.
func Plan(reproduction string) string { return filepath.Join(reproduction, PlanFile) }
