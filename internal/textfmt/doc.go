// Package textfmt spells values the same way wherever advbench writes them
// into text: a sha256 abbreviated to its first 12 hex digits, a list of
// seeds as the comma-separated list the --seeds flag takes.
package textfmt
