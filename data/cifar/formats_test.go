package cifar

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// formats is the fixture directory scripts/make_cifar_format_fixtures.py
// writes: the same 12 records in every form, and damaged pickles.
const formats = "testdata/formats"

// expectation is the fixture script's own account of a split: its labels
// and the sha256 of its records in the binary layout.
type expectation struct {
	Labels []uint8 `json:"labels"`
	SHA256 string  `json:"sha256"`
}

func readExpect(t *testing.T) map[Split]expectation {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(formats, "expect.json"))
	require.NoError(t, err)
	var e map[Split]expectation
	require.NoError(t, json.Unmarshal(raw, &e))
	require.Len(t, e[Train].Labels, 10)
	require.Len(t, e[Test].Labels, 2)
	return e
}

func recordsSHA256(d *Dataset) string {
	h := sha256.Sum256(Encode(d))
	return hex.EncodeToString(h[:])
}

// copyDir copies the files of src into dst (created).
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dst, 0o755))
	ents, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644))
	}
}

// TestFormatsLoadIdentically: the binary directory, the python directory,
// a directory holding either release directory and both tarballs give the
// records the fixture script wrote, split by split.
func TestFormatsLoadIdentically(t *testing.T) {
	want := readExpect(t)
	parentBin, parentPy := t.TempDir(), t.TempDir()
	copyDir(t, filepath.Join(formats, "bin"), filepath.Join(parentBin, BinaryReleaseDir))
	copyDir(t, filepath.Join(formats, "py"), filepath.Join(parentPy, PythonReleaseDir))
	cases := []struct {
		name   string
		path   string
		format Format
	}{
		{"binary directory", filepath.Join(formats, "bin"), BinaryDir},
		{"python directory", filepath.Join(formats, "py"), PythonDir},
		{"holding cifar-10-batches-bin", parentBin, BinaryDir},
		{"holding cifar-10-batches-py", parentPy, PythonDir},
		{"binary tarball", filepath.Join(formats, "cifar-10-binary.tar.gz"), Tarball},
		{"python tarball", filepath.Join(formats, "cifar-10-python.tar.gz"), Tarball},
	}
	reference := map[Split]*Dataset{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, f, err := Resolve(c.path)
			require.NoError(t, err)
			assert.Equal(t, c.format, f)
			for _, split := range []Split{Train, Test} {
				d, err := Load(c.path, split)
				require.NoError(t, err, split)
				assert.Equal(t, want[split].Labels, d.Labels, split)
				assert.Equal(t, want[split].SHA256, recordsSHA256(d), split)
				if reference[split] == nil {
					reference[split] = d
				}
				assert.Equal(t, reference[split], d, "%s: the same Dataset as the binary directory's", split)
			}
		})
	}
}

// TestSingleBatchFiles: one batch file of either release, pickled by
// Python 2 (the release) or Python 3 (protocols 2, 4, 5), is one split and
// gives the test records whatever split is asked.
func TestSingleBatchFiles(t *testing.T) {
	want := readExpect(t)[Test]
	for _, name := range []string{"bin/test_batch.bin", "py/test_batch", "test_p2.pickle", "test_p4.pickle", "test_p5.pickle"} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(formats, name)
			_, f, err := Resolve(p)
			require.NoError(t, err)
			assert.Equal(t, BatchFile, f)
			d, err := Load(p, Train)
			require.NoError(t, err)
			assert.Equal(t, want.Labels, d.Labels)
			assert.Equal(t, want.SHA256, recordsSHA256(d))
		})
	}
}

