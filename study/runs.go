// Package study is the whole experiment: it reads training runs with what
// was measured of them (evaluation results, gradient statistics, sweeps),
// draws the figures, and runs a reproduction cell by cell — train, evaluate
// both branches, gradient statistics — before rendering Tables 3 and 4, the
// gradient table, the plots and a report.
package study

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/advbench/advbench/landscape"
	"github.com/advbench/advbench/reports"
	"github.com/advbench/advbench/results"
	"github.com/advbench/advbench/rundir"
	"github.com/advbench/advbench/train"
)

// Run is a training run directory and what was measured of it.
type Run struct {
	Dir       string
	Record    train.Record
	Log       []train.LogEntry
	Results   []results.Source // evaluation results (clean, adv or shared)
	GradStats *results.GradStats
	Sweeps    []*results.Sweep
	// Landscape holds the lines of the run's landscape.jsonl (none when it
	// was trained without --landscape-every).
	Landscape []landscape.Line
}

// LoadRun reads a run directory: config.json, log.jsonl and whatever its
// results/ holds.
func LoadRun(dir string) (*Run, error) {
	rec, err := train.ReadRecord(dir)
	if err != nil {
		return nil, err
	}
	log, err := train.ReadLog(dir)
	if err != nil {
		return nil, err
	}
	r := &Run{Dir: dir, Record: rec, Log: log}
	if r.Landscape, err = landscape.ReadFile(rundir.Dir(dir).Landscape()); err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(rundir.Dir(dir).Results(), "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	for _, p := range files {
		switch base := filepath.Base(p); {
		case base == rundir.GradStatsFile:
			if r.GradStats, err = results.ReadGradStats(p); err != nil {
				return nil, err
			}
		case rundir.IsSweepFile(base):
			s, err := results.ReadSweep(p)
			if err != nil {
				return nil, err
			}
			r.Sweeps = append(r.Sweeps, s)
		default:
			f, err := results.Read(p)
			if err != nil {
				return nil, err
			}
			r.Results = append(r.Results, results.Source{Path: p, File: f})
		}
	}
	return r, nil
}

// LoadRuns reads run directories; a directory that is not a run but holds
// runs (a reproduction's output) contributes those.
func LoadRuns(paths []string) ([]*Run, error) {
	var out []*Run
	for _, p := range paths {
		if _, err := os.Stat(rundir.Dir(p).Config()); err == nil {
			r, err := LoadRun(p)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
			continue
		}
		subs, err := filepath.Glob(filepath.Join(p, "*", rundir.ConfigFile))
		if err != nil {
			return nil, err
		}
		if len(subs) == 0 {
			return nil, fmt.Errorf("study: %s is neither a run directory nor holds any", p)
		}
		sort.Strings(subs)
		for _, s := range subs {
			r, err := LoadRun(filepath.Dir(s))
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("study: no runs")
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Record.Config, out[j].Record.Config
		if ra, rb := normRank(a.Norm), normRank(b.Norm); ra != rb {
			return ra < rb
		}
		if a.Norm != b.Norm {
			return a.Norm < b.Norm
		}
		return a.Seed < b.Seed
	})
	return out, nil
}

// normRank orders the paper's norms first, in its column order.
func normRank(norm string) int {
	for i, n := range DefaultNorms {
		if n == norm {
			return i
		}
	}
	return len(DefaultNorms)
}

// labels names each run in legends: the norm as the paper spells it, with
// the seed when a norm has several runs and the objective when runs differ
// in it.
func labels(runs []*Run) []string {
	count := map[string]int{}
	objectives := map[string]bool{}
	for _, r := range runs {
		count[r.Record.Config.Norm]++
		objectives[r.Record.Config.Objective] = true
	}
	out := make([]string, len(runs))
	for i, r := range runs {
		c := r.Record.Config
		l := reports.DisplayName(c.Norm)
		if len(objectives) > 1 {
			l += " " + c.Objective
		}
		if count[c.Norm] > 1 {
			l += fmt.Sprintf(" s%d", c.Seed)
		}
		out[i] = l
	}
	return out
}

// ResultFiles expands paths into evaluation result files: a file as given;
// a directory's result files, or its results/ directory's; a directory of
// runs (a reproduction), each run's.
func ResultFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("study: %w", err)
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		// A run directory's results/, else a reproduction's runs, else the
		// directory itself (a results directory).
		dirs := []string{rundir.Dir(p).Results()}
		if _, err := os.Stat(rundir.Dir(p).Config()); err == nil && !isDir(dirs[0]) {
			return nil, &NoResultsError{Path: p, Run: true}
		}
		if !isDir(dirs[0]) {
			if dirs, _ = filepath.Glob(filepath.Join(p, "*", rundir.ResultsDir)); len(dirs) == 0 {
				dirs = []string{p}
			}
		}
		var found []string
		for _, dir := range dirs {
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if !e.IsDir() && rundir.IsResultFile(e.Name()) {
					found = append(found, filepath.Join(dir, e.Name()))
				}
			}
		}
		if len(found) == 0 {
			return nil, &NoResultsError{Path: p}
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// ReadResults expands paths (ResultFiles) and reads every result file.
func ReadResults(paths []string) ([]results.Source, error) {
	files, err := ResultFiles(paths)
	if err != nil {
		return nil, err
	}
	var srcs []results.Source
	for _, p := range files {
		f, err := results.Read(p)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, results.Source{Path: p, File: f})
	}
	return srcs, nil
}
