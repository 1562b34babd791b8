// Package source resolves what a command's --data flag names into datasets:
// the built-in synthetic dataset when it is empty (or "builtin"), otherwise
// CIFAR-10 in any form package cifar reads (a directory of either release's
// batch files, a directory holding one, an official tarball, or a single
// batch file). It records the provenance so results can say what data
// produced them.
package source

import (
	"fmt"

	"github.com/advbench/advbench/data/cifar"
	"github.com/advbench/advbench/data/synth"
)

// Builtin is the --data spelling of the built-in synthetic dataset.
const Builtin = "builtin"

// Spec names a dataset: Path empty or "builtin" selects the synthetic data
// described by Synth; anything else is a CIFAR-10 path (cifar.Resolve).
type Spec struct {
	Path  string
	Synth synth.Config
}

// IsBuiltin reports whether the spec selects the built-in data.
func (s Spec) IsBuiltin() bool { return s.Path == "" || s.Path == Builtin }

// IsFile reports whether the spec names a single CIFAR-10 batch file
// (binary or pickled) rather than the built-in data, a directory or a
// tarball. A single batch file is one split only: a run trains and
// validates on it, and tests on other data. A tarball is a file too, but it
// holds both splits.
func (s Spec) IsFile() bool {
	if s.IsBuiltin() {
		return false
	}
	_, f, err := cifar.Resolve(s.Path)
	return err == nil && f == cifar.BatchFile
}

// Describe returns a one-line provenance, e.g. "builtin synth (seed 1, 10000 train, 2000 test)".
func (s Spec) Describe() string {
	if s.IsBuiltin() {
		c := s.Synth
		if c.Seed == 0 {
			c.Seed = synth.DefaultSeed
		}
		return fmt.Sprintf("builtin synth (seed %d, %s train, %s test)", c.Seed, orDefault(c.NTrain, 10000), orDefault(c.NTest, 2000))
	}
	return s.Path
}

func orDefault(n, def int) string {
	if n == 0 {
		n = def
	}
	return fmt.Sprint(n)
}

// ClassNames returns the names of the classes: the built-in data's
// gratings, or CIFAR-10's objects.
func (s Spec) ClassNames() [cifar.NumClasses]string {
	if s.IsBuiltin() {
		return synth.ClassNames
	}
	return cifar.ClassNames
}

// Load returns the split the spec names.
func Load(s Spec, split cifar.Split) (*cifar.Dataset, error) {
	if s.IsBuiltin() {
		return synth.Split(s.Synth, split)
	}
	return cifar.Load(s.Path, split)
}