// TestPickleRefusals: damaged pickles are refused with the record checks of
// the binary format, naming the file; a pickle naming any global but
// numpy's reconstruction is refused before anything runs or is built, and
// no length in a pickle is allocated before it is checked against the
// bytes that follow.
func TestPickleRefusals(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(formats, "test_p4.pickle"))
	require.NoError(t, err)
	hugeBytes := []byte{0x80, 4, 0x8e, 0, 0, 0, 0, 0x10, 0, 0, 0, '.'} // BINBYTES8 of 64 GiB
	osSystem := []byte("\x80\x02cos\nsystem\nX\x04\x00\x00\x00true\x85R.")
	// {"x": L8} where L0 = [] and L(i) holds L(i-1) 200 times: 9 lists
	// within the nesting bound, 200^8 visits for a walk that looks into
	// each reference.
	shared := "\x80\x02}(X\x01\x00\x00\x00x]q\x000"
	for i := 1; i <= 8; i++ {
		shared += "](" + strings.Repeat("h"+string(rune(i-1)), 200) + "eq" + string(rune(i)) + "0"
	}
	sharedLists := []byte(shared + "h\x08u.")
	ordered := []byte("\x80\x02}(X\x01\x00\x00\x00xccollections\nOrderedDict\n)Ru.")
	cases := []struct {
		name string
		file string
		raw  []byte
		want string
	}{
		{"label 10", "bad_label.pickle", nil, "bad_label.pickle: record 1: label 10 out of range 0..9"},
		{"truncated array", "bad_truncated.pickle", nil, "bad_truncated.pickle: record 1: truncated, 100 of 3072 bytes"},
		{"int16 array", "bad_dtype.pickle", nil, "bad_dtype.pickle: data has dtype <i2, want u1 (uint8)"},
		{"one label for two images", "bad_count.pickle", nil, "bad_count.pickle: 1 labels for 2 images"},
		{"os.system via STACK_GLOBAL", "bad_global.pickle", nil, "bad_global.pickle: safepickle: global not allowed: posix.system"},
		{"os.system via GLOBAL", "x.pickle", osSystem, "x.pickle: safepickle: global not allowed: os.system"},
		{"huge length", "x.pickle", hugeBytes, "x.pickle: safepickle: offset 2: BINBYTES8 claims 68719476736 bytes, 1 follow"},
		{"cut short", "x.pickle", good[:len(good)/2], "x.pickle: safepickle: offset"},
		{"bytes after STOP", "x.pickle", append(append([]byte{}, good...), 0), "x.pickle: safepickle: offset 6427: 1 bytes after STOP"},
		{"lists shared 200^8 times", "x.pickle", sharedLists, "x.pickle: the dict has no data and labels"},
		{"an OrderedDict beside the data", "x.pickle", ordered, `x.pickle: key "x": holds a collections.OrderedDict, not plain data`},
		{"not a dict", "x.pickle", []byte("\x80\x02K\x07."), "x.pickle: the pickle holds a int, not a dict with data and labels"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(formats, c.file)
			if c.raw != nil {
				p = filepath.Join(t.TempDir(), c.file)
				require.NoError(t, os.WriteFile(p, c.raw, 0o644))
			}
			_, err := Load(p, Test)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.True(t, strings.HasPrefix(err.Error(), "cifar: "+p+": "), err.Error())
			assert.NotContains(t, err.Error(), "\n", "errors are one line")
		})
	}
}

// tarEntry is one member of a tarball a test writes.
type tarEntry struct {
	name string
	data []byte
	size int64 // claimed in the header when not 0; only data is written
}

// writeTarGz writes a gzipped tar; a member claiming more than it holds
// ends the archive there, unfinished.
func writeTarGz(t *testing.T, path string, entries []tarEntry) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	finished := true
	for _, e := range entries {
		size := int64(len(e.data))
		if e.size != 0 {
			size = e.size
		}
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg}))
		_, err := tw.Write(e.data)
		require.NoError(t, err)
		if size != int64(len(e.data)) {
			finished = false
			break
		}
	}
	if finished {
		require.NoError(t, tw.Close())
	}
	require.NoError(t, gz.Close())
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
}

func TestTarballRefusals(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(formats, name))
		require.NoError(t, err)
		return b
	}
	pyTest, binTest, badLabel := read("py/test_batch"), read("bin/test_batch.bin"), read("bad_label.pickle")
	whole := read("cifar-10-python.tar.gz")
	cases := []struct {
		name    string
		entries []tarEntry
		raw     []byte
		split   Split
		want    string
	}{
		{"bad record in a member", []tarEntry{{name: "cifar-10-batches-py/test_batch", data: badLabel}}, nil, Test,
			"cifar-10-batches-py/test_batch: record 1: label 10 out of range 0..9"},
		{"member claiming 1 TiB", []tarEntry{{name: "cifar-10-batches-py/test_batch", data: pyTest[:10], size: 1 << 40}}, nil, Test,
			"cifar-10-batches-py/test_batch: claims 1099511627776 bytes, more than the 268435456 a batch file can need"},
		{"member cut short", []tarEntry{{name: "cifar-10-batches-py/test_batch", data: pyTest[:10], size: int64(len(pyTest))}}, nil, Test,
			"cifar-10-batches-py/test_batch: damaged tarball: unexpected EOF"},
		{"tarball cut short", nil, whole[:len(whole)/2], Test, ": damaged tarball: unexpected EOF"},
		{"not gzipped", nil, append([]byte{0x1f, 0x8b}, pyTest...), Test, ": not a gzip file"},
		{"a member twice", []tarEntry{{name: "a/test_batch", data: pyTest}, {name: "b/test_batch", data: pyTest}}, nil, Test,
			": holds test_batch twice (a/test_batch and b/test_batch)"},
		{"both releases", []tarEntry{{name: "py/test_batch", data: pyTest}, {name: "bin/test_batch.bin", data: binTest}}, nil, Test,
			": holds batch files of both releases (py/test_batch and bin/test_batch.bin)"},
		{"no training batches", []tarEntry{{name: "cifar-10-batches-py/test_batch", data: pyTest}}, nil, Train,
			": has no member data_batch_1 (the train split needs [data_batch_1 data_batch_2 data_batch_3 data_batch_4 data_batch_5])"},
		{"no batch files", []tarEntry{{name: "readme.html", data: []byte("hi")}}, nil, Test, ": holds no CIFAR-10 batch files"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "c.tar.gz")
			if c.raw != nil {
				require.NoError(t, os.WriteFile(p, c.raw, 0o644))
			} else {
				writeTarGz(t, p, c.entries)
			}
			_, err := Load(p, c.split)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.True(t, strings.HasPrefix(err.Error(), "cifar: "+p+": "), err.Error())
			assert.NotContains(t, err.Error(), "\n", "errors are one line")
		})
	}
}

