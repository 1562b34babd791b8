package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"

	"github.com/advbench/advbench/attack"
	"github.com/advbench/advbench/internal/sgemm"
	"github.com/advbench/advbench/nn"
	"github.com/advbench/advbench/norms"
	"github.com/advbench/advbench/results"
	"github.com/advbench/advbench/rundir"
	"github.com/advbench/advbench/study"
	"github.com/urfave/cli/v2"
)

// What every command shares: usage errors (exit 2), the --format vocabulary
// and its JSON rendering, the interrupt context, and the checks and hints of
// flags that several commands take.

// The --format vocabulary, one for every command that prints results: table
// is the rendering for reading (the default everywhere), json the data;
// some commands add markdown, csv or latex.
const (
	formatTable = "table"
	formatJSON  = "json"
)

// tableJSON are the renderings of a command that prints a table or its data.
var tableJSON = []string{formatTable, formatJSON}

// formatAliases are deprecated --format values, accepted with a warning so
// that old scripts keep working: "text" named the table of train, eval,
// bench, data and model commands until their vocabulary joined that of
// eval tables, gradstats and regress.
var formatAliases = map[string]string{"text": formatTable}

// formatFlag is the --format flag of a command whose renderings are allowed
// (allowed[0] is the default). A deprecated alias given on the command line
// is replaced by its value, with a warning on stderr.
func formatFlag(dst *string, allowed []string) cli.Flag {
	return &cli.StringFlag{
		Name:        "format",
		Usage:       "result format: " + orList(allowed) + ` ("text" is an old name for table)`,
		Value:       allowed[0],
		Destination: dst,
		Action: func(c *cli.Context, v string) error {
			if to, ok := formatAliases[v]; ok {
				fmt.Fprintf(c.App.ErrWriter, "advbench: --format %s is deprecated; use --format %s\n", v, to)
				*dst = to
			}
			return checkFormat(*dst, allowed)
		},
	}
}

// checkFormat refuses a --format outside the allowed renderings.
func checkFormat(format string, allowed []string) error {
	if slices.Contains(allowed, format) {
		return nil
	}
	return usagef("--format %q: want %s", format, orList(allowed))
}

// orList spells names as "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// printJSON writes v to w as indented JSON, the --format json of every
// command.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// usageError marks an error as the user's command line being wrong.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

func onUsageError(_ *cli.Context, err error, _ bool) error { return usageError{err} }

// signalContext is cancelled by the first SIGINT or SIGTERM, which it
// announces; a second one ends the process at once. stop releases the
// signals without announcing anything.
func signalContext(stderr io.Writer) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sig:
			signal.Stop(sig) // the next signal takes its default course
			fmt.Fprintln(stderr, "advbench: interrupted: finishing the step and checkpointing (interrupt again to abort at once)")
			cancel()
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sig)
		close(done)
		cancel()
	}
}

// checkNorm validates a --norm value against the registry.
func checkNorm(name string) error {
	for _, n := range norms.Names() {
		if n == name {
			return nil
		}
	}
	return usagef("--norm %q: want one of %s", name, strings.Join(norms.Names(), ", "))
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
// startCPUProfile starts a pprof CPU profile written to path ("" starts
// nothing) and returns the function that ends it; cmd names the command in
// errors.
func startCPUProfile(cmd, path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("%s: --cpuprofile: %w", cmd, err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: --cpuprofile: %w", cmd, err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

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

// attackPrecisionFlag is --attack-precision of the commands that run
// attacks (eval, train, bench).
func attackPrecisionFlag(dst *string) cli.Flag {
	return &cli.StringFlag{Name: "attack-precision", Value: "fp32", Usage: "precision of the attack steps' convolutions (forward passes and input gradients): fp32, or bf16 (bf16 operands, float32 sums; needs a CPU with AVX512_BF16); clean and final classifications and training passes stay fp32", Destination: dst}
}

// parseAttackPrecision reads --attack-precision, refusing bf16 on a CPU
// without AVX512_BF16: there only the portable bf16 kernel could run, which
// serves the tests and is far slower than the float32 kernels.
func parseAttackPrecision(s string) (nn.Precision, error) {
	p, err := nn.ParsePrecision(s)
	if err != nil {
		return nn.FP32, usagef("--attack-precision: %v", err)
	}
	if p == nn.BF16 && !sgemm.HasBF16() {
		return nn.FP32, usagef("--attack-precision bf16: this CPU has no AVX512_BF16 instructions (lscpu: avx512_bf16) for the bf16 kernel; use fp32")
	}
	return p, nil
}
