package classify

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestArgmax(t *testing.T) {
	for _, c := range []struct {
		name string
		row  []float32
		want int
	}{
		{"last", []float32{0.1, -3, 7}, 2},
		{"first", []float32{5, 4, 4}, 0},
		{"ties go to the first", []float32{1, 9, 9, 2}, 1},
		{"negative", []float32{-4, -2, -3}, 1},
		{"one", []float32{-1}, 0},
		{"empty", nil, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, Argmax(c.row))
			row64 := make([]float64, len(c.row))
			for i, v := range c.row {
				row64[i] = float64(v)
			}
			assert.Equal(t, c.want, Argmax(row64), "float64")
		})
	}
}

func TestCrossEntropy(t *testing.T) {
	for _, c := range []struct {
		name  string
		row   []float32
		label int
		want  float64
	}{
		{"uniform over 2", []float32{0, 0}, 1, math.Ln2},
		{"uniform over 3, shifted", []float32{5, 5, 5}, 0, math.Log(3)},
		// log(e^0 + e^100 + e^0) - 100 = log(1 + 2e^-100).
		{"confident and right", []float32{0, 100, 0}, 1, 2 * math.Exp(-100)},
		// log(e^0 + e^1000) - 0 = 1000 + log(1 + e^-1000): no overflow.
		{"confident and wrong", []float32{0, 1000}, 0, 1000},
		// log(e^1 + e^2) - 1 = log(1 + e).
		{"two classes", []float32{1, 2}, 0, math.Log(1 + math.E)},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.InDelta(t, c.want, CrossEntropy(c.row, c.label), 1e-12)
		})
	}
}
