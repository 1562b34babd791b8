package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteReplacesOnlyOnSuccess(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.bin")
	require.NoError(t, WriteFile(p, []byte("first")))
	boom := errors.New("boom")
	err := Write(p, func(w io.Writer) error {
		w.Write([]byte("half-writ"))
		return boom
	})
	assert.ErrorIs(t, err, boom)
	got, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "first", string(got), "a failed write keeps the old content")
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, ents, 1, "no temporary file is left behind")

	require.NoError(t, WriteFile(p, []byte("second")))
	got, _ = os.ReadFile(p)
	assert.Equal(t, "second", string(got))
}

// TestWriteJSON: indented JSON with a final newline; a value JSON cannot
// encode leaves the file as it was.
func TestWriteJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.json")
	require.NoError(t, WriteJSON(path, map[string]float64{"sa": 0.5}))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "{\n  \"sa\": 0.5\n}\n", string(b))
	assert.Error(t, WriteJSON(path, map[string]any{"c": make(chan int)}))
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, b, after)
}
