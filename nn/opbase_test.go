package nn

import (
	"hash"
	"testing"

	"github.com/advbench/advbench/internal/conv"
	"github.com/stretchr/testify/assert"
	"gorgonia.org/tensor"
)

// hashWriter is an op reduced to what Hashcode reads.
type hashWriter string

func (w hashWriter) WriteHash(h hash.Hash) { h.Write([]byte(w)) }

// TestHashcode checks Hashcode against FNV-1a values computed outside Go:
// the published test vector for "foobar" and the hashes of two ops'
// String(), which their WriteHash writes.
func TestHashcode(t *testing.T) {
	for _, c := range []struct {
		name string
		op   interface{ WriteHash(hash.Hash) }
		want uint32
	}{
		{"foobar", hashWriter("foobar"), 0xbf9cf968},
		{"relu", &reluOp{dims: 4}, 0x5eb65f46},
		{"conv", &convOp{g: conv.Geom{C: 3, H: 8, W: 8, Cout: 5, K: 3, Stride: 1, Pad: 1}}, 0x3efda8fa},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, Hashcode(c.op))
		})
	}
}

func TestNewLike(t *testing.T) {
	src := tensor.New(tensor.WithShape(2), tensor.WithBacking([]float32{1, 2}))
	d := NewLike(src, 3, 1)
	assert.Equal(t, tensor.Float32, d.Dtype())
	assert.Equal(t, tensor.Shape{3, 1}, d.Shape())
	assert.Equal(t, []float32{0, 0, 0}, d.Data())
}
