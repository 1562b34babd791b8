package interop

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTensorOfRefusesHugeViews: a stride-0 view claiming 10^10 elements of
// a one-element storage is refused before anything is allocated.
func TestTensorOfRefusesHugeViews(t *testing.T) {
	view := &pytorch.Tensor{Source: &pytorch.FloatStorage{Data: make([]float32, 1)}, Size: []int{100000, 100000}, Stride: []int{0, 0}}
	_, err := tensorOf(view)
	assert.ErrorContains(t, err, "more than")
}

// stateDictPickle is the data.pkl torch.save writes for {"w": tensor}: one
// tensor of n values over storage "0" of n values of the given class
// (protocol 2, written opcode by opcode).
func stateDictPickle(class string, n int64) []byte {
	var b bytes.Buffer
	str := func(s string) {
		b.WriteByte('X')
		_ = binary.Write(&b, binary.LittleEndian, uint32(len(s)))
		b.WriteString(s)
	}
	long := func(v int64) { // LONG1 of 8 bytes
		b.Write([]byte{0x8a, 8})
		_ = binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("\x80\x02}")
	str("w")
	b.WriteString("ctorch._utils\n_rebuild_tensor_v2\n(")
	b.WriteString("(")
	str("storage")
	b.WriteString("ctorch\n" + class + "\n")
	str("0")
	str("cpu")
	long(n)
	b.WriteString("tQ") // the persistent id tuple, BINPERSID
	long(0)             // storage offset
	long(n)
	b.WriteString("\x85") // size (n,)
	long(1)
	b.WriteString("\x85")                              // stride (1,)
	b.WriteString("\x89ccollections\nOrderedDict\n)R") // requires_grad, hooks
	b.WriteString("tRs.")
	return b.Bytes()
}

// storageEntry is archive/data/0 of a crafted file: its bytes, and the
// sizes and method its headers declare.
type storageEntry struct {
	data                   []byte
	method                 uint16
	compressed, uncompress uint64 // declared; 0 means the truth
}

// writeTorchZip writes a torch.save-layout zip: archive/data.pkl,
// archive/data/0 as described, archive/version.
func writeTorchZip(t *testing.T, pkl []byte, e storageEntry) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "archive/data.pkl", Method: zip.Store})
	require.NoError(t, err)
	_, err = w.Write(pkl)
	require.NoError(t, err)
	body := e.data
	if e.method == zip.Deflate {
		var z bytes.Buffer
		fw, err := flate.NewWriter(&z, flate.BestCompression)
		require.NoError(t, err)
		_, err = fw.Write(e.data)
		require.NoError(t, err)
		require.NoError(t, fw.Close())
		body = z.Bytes()
	}
	fh := &zip.FileHeader{Name: "archive/data/0", Method: e.method, CRC32: crc32.ChecksumIEEE(e.data),
		CompressedSize64: uint64(len(body)), UncompressedSize64: uint64(len(e.data))}
	if e.compressed != 0 {
		fh.CompressedSize64 = e.compressed
	}
	if e.uncompress != 0 {
		fh.UncompressedSize64 = e.uncompress
	}
	w, err = zw.CreateRaw(fh)
	require.NoError(t, err)
	_, err = w.Write(body)
	require.NoError(t, err)
	w, err = zw.Create("archive/version")
	require.NoError(t, err)
	_, err = w.Write([]byte("3\n"))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	p := filepath.Join(t.TempDir(), "crafted.pt")
	require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o644))
	return p
}

// TestReadRefusesHugeStorages: a torch.save file whose storages claim more
// than the file holds, or than any network advbench builds needs, is
// refused naming the file and the storage before anything of the claimed
// size is allocated. Before these checks gopickle allocated the claim
// (2^33 float32 values: 32 GiB) and the process died out of memory.
func TestReadRefusesHugeStorages(t *testing.T) {
	sixteen := make([]byte, 16)
	for i := range sixteen {
		sixteen[i] = byte(i)
	}
	zeros := make([]byte, 1<<20)
	cases := []struct {
		name  string
		class string
		n     int64
		entry storageEntry
		want  string
	}{
		{"2^33 floats over 16 bytes", "FloatStorage", 1 << 33, storageEntry{data: sixteen},
			"storage 0 claims 8589934592 float32 values, more than the 134217728 of any tensor of a network advbench builds"},
		{"2^33 floats over an entry declared 32 GiB", "FloatStorage", 1 << 33, storageEntry{data: sixteen, compressed: 1 << 35, uncompress: 1 << 35},
			"storage 0 claims 8589934592 float32 values, more than the 134217728"},
		{"2^20 floats over 16 bytes", "FloatStorage", 1 << 20, storageEntry{data: sixteen},
			"storage 0 claims 1048576 float32 values (4194304 bytes), its entry archive/data/0 holds 16"},
		{"2^20 doubles over an entry declared 8 MiB", "DoubleStorage", 1 << 20, storageEntry{data: sixteen, compressed: 8 << 20, uncompress: 8 << 20},
			"entry archive/data/0 claims 8388608 bytes, more than the file's"},
		{"deflated entry declared to expand 2^20-fold", "FloatStorage", 1 << 25, storageEntry{data: zeros, method: zip.Deflate, uncompress: 1 << 27},
			"entry archive/data/0 claims 134217728 bytes from"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeTorchZip(t, stateDictPickle(c.class, c.n), c.entry)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := Read(p)
			runtime.ReadMemStats(&after)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.True(t, strings.HasPrefix(err.Error(), "interop: "+p+": "), err.Error())
			assert.NotContains(t, err.Error(), "\n")
			assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<20), "nothing of the claimed size is allocated")
		})
	}
}

// TestReadCraftedStateDict: the crafted layout itself is read when its
// claims are true, so the refusals above are about the sizes alone.
func TestReadCraftedStateDict(t *testing.T) {
	vals := []float32{1.5, -2, 0.25, 3}
	raw := make([]byte, 16)
	for i, v := range vals {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	for _, method := range []uint16{zip.Store, zip.Deflate} {
		sd, err := Read(writeTorchZip(t, stateDictPickle("FloatStorage", 4), storageEntry{data: raw, method: method}))
		require.NoError(t, err, method)
		assert.Equal(t, []string{"w"}, sd.Names)
		assert.Equal(t, Tensor{Shape: []int{4}, Dtype: "F32", Data: []float64{1.5, -2, 0.25, 3}}, sd.Tensors["w"])
	}
}

// TestReadRefusesOtherClaims: the storages' total is bounded too, and a
// data.pkl naming any global but torch's rebuild function and storage
// classes is refused before it is called.
func TestReadRefusesOtherClaims(t *testing.T) {
	raw := make([]byte, 16)
	saved := maxTotalElements
	maxTotalElements = 3
	p := writeTorchZip(t, stateDictPickle("FloatStorage", 4), storageEntry{data: raw})
	_, err := Read(p)
	maxTotalElements = saved
	assert.EqualError(t, err, "interop: "+p+": storage 0: the storages claim 4 values together, more than the 3 of the widest network advbench builds")

	p = writeTorchZip(t, []byte("\x80\x02cos\nsystem\nX\x04\x00\x00\x00true\x85R."), storageEntry{data: raw})
	_, err = Read(p)
	assert.EqualError(t, err, "interop: "+p+": safepickle: global not allowed: os.system")
}
