package registry

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRegistry(t *testing.T) {
	r := New[int]("thing")
	r.Register("b", "the b", 2)
	r.Register("a", "the a", 1)
	assert.Equal(t, []string{"a", "b"}, r.Names())
	assert.Equal(t, "the b", r.Summary("b"))
	v, err := r.Get("a")
	require.NoError(t, err)
	assert.Equal(t, 1, v)
	_, err = r.Get("c")
	assert.EqualError(t, err, `unknown thing "c" (known: a, b)`)
	assert.Panics(t, func() { r.Register("a", "again", 3) })
}
