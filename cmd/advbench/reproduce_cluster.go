package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/advbench/advbench/cluster"
	"github.com/advbench/advbench/internal/atomicfile"
	"github.com/advbench/advbench/rundir"
	"github.com/advbench/advbench/study"
	"github.com/urfave/cli/v2"
)

type planOptions struct {
	reproduceOptions
	Target  string
	Cluster cluster.Options
	Out     string
}

func newReproducePlanCommand() *cli.Command {
	var opts planOptions
	return &cli.Command{
		Name:  "plan",
		Usage: "write a Kubernetes Indexed Job or a Slurm array that runs the cells",
		Description: `Prints (or writes to --out) the manifest that runs a reproduction's cells on an
existing batch system, one task per (norm, seed) cell, each running
'advbench reproduce --cell auto' into the shared results location:

  --target k8s    a batch/v1 Job: completionMode Indexed, completions = cells,
                  parallelism, backoffLimitPerIndex 3, CPU and memory requests
                  from the preset's measured needs, the --results
                  PersistentVolumeClaim mounted at /results
  --target slurm  an sbatch script with an array of the same size

It also lists the cells and their estimated CPU-hours (the preset table:
measured for smoke, ci and quick; estimated for paper from measured
throughputs, training and every epoch's evaluation). When all tasks are done: advbench reproduce merge DIR.

Examples:
  advbench reproduce plan --preset paper --seeds 1,2,3 --target k8s --image registry.example/advbench:0.1 --results advbench-pvc --data /results/cifar10
  advbench reproduce plan --preset quick --target slurm --results /scratch/advbench --data /scratch/cifar10 --out quick.sbatch`,
		Flags: append(planFlags(&opts.reproduceOptions),
			&cli.StringFlag{Name: "target", Value: "k8s", Usage: "k8s or slurm", Destination: &opts.Target},
			&cli.StringFlag{Name: "image", Usage: "k8s: container image holding /advbench", Destination: &opts.Cluster.Image},
			&cli.StringFlag{Name: "results", Usage: "k8s: PersistentVolumeClaim name; slurm: shared directory", Destination: &opts.Cluster.Results},
			&cli.IntFlag{Name: "parallelism", Usage: "cells at once (0: all)", Destination: &opts.Cluster.Parallelism},
			&cli.StringFlag{Name: "name", Usage: "job name (default advbench-PRESET)", Destination: &opts.Cluster.Name},
			&cli.StringFlag{Name: "out", Usage: "write the manifest to `FILE` instead of stdout", Destination: &opts.Out},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("reproduce plan: unexpected argument %q", c.Args().First())
			}
			return runReproducePlan(opts, c.App.Writer, c.App.ErrWriter)
		},
	}
}

func runReproducePlan(opts planOptions, stdout, stderr io.Writer) error {
	p, err := opts.plan()
	if err != nil {
		return err
	}
	// The tasks read the data where they run: it is passed as given.
	opts.Cluster.DataPath, p.Data = p.Data, ""
	var out []byte
	switch opts.Target {
	case "k8s":
		job, err := cluster.Kubernetes(p, opts.Cluster)
		if err != nil {
			return clusterHint(err, opts.Target)
		}
		y, err := cluster.KubernetesYAML(job)
		if err != nil {
			return err
		}
		out = append([]byte(cluster.Summary(p)), y...)
	case "slurm":
		s, err := cluster.Slurm(p, opts.Cluster)
		if err != nil {
			return clusterHint(err, opts.Target)
		}
		out = []byte(s + cluster.Summary(p))
	default:
		return usagef("--target %q: want k8s or slurm", opts.Target)
	}
	if opts.Out == "" {
		_, err := stdout.Write(out)
		return err
	}
	if err := atomicfile.WriteFile(opts.Out, out); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "reproduce plan: wrote %s\n", opts.Out)
	return nil
}

