package train

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/advbench/advbench/data/cifar/cifartest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDataHashSameAcrossFormats: a run records the same data hash whether
// the records come as binary files, python pickles, a directory holding the
// unpacked release, or either tarball; a single batch file of either
// release is one split in both.
func TestDataHashSameAcrossFormats(t *testing.T) {
	formats := t.TempDir()
	_, _, err := cifartest.WriteFormats(formats)
	require.NoError(t, err)
	parent := t.TempDir()
	sub := filepath.Join(parent, "cifar-10-batches-py")
	require.NoError(t, os.MkdirAll(sub, 0o755))
	ents, err := os.ReadDir(filepath.Join(formats, "py"))
	require.NoError(t, err)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(formats, "py", e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(sub, e.Name()), b, 0o644))
	}
	c, err := Preset("paper") // every record: train_n, val_n, test_n 0
	require.NoError(t, err)
	c.ValFraction, c.Batch = 0.5, 1

	hash := func(data string) DataInfo {
		c := c
		c.Data = data
		d, err := LoadData(c)
		require.NoError(t, err, data)
		return d.Info
	}
	ref := hash(filepath.Join(formats, "bin"))
	assert.Equal(t, [3]int{5, 5, 2}, [3]int{ref.Train, ref.Val, ref.Test})
	for _, p := range []string{
		filepath.Join(formats, "py"), parent,
		filepath.Join(formats, "cifar-10-binary.tar.gz"), filepath.Join(formats, "cifar-10-python.tar.gz"),
	} {
		got := hash(p)
		assert.Equal(t, ref.SHA256, got.SHA256, p)
		assert.Empty(t, got.NoTest, p)
	}
	one := hash(filepath.Join(formats, "bin", "test_batch.bin"))
	for _, p := range []string{filepath.Join(formats, "py", "test_batch")} { // Python-written single pickles: data/cifar TestSingleBatchFiles
		got := hash(p)
		assert.Equal(t, one.SHA256, got.SHA256, p)
		assert.Equal(t, singleFileNoTest, got.NoTest, p)
	}
}
