package textfmt

import (
	"strconv"
	"strings"
)

// shortHash is how many leading hex digits of a hash ShortHash keeps.
const shortHash = 12

// ShortHash abbreviates a hex digest to its first 12 digits (a shorter
// string is returned as it is).
func ShortHash(h string) string {
	if len(h) > shortHash {
		return h[:shortHash]
	}
	return h
}

// JoinSeeds spells seeds as "1,2,3", the form --seeds takes.
func JoinSeeds(s []uint64) string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = strconv.FormatUint(v, 10)
	}
	return strings.Join(out, ",")
}
