package nn

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"gorgonia.org/tensor"
)

func TestGraphBindsOneNodePerVar(t *testing.T) {
	v := NewVar("w", tensor.Float32, 3)
	g := NewGraph()
	a, b := g.Node(v), g.Node(v)
	assert.Same(t, a, b)
	assert.Equal(t, []*Var{v}, g.Bound())
	// Another graph gets another node bound to the same tensor.
	g2 := NewGraph()
	c := g2.Node(v)
	assert.NotSame(t, a, c)
	v.SetFloat64s([]float64{1, 2, 3})
	assert.Equal(t, []float32{1, 2, 3}, c.Value().Data())
	assert.Equal(t, []float32{1, 2, 3}, a.Value().Data())
}

func TestConversions(t *testing.T) {
	v := NewVar("x", tensor.Float64, 2, 2)
	v.SetFloat64s([]float64{1, 2, 3, 4.5})
	assert.Equal(t, []float64{1, 2, 3, 4.5}, v.Float64s())
	assert.Equal(t, "clean", Clean.String())
	assert.Equal(t, "adv", Adv.String())
	assert.Equal(t, "eval", Eval.String())
}
