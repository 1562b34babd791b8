package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/advbench/advbench/attack"
	"github.com/advbench/advbench/results"
	"github.com/advbench/advbench/rundir"
	"github.com/advbench/advbench/study"
	"github.com/urfave/cli/v2"
)

// formatFlag is the --format flag of commands that print results.
func formatFlag(dst *string) cli.Flag {
	return &cli.StringFlag{
		Name:        "format",
		Usage:       "result format: text (a table) or json (data)",
		Value:       "text",
		Destination: dst,
	}
}

func checkFormat(f string) error {
	if f != "text" && f != "json" {
		return usagef("--format %q: want text or json", f)
	}
	return nil
}

// checkFormatIn refuses a --format outside the allowed renderings.
func checkFormatIn(format string, allowed []string) error {
	for _, f := range allowed {
		if f == format {
			return nil
		}
	}
	return usagef("--format %q: want one of %s", format, strings.Join(allowed, ", "))
}

// attackOptions reads --eps and --step (numbers or n/255) into the paper's
// attack options.
func attackOptions(eps, step string) (attack.Options, error) {
	o := attack.DefaultOptions()
	var err error
	if o.Eps, err = attack.ParseEps(eps); err != nil {
		return o, usagef("--eps: %v", err)
	}
	if o.Step, err = attack.ParseEps(step); err != nil {
		return o, usagef("--step: %v", err)
	}
	return o, nil
}

// forceFlag is the --force flag of commands that write files: without it
// they refuse to replace an existing one.
func forceFlag(dst *bool) cli.Flag {
	return &cli.BoolFlag{Name: "force", Usage: "replace existing output files", Destination: dst}
}

// refuseOverwrite fails when path exists and force is not set; flag names
// the option that gave the path.
func refuseOverwrite(flag, path string, force bool) error {
	if force {
		return nil
	}
	if _, err := os.Lstat(path); err == nil {
		return usagef("--%s %s: the file exists; give --force to replace it", flag, path)
	}
	return nil
}

// forceHint turns a refusal to replace a file of another evaluation
// (results.Identity) into a usage error (exit 2) that names --force; other
// errors pass unchanged.
func forceHint(err error) error {
	var other *results.OtherEvaluationError
	if errors.As(err, &other) {
		return usagef("%v; give --force to recompute and replace it", err)
	}
	return err
}

// resultsHint says how to make the evaluation results a path lacks.
func resultsHint(err error) error {
	var none *study.NoResultsError
	switch {
	case !errors.As(err, &none):
		return err
	case none.Run:
		return fmt.Errorf("%w: make them with 'advbench eval %s'", err, none.Path)
	}
	return fmt.Errorf("%w (run 'advbench eval' first)", err)
}

// checkAtLeast refuses an integer flag below min.
func checkAtLeast(flag string, v, min int) error {
	if v < min {
		return usagef("--%s %d: want at least %d", flag, v, min)
	}
	return nil
}

// checkSelect refuses a --select that names no checkpoint
// (rundir.CheckpointName: last, best, reference or epoch-NNN).
func checkSelect(sel string) error {
	if _, err := rundir.CheckpointName(sel); err != nil {
		return usagef("--select %q: want last, best, reference or epoch-NNN", sel)
	}
	return nil
}

// checkDataPath refuses a --data path that does not exist.
func checkDataPath(path string) error {
	if path == "" || path == "builtin" {
		return nil
	}
	if _, err := os.Stat(path); err != nil {
		return usagef("--data %s: %v", path, errors.Unwrap(err))
	}
	return nil
}
