package attack

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCheckRefusesInconsistentSavedState: a hand-edited saved evaluation
// with short arrays is refused by Check instead of panicking later.
func TestCheckRefusesInconsistentSavedState(t *testing.T) {
	a, err := New("fgsm", DefaultOptions())
	require.NoError(t, err)
	attacks := []Attack{a}
	ev, err := NewEvaluation(attacks, EvalConfig{})
	require.NoError(t, err)
	require.NoError(t, ev.Check(attacks), "a fresh evaluation is consistent")

	short := *ev
	short.Batches, short.CleanCorrect, short.Robust = 1, []bool{true, false}, [][]bool{{true}}
	assert.ErrorContains(t, short.Check(attacks), "1 robust flags for 2 examples")

	noStats := *ev
	noStats.Stats = nil
	assert.ErrorContains(t, noStats.Check(attacks), "0 stats for 1 attacks")
}