func TestResolveRefusals(t *testing.T) {
	both := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(both, BinaryReleaseDir), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(both, PythonReleaseDir), 0o755))
	mixed := t.TempDir()
	copyDir(t, filepath.Join(formats, "bin"), mixed)
	copyDir(t, filepath.Join(formats, "py"), mixed)
	emptySub := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(emptySub, PythonReleaseDir), 0o755))
	cases := []struct {
		name, path, want string
	}{
		{"both release directories", both, "holds both cifar-10-batches-bin and cifar-10-batches-py; name the one to read"},
		{"both releases' files", mixed, "holds batch files of both releases"},
		{"empty release directory", emptySub, filepath.Join(emptySub, PythonReleaseDir) + ": no CIFAR-10 batch files"},
		{"empty directory", t.TempDir(), "no CIFAR-10 batch files (want data_batch_1 .. data_batch_5 and test_batch, as .bin files or python pickles, or a cifar-10-batches-bin or cifar-10-batches-py directory)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(c.path, Test)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.True(t, strings.HasPrefix(err.Error(), "cifar: "), err.Error())
		})
	}
}

// TestVerifyFormats: verify reports the six batch files of a python
// directory and of either tarball; a file is official when its records are
// the official ones of its name (here the test batch's, swapped in for the
// test), whatever the release it comes in.
func TestVerifyFormats(t *testing.T) {
	want := readExpect(t)
	saved := OfficialSHA256["test_batch.bin"]
	OfficialSHA256["test_batch.bin"] = want[Test].SHA256
	t.Cleanup(func() { OfficialSHA256["test_batch.bin"] = saved })
	for _, c := range []struct {
		path  string
		names []string
	}{
		{filepath.Join(formats, "py"), []string{"data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"}},
		{filepath.Join(formats, "bin"), append(append([]string{}, TrainFiles...), TestFile)},
		{filepath.Join(formats, "cifar-10-python.tar.gz"), []string{"data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"}},
		{filepath.Join(formats, "cifar-10-binary.tar.gz"), append(append([]string{}, TrainFiles...), TestFile)},
	} {
		t.Run(filepath.Base(c.path), func(t *testing.T) {
			reps, err := Verify(c.path)
			require.NoError(t, err)
			require.Len(t, reps, 6)
			for i, r := range reps {
				assert.Equal(t, c.names[i], r.Name)
				assert.True(t, r.Present, r.Name)
				assert.Empty(t, r.Problem, r.Name)
				assert.Equal(t, 2, r.Records, r.Name)
				assert.Equal(t, r.Name == "test_batch" || r.Name == "test_batch.bin", r.Official, r.Name)
			}
		})
	}
	single, err := Verify(filepath.Join(formats, "test_p5.pickle"))
	require.NoError(t, err)
	require.Len(t, single, 1)
	assert.False(t, single[0].Official, "test_p5.pickle is no official file's name")
	assert.Equal(t, 2, single[0].Records)
}

// FuzzParsePickle checks that no input makes the pickle decoder panic, and
// that whatever it accepts is whole records with labels in range.
func FuzzParsePickle(f *testing.F) {
	for _, name := range []string{"py/test_batch", "test_p2.pickle", "test_p4.pickle", "test_p5.pickle", "bad_global.pickle"} {
		b, err := os.ReadFile(filepath.Join(formats, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := ParsePickle("fuzz", raw)
		if err != nil {
			return
		}
		if len(d.Images) != d.Len()*ImageBytes {
			t.Fatalf("%d image bytes for %d labels", len(d.Images), d.Len())
		}
		for i, l := range d.Labels {
			if l >= NumClasses {
				t.Fatalf("record %d: label %d", i, l)
			}
		}
	})
}
