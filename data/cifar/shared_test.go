package cifar

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sharedDir is the real CIFAR-10 that development machines and CI have beside
// the repository. Tests that need it skip with a message where it is absent.
func sharedDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "cifar10"))
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(dir, "data_batch_1.bin")); err != nil {
		t.Skipf("real CIFAR-10 not found at %s (it lives beside the repository on dev and CI machines); skipping", dir)
	}
	return dir
}

func TestSharedCounts(t *testing.T) {
	dir := sharedDir(t)
	te, err := ReadFile(filepath.Join(dir, TestFile))
	require.NoError(t, err)
	assert.Equal(t, 1000, te.Len())
	assert.Equal(t, [NumClasses]int{103, 89, 100, 103, 90, 86, 112, 102, 106, 109}, te.ClassCounts())
	assert.Equal(t, uint8(3), te.Labels[0], "the first test image is a cat")

	b1, err := ReadFile(filepath.Join(dir, "data_batch_1.bin"))
	require.NoError(t, err)
	assert.Equal(t, [NumClasses]int{1005, 974, 1032, 1016, 999, 937, 1030, 1001, 1025, 981}, b1.ClassCounts())
}

func TestSharedVerify(t *testing.T) {
	dir := sharedDir(t)
	reps, err := Verify(dir)
	require.NoError(t, err)
	require.Len(t, reps, 6)
	for _, r := range reps[:5] {
		assert.True(t, r.Official, r.Name)
		assert.Equal(t, 10000, r.Records, r.Name)
		assert.Empty(t, r.Problem, r.Name)
	}
	assert.Equal(t, "test_batch.bin", reps[5].Name)
	assert.False(t, reps[5].Official)
	assert.Equal(t, 1000, reps[5].Records)
}

func TestVerifyProblems(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "data_batch_1.bin"), makeRecords(2)[:100], 0o644))
	reps := VerifyDir(dir)
	assert.True(t, reps[0].Present)
	assert.False(t, reps[0].Official)
	assert.Contains(t, reps[0].Problem, "record 0: truncated")
	assert.False(t, reps[1].Present)
	assert.Equal(t, "missing", reps[1].Problem)
}
