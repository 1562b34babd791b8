// Package registry is the name → constructor table behind advbench's
// pluggable pieces (norms, attacks): registration from init functions,
// sorted names for CLI help and conformance tests, one-line summaries.
package registry

import (
	"fmt"
	"sort"
	"strings"
)

// Registry maps names to values of type T (usually constructors).
type Registry[T any] struct {
	kind    string // "norm", "attack": used in errors
	entries map[string]entry[T]
}

type entry[T any] struct {
	summary string
	value   T
}

// New returns an empty registry of the given kind.
func New[T any](kind string) *Registry[T] {
	return &Registry[T]{kind: kind, entries: map[string]entry[T]{}}
}

// Register adds a name; registering a name twice is a programming error.
func (r *Registry[T]) Register(name, summary string, v T) {
	if _, dup := r.entries[name]; dup {
		panic(fmt.Sprintf("registry: %s %q registered twice", r.kind, name))
	}
	r.entries[name] = entry[T]{summary, v}
}

// Names returns the registered names, sorted.
func (r *Registry[T]) Names() []string {
	out := make([]string, 0, len(r.entries))
	for n := range r.entries {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Summary returns a name's one-line description ("" when unknown).
func (r *Registry[T]) Summary(name string) string { return r.entries[name].summary }

// Get returns the value of a name, or an error listing the known names.
func (r *Registry[T]) Get(name string) (T, error) {
	e, ok := r.entries[name]
	if !ok {
		var zero T
		return zero, fmt.Errorf("unknown %s %q (known: %s)", r.kind, name, strings.Join(r.Names(), ", "))
	}
	return e.value, nil
}
