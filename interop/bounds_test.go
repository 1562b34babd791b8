package interop

import (
	"testing"

	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/stretchr/testify/assert"
)

// TestTensorOfRefusesHugeViews: a stride-0 view claiming 10^10 elements of
// a one-element storage is refused before anything is allocated.
func TestTensorOfRefusesHugeViews(t *testing.T) {
	view := &pytorch.Tensor{Source: &pytorch.FloatStorage{Data: make([]float32, 1)}, Size: []int{100000, 100000}, Stride: []int{0, 0}}
	_, err := tensorOf(view)
	assert.ErrorContains(t, err, "more than")
}
