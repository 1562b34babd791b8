package landscape

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/advbench/advbench/nn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDistances: per stage (the first element of the parameter names) and
// overall, by hand: "a" moved by (0, 2), "b" by (1, 0, 0).
func TestDistances(t *testing.T) {
	q := newQuadratic(diag53, [5]float64{}, [5]float64{})
	ps, _ := q.State()
	d, err := Distances(ps, [][]float64{{1, 2}, {1, 0, 0}}, [][]float64{{1, 0}, {0, 0, 0}})
	require.NoError(t, err)
	assert.Equal(t, []Distance{{"a", 2}, {"b", 1}, {AllStages, math.Sqrt(5)}}, d)
	_, err = Distances(ps, [][]float64{{1, 2}, {1, 0}}, [][]float64{{1, 0}, {0, 0, 0}})
	assert.EqualError(t, err, "landscape: distances: b.weight has 2 values, its initial value 3")
}

// TestMeasureLine: Measure probes each pass of a step on the network into
// one Line whose grid is the multiples times the learning rate, whose
// distances are per stage of the ResNet, and which reads back from JSON
// with a non-finite value as null.
func TestMeasureLine(t *testing.T) {
	m, x, y := smallNet(t, "saauxbn")
	params := m.Params()
	w0 := Values(params)
	for j := range w0 {
		for k := range w0[j] {
			w0[j][k] = 0
		}
	}
	passes := []Pass{{Input: "clean", X: x, Branch: nn.Clean}, {Input: "adversarial", X: x, Branch: nn.Adv}}
	l, err := Measure(ResNet(m), y, passes, nil, nil, w0, 0.2, Setup{Layers: []string{}})
	require.NoError(t, err)
	assert.Equal(t, Schema, l.Schema)
	assert.Equal(t, "train", l.Mode)
	assert.Equal(t, []float64{0.05, 0.1, 0.2, 0.4, 0.8}, l.Etas)
	var stages []string
	for _, d := range l.Distance {
		stages = append(stages, d.Stage)
	}
	assert.Equal(t, []string{"conv1", "layer1", "layer2", "layer3", "layer4", "linear", AllStages}, stages)
	require.Len(t, l.Probes, 2)
	assert.Equal(t, "clean", l.Probes[0].Branch)
	assert.Equal(t, "adversarial", l.Probes[1].Input)
	assert.NotEqual(t, l.Probes[0].Loss, l.Probes[1].Loss, "saauxbn's branches differ")
	assert.Empty(t, l.Probes[0].Shift, "no layers asked for")

	l.Probes[1].Losses[4] = Num(math.Inf(1))
	b, err := json.Marshal(l)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"losses":[`)
	path := filepath.Join(t.TempDir(), "landscape.jsonl")
	require.NoError(t, os.WriteFile(path, append(b, '\n'), 0o644))
	got, err := ReadFile(path)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.True(t, math.IsNaN(float64(got[0].Probes[1].Losses[4])), "infinity is written null and read NaN")
	assert.Equal(t, l.Probes[0], got[0].Probes[0])

	require.NoError(t, os.WriteFile(path, []byte(`{"schema":"advbench.landscape/v0"}`+"\n"), 0o644))
	_, err = ReadFile(path)
	assert.EqualError(t, err, "landscape: "+path+`: line 1: schema "advbench.landscape/v0", want "advbench.landscape/v1"`)
	lines, err := ReadFile(filepath.Join(t.TempDir(), "none.jsonl"))
	assert.NoError(t, err)
	assert.Empty(t, lines)
}