// clusterFlags are the flags that give each field of cluster.Options, per
// target, with what they take.
var clusterFlags = map[string]map[string]string{
	"k8s":   {"Image": "--image (a container image holding /advbench)", "Results": "--results (a PersistentVolumeClaim name)"},
	"slurm": {"Results": "--results (a shared directory)"},
}

// clusterHint turns a plan's missing options into a usage error (exit 2)
// naming their flags; every error of a plan is a usage error.
func clusterHint(err error, target string) error {
	var m *cluster.MissingError
	if !errors.As(err, &m) {
		return usageError{err}
	}
	var flags []string
	for _, f := range m.Missing {
		flags = append(flags, clusterFlags[target][f])
	}
	return usagef("reproduce plan: --target %s needs %s", target, strings.Join(flags, " and "))
}

type mergeOptions struct {
	Dirs         []string
	Out          string
	AllowMissing bool
}

func newReproduceMergeCommand() *cli.Command {
	var opts mergeOptions
	return &cli.Command{
		Name:      "merge",
		Usage:     "render the tables, gradient statistics, plots and report of cells run apart",
		ArgsUsage: "DIR...",
		Description: `Reads the plan recorded in DIR (plan.json) and its cells, wherever among the
DIRs they were written (several result volumes may hold parts), and renders
what 'advbench reproduce' renders: Tables 3 and 4, the gradient table,
tables.*, plots/ and report.md, into --out (default the first DIR). Missing
or unfinished cells are named and fail the merge, unless --allow-missing,
which renders what exists with a visible note.

Examples:
  advbench reproduce merge /results/advbench-paper
  advbench reproduce merge vol-a/advbench-quick vol-b/advbench-quick --out merged --allow-missing`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "output directory (default the first DIR)", Destination: &opts.Out},
			&cli.BoolFlag{Name: "allow-missing", Usage: "render the finished cells and name the missing ones", Destination: &opts.AllowMissing},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usagef("reproduce merge: want at least one DIR")
			}
			opts.Dirs = c.Args().Slice()
			return runReproduceMerge(opts, c.App.Writer, c.App.ErrWriter)
		},
	}
}

func runReproduceMerge(opts mergeOptions, stdout, stderr io.Writer) error {
	p, err := study.ReadPlan(opts.Dirs[0])
	if err != nil {
		return err
	}
	for _, d := range opts.Dirs[1:] {
		q, err := study.ReadPlan(d)
		if err != nil {
			return err
		}
		if fmt.Sprint(q.Preset, q.Data, q.Norms, q.Seeds, q.EvalN, q.GradN, q.Attacks, q.LandscapeEvery) != fmt.Sprint(p.Preset, p.Data, p.Norms, p.Seeds, p.EvalN, p.GradN, p.Attacks, p.LandscapeEvery) {
			return fmt.Errorf("reproduce merge: %s and %s record different plans", opts.Dirs[0], d)
		}
	}
	cells := p.Cells()
	for i, c := range cells {
		for _, d := range opts.Dirs {
			dir := filepath.Join(d, filepath.Base(c.Dir))
			if _, err := os.Stat(rundir.Dir(dir).GradStats()); err == nil {
				cells[i].Dir = dir
				break
			}
		}
	}
	if opts.Out != "" {
		p.Out = opts.Out
	}
	out, err := study.RenderCells(p, cells, opts.AllowMissing)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, out.Tables)
	if len(out.Missing) > 0 {
		var names []string
		for _, c := range out.Missing {
			names = append(names, fmt.Sprintf("%d (%s, seed %d)", c.Index, c.Norm, c.Seed))
		}
		fmt.Fprintf(stdout, "\nNOTE: %d of %d cells missing and not shown: %s\n", len(out.Missing), len(cells), strings.Join(names, ", "))
	}
	fmt.Fprintf(stdout, "\nreport: %s\nplots: %s\n", out.Report, filepath.Join(p.Out, "plots"))
	return nil
}
