package source

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/advbench/advbench/data/cifar"
	"github.com/advbench/advbench/data/cifar/cifartest"
	"github.com/advbench/advbench/data/synth"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBuiltinAndPath(t *testing.T) {
	s := Spec{Synth: synth.Config{NTrain: 30, NTest: 20}}
	assert.True(t, s.IsBuiltin())
	assert.Equal(t, "builtin synth (seed 1, 30 train, 20 test)", s.Describe())
	assert.Equal(t, "grating ±90° magenta", s.ClassNames()[9], "the built-in classes are gratings, not CIFAR-10's objects")
	te, err := Load(s, cifar.Test)
	require.NoError(t, err)
	assert.Equal(t, 20, te.Len())

	f := filepath.Join(t.TempDir(), "x.bin")
	require.NoError(t, os.WriteFile(f, cifar.Encode(te), 0o644))
	p := Spec{Path: f}
	assert.False(t, p.IsBuiltin())
	assert.Equal(t, "airplane", p.ClassNames()[0])
	back, err := Load(p, cifar.Train)
	require.NoError(t, err)
	assert.Equal(t, te.Images, back.Images)

	_, err = Load(Spec{Path: filepath.Join(t.TempDir(), "missing")}, cifar.Test)
	assert.ErrorContains(t, err, "no such file or directory")
}

// TestIsFile: a single batch file of either release is one split; a
// tarball is a file that holds both, and a directory holds both.
func TestIsFile(t *testing.T) {
	formats := t.TempDir()
	_, _, err := cifartest.WriteFormats(formats)
	require.NoError(t, err)
	for p, want := range map[string]bool{
		formats + "/bin/test_batch.bin":            true,
		formats + "/py/test_batch":                 true,
		"../cifar/testdata/formats/test_p4.pickle": true,
		formats + "/cifar-10-python.tar.gz":        false,
		formats + "/cifar-10-binary.tar.gz":        false,
		formats + "/py":                            false,
		Builtin:                                    false,
		formats + "/no-such-file":                  false,
	} {
		assert.Equal(t, want, Spec{Path: p}.IsFile(), p)
	}
}
