package attack

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCheckSweep: what a sweep refuses before any attack runs, with the
// field and value it names.
func TestCheckSweep(t *testing.T) {
	grid := []float64{0, 2.0 / 255, 8.0 / 255}
	cases := []struct {
		name   string
		steps  int
		o      Options
		eps    []float64
		field  string
		value  any
		reason string
	}{
		{"no steps", 0, DefaultOptions(), grid, "steps", 0, "at least 1"},
		{"eps 0: no step ratio", 10, Options{Step: 2.0 / 255}, grid, "eps", 0.0, "(0, 1]"},
		{"step 0", 10, Options{Eps: 8.0 / 255}, grid, "step", 0.0, "positive step"},
		{"empty grid", 10, DefaultOptions(), nil, "grid", "(empty)", "at least one"},
		{"unsorted", 10, DefaultOptions(), []float64{0, 8.0 / 255, 4.0 / 255}, "grid", "4/255", "follows 8/255"},
		{"repeated", 10, DefaultOptions(), []float64{0, 4.0 / 255, 4.0 / 255}, "grid", "4/255", "each once"},
		{"negative", 10, DefaultOptions(), []float64{-1.0 / 255, 0}, "grid", "-1/255", "in [0, 1]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckSweep(c.steps, c.o, c.eps)
			var bad *SweepError
			require.ErrorAs(t, err, &bad)
			assert.Equal(t, c.field, bad.Field)
			assert.Equal(t, c.value, bad.Value)
			assert.Contains(t, err.Error(), c.reason)
		})
	}
	assert.NoError(t, CheckSweep(10, DefaultOptions(), grid), "eps 0 in the grid is the standard accuracy")
}

// TestSweepAttacks: at each eps, PGD with the step 2/255 : 8/255 = 1/4 of
// that eps.
func TestSweepAttacks(t *testing.T) {
	as := SweepAttacks(7, DefaultOptions(), []float64{0, 4.0 / 255, 16.0 / 255})
	require.Len(t, as, 3)
	for i, want := range []struct{ eps, step float64 }{{0, 0}, {4.0 / 255, 1.0 / 255}, {16.0 / 255, 4.0 / 255}} {
		p := as[i].Params()
		assert.Equal(t, "pgd-7", p.Name)
		assert.Equal(t, 7, p.Steps)
		assert.InDelta(t, want.eps, p.Eps, 1e-15)
		assert.InDelta(t, want.step, p.Step, 1e-15)
		assert.True(t, p.RandomStart)
	}
}
