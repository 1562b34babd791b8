package cifar

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// makeRecords builds n records with label i%10 and pixel bytes (i+j)%256.
func makeRecords(n int) []byte {
	raw := make([]byte, 0, n*RecordBytes)
	for i := 0; i < n; i++ {
		raw = append(raw, byte(i%NumClasses))
		for j := 0; j < ImageBytes; j++ {
			raw = append(raw, byte((i+j)%256))
		}
	}
	return raw
}

func TestParseRoundTrip(t *testing.T) {
	raw := makeRecords(7)
	d, err := Parse("x.bin", raw)
	require.NoError(t, err)
	assert.Equal(t, 7, d.Len())
	assert.Equal(t, uint8(3), d.Labels[3])
	assert.Equal(t, uint8((3+5)%256), d.Image(3)[5])
	assert.Equal(t, raw, Encode(d))

	f := make([]float32, ImageBytes)
	d.Float32(1, f)
	assert.InDelta(t, float32(1)/255, f[0], 1e-7)
	assert.InDelta(t, float32(255)/255, f[254], 1e-7)
}

func TestParseErrors(t *testing.T) {
	good := makeRecords(3)
	badLabel := append([]byte{}, good...)
	badLabel[2*RecordBytes] = 10
	cases := []struct {
		name string
		raw  []byte
		want string
	}{
		{"empty", nil, "x.bin: empty file"},
		{"truncated by one byte", good[:len(good)-1], "x.bin: record 2: truncated, 3072 of 3073 bytes"},
		{"one stray byte", good[:RecordBytes+1], "x.bin: record 1: truncated, 1 of 3073 bytes"},
		{"label 10", badLabel, "x.bin: record 2: label 10 out of range 0..9"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("x.bin", c.raw)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.True(t, strings.HasPrefix(err.Error(), "cifar: "), err.Error())
			assert.NotContains(t, err.Error(), "\n", "errors are one line")
		})
	}
}

func TestReadFileAndLoad(t *testing.T) {
	dir := t.TempDir()
	for i, n := range TrainFiles {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), makeRecords(i+1), 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, TestFile), makeRecords(4), 0o644))

	tr, err := Load(dir, Train)
	require.NoError(t, err)
	assert.Equal(t, 1+2+3+4+5, tr.Len())
	te, err := Load(dir, Test)
	require.NoError(t, err)
	assert.Equal(t, 4, te.Len())
	one, err := Load(filepath.Join(dir, "data_batch_2.bin"), Test)
	require.NoError(t, err)
	assert.Equal(t, 2, one.Len())

	_, err = ReadFile(filepath.Join(dir, "nope.bin"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nope.bin: file not found")

	require.NoError(t, os.Remove(filepath.Join(dir, "data_batch_4.bin")))
	_, err = Load(dir, Train)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "data_batch_4.bin: file not found")
}

func TestSubsetAndCounts(t *testing.T) {
	d, err := Parse("x", makeRecords(25))
	require.NoError(t, err)
	s := d.Subset([]int{3, 13, 4})
	assert.Equal(t, []uint8{3, 3, 4}, s.Labels)
	assert.Equal(t, d.Image(13), s.Image(1))
	assert.Equal(t, [NumClasses]int{3, 3, 3, 3, 3, 2, 2, 2, 2, 2}, d.ClassCounts())
}

// FuzzParse checks that no input makes the parser panic, and that whatever it
// accepts re-encodes to the same bytes. Seed corpus: testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add(makeRecords(1))
	f.Add([]byte{})
	f.Add([]byte{10})
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := Parse("fuzz", raw)
		if err != nil {
			return
		}
		if got := Encode(d); string(got) != string(raw) {
			t.Fatalf("round trip changed %d bytes into %d", len(raw), len(got))
		}
	})
}
