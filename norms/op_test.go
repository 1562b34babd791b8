package norms

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestOpHashcodes checks the three ops' hashes against FNV-1a values of
// their WriteHash text computed outside Go ("norm-bn-7", "normgrad-7",
// "normparamgrad-7-1").
func TestOpHashcodes(t *testing.T) {
	fwd := &normOp{spec: spec{label: "bn"}, id: 7}
	assert.Equal(t, uint32(0x9d7abf32), fwd.Hashcode(), "forward")
	assert.Equal(t, uint32(0x9f92d61f), (&normGradOp{fwd: fwd}).Hashcode(), "input gradient")
	assert.Equal(t, uint32(0x6c2d778e), (&paramGradOp{fwd: fwd, i: 1}).Hashcode(), "parameter gradient")
}
