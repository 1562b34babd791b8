package attack

import (
	"slices"
	"sort"

	"github.com/advbench/advbench/results"
)

// suites are named lists of attacks, run in order under AutoAttack's
// protocol (each pruned attack only on the points still robust).
var suites = map[string][]string{
	// AutoAttack "standard" (Croce & Hein 2020, arXiv:2003.01690): the
	// leaderboard number of RobustBench.
	"aa": results.AutoAttackNames(),
	// AutoAttack "plus" without its untargeted FAB (not implemented here):
	// AutoAttack's plus also runs 5 restarts of apgd-ce and apgd-dlr
	// (--restarts sets the restarts of every attack).
	"aa-plus": {"apgd-ce", "apgd-dlr", "square", "apgd-t", "fab-t"},
}

// SuiteNames returns the names of the attack suites, sorted.
func SuiteNames() []string {
	var out []string
	for k := range suites {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Suite returns the attacks of a named suite in order, or nil.
func Suite(name string) []string { return slices.Clone(suites[name]) }

// ExpandSuites replaces every suite name in a list of attack names by its
// attacks, dropping an attack already listed earlier: "pgd-20,aa" is
// pgd-20, apgd-ce, apgd-t, fab-t, square.
func ExpandSuites(names []string) []string {
	var out []string
	add := func(n string) {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	for _, n := range names {
		if s, ok := suites[n]; ok {
			for _, a := range s {
				add(a)
			}
			continue
		}
		add(n)
	}
	return out
}
