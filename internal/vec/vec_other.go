//go:build !amd64

package vec

var level = goLoops

func available() []isa { return []isa{goLoops} }

// asm is indexed by level; level never leaves goLoops here.
var asm [avx512 + 1]loops
