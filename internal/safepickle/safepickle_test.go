package safepickle

import (
	"bytes"
	"encoding/hex"
	"errors"
	"runtime"
	"testing"

	"github.com/nlpodyssey/gopickle/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Python 3.11's pickle.dumps({'a': [1, 2]}, protocol=p).
var dictA = map[int]string{
	0: "286470300a56610a70310a286c70320a49310a6149320a61732e",
	2: "80027d710058010000006171015d7102284b014b0265732e",
	4: "80049510000000000000007d948c0161945d94284b014b0265732e",
}

func TestLoadPythonPickles(t *testing.T) {
	for p, h := range dictA {
		raw, err := hex.DecodeString(h)
		require.NoError(t, err)
		obj, err := Load(raw, nil, nil)
		require.NoError(t, err, "protocol %d", p)
		d, ok := obj.(*types.Dict)
		require.True(t, ok, "protocol %d: %T", p, obj)
		v, ok := d.Get("a")
		require.True(t, ok)
		assert.Equal(t, &types.List{1, 2}, v, "protocol %d", p)
	}
}

// TestRefusals: each input is refused with its reason before gopickle sees
// it (or, for a shape gopickle panics on, by the recovery).
func TestRefusals(t *testing.T) {
	huge := []byte{0x80, 4, 0x8e, 0, 0, 0, 0, 0x10, 0, 0, 0, '.'}  // BINBYTES8 of 2^36 bytes
	frame := []byte{0x80, 4, 0x95, 0, 0, 0, 0, 0x10, 0, 0, 0, '.'} // a FRAME of 2^36 bytes
	cases := []struct {
		name string
		raw  []byte
		want string
	}{
		{"BINBYTES8 claiming 64 GiB", huge, "offset 2: BINBYTES8 claims 68719476736 bytes, 1 follow"},
		{"FRAME claiming 64 GiB", frame, "offset 2: FRAME claims 68719476736 bytes, 1 follow"},
		{"BINBYTES claiming 4 GiB", []byte("\x80\x03B\xff\xff\xff\xffab."), "offset 2: BINBYTES claims 4294967295 bytes, 3 follow"},
		{"negative BINSTRING", []byte("\x80\x02T\xff\xff\xff\xffab."), "offset 2: BINSTRING has a negative length"},
		{"argument cut short", []byte("\x80\x02J\x01\x02"), "offset 2: BININT claims 4 bytes, 2 follow"},
		{"unknown opcode", []byte{0x80, 2, 0xff, '.'}, "offset 2: unknown opcode 0xff"},
		{"GLOBAL without its newline", []byte("\x80\x02cos\nsys"), "offset 2: GLOBAL: line without an end"},
		{"no STOP", []byte("\x80\x02K\x01"), "ends after 4 bytes without STOP"},
		{"bytes after STOP", []byte("\x80\x02K\x01.junk"), "offset 4: 4 bytes after STOP"},
		{"too many marks", append(bytes.Repeat([]byte{'('}, MaxMarks+1), '.'), "offset 16384: more than 16384 marks"},
		{"too many opcodes", append(bytes.Repeat([]byte{'N'}, MaxOps+1), '.'), "offset 524288: more than 524288 opcodes"},
		{"global with no resolver", []byte("\x80\x02cos\nsystem\nX\x04\x00\x00\x00true\x85R."), "global not allowed: os.system"},
		{"SETITEMS with a key and no value", []byte("\x80\x02}(K\x01u."), "malformed pickle"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := Load(c.raw, nil, nil)
			runtime.ReadMemStats(&after)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.Regexp(t, "^safepickle: ", err.Error())
			assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<20), "refusing allocates next to nothing")
		})
	}
}

func TestResolver(t *testing.T) {
	raw := []byte("\x80\x02cnumpy\ndtype\nX\x02\x00\x00\x00u1\x85R.")
	type dtype struct{ s string }
	calls := 0
	resolve := func(module, name string) (any, bool) {
		if module == "numpy" && name == "dtype" {
			return callable(func(args ...any) (any, error) { calls++; return dtype{args[0].(string)}, nil }), true
		}
		return nil, false
	}
	obj, err := Load(raw, resolve, nil)
	require.NoError(t, err)
	assert.Equal(t, dtype{"u1"}, obj)
	assert.Equal(t, 1, calls)

	_, err = Load([]byte("\x80\x02cposix\nsystem\nX\x04\x00\x00\x00true\x85R."), resolve, nil)
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrGlobal))
	assert.Equal(t, "safepickle: global not allowed: posix.system", err.Error())
}

type callable func(args ...any) (any, error)

func (c callable) Call(args ...any) (any, error) { return c(args...) }
