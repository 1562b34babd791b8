package checkpoint

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/advbench/advbench/nn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"
)

func vars() []*nn.Var {
	a := nn.NewVar("conv1.weight", tensor.Float32, 2, 1, 3, 3)
	b := nn.NewVar("linear.bias", tensor.Float64, 3)
	da := make([]float64, 18)
	for i := range da {
		da[i] = float64(i)*0.25 - 1
	}
	a.SetFloat64s(da)
	b.SetFloat64s([]float64{1.5, -2, 3e-9})
	return []*nn.Var{a, b}
}

func TestRoundTripAndLayout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.safetensors")
	src := vars()
	require.NoError(t, Write(path, src, map[string]string{"norm": "bn", "epoch": "3"}))

	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	n := binary.LittleEndian.Uint64(raw[:8])
	assert.Zero(t, n%8, "header padded to 8 bytes")
	var header map[string]any
	require.NoError(t, json.Unmarshal(raw[8:8+n], &header))
	e := header["conv1.weight"].(map[string]any)
	assert.Equal(t, "F32", e["dtype"])
	assert.Equal(t, []any{2.0, 1.0, 3.0, 3.0}, e["shape"])
	assert.Equal(t, []any{0.0, 72.0}, e["data_offsets"])
	assert.Equal(t, uint64(len(raw))-8-n, uint64(72+24), "raw data follows the header")
	// The data as the safetensors format defines it (little-endian, row
	// major), decoded here rather than by Read, so that a writer and reader
	// wrong in the same way do not pass.
	data := raw[8+n:]
	for i := 0; i < 18; i++ {
		assert.Equal(t, float32(float64(i)*0.25-1), math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:])), "conv1.weight[%d]", i)
	}
	for i, want := range []float64{1.5, -2, 3e-9} {
		assert.Equal(t, want, math.Float64frombits(binary.LittleEndian.Uint64(data[72+8*i:])), "linear.bias[%d]", i)
	}

	f, err := Read(path)
	require.NoError(t, err)
	assert.Equal(t, "bn", f.Meta["norm"])
	assert.Len(t, f.Meta[ChecksumKey], 64)
	assert.Equal(t, []string{"conv1.weight", "linear.bias"}, []string{f.Entries[0].Name, f.Entries[1].Name})
	dst := vars()
	for _, v := range dst {
		v.SetFloat64s(make([]float64, v.Value.Shape().TotalSize()))
	}
	require.NoError(t, f.Assign(dst, nil))
	for i := range src {
		assert.Equal(t, src[i].Value.Data(), dst[i].Value.Data())
	}
}

func TestRefusals(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	require.NoError(t, Write(path, vars(), nil))
	raw, err := os.ReadFile(path)
	require.NoError(t, err)

	trunc := filepath.Join(dir, "trunc.safetensors")
	require.NoError(t, os.WriteFile(trunc, raw[:len(raw)-5], 0o644))
	_, err = Read(trunc)
	assert.ErrorContains(t, err, "trunc.safetensors: truncated")

	short := filepath.Join(dir, "short.safetensors")
	require.NoError(t, os.WriteFile(short, raw[:20], 0o644))
	_, err = Read(short)
	assert.ErrorContains(t, err, "short.safetensors: truncated")

	corrupt := filepath.Join(dir, "corrupt.safetensors")
	bad := append([]byte{}, raw...)
	bad[len(bad)-3] ^= 0x40
	require.NoError(t, os.WriteFile(corrupt, bad, 0o644))
	_, err = Read(corrupt)
	assert.ErrorContains(t, err, "corrupt.safetensors: checksum mismatch")

	f, err := Read(path)
	require.NoError(t, err)
	wrongShape := []*nn.Var{nn.NewVar("conv1.weight", tensor.Float32, 4, 1, 3, 3), nn.NewVar("linear.bias", tensor.Float64, 3)}
	err = f.Assign(wrongShape, nil)
	assert.ErrorContains(t, err, "tensor conv1.weight: the model has float32 [4 1 3 3], the checkpoint float32 [2 1 3 3]")
	missing := append(vars(), nn.NewVar("layer1.0.bn1.embed.weight", tensor.Float32, 3, 8))
	err = f.Assign(missing, nil)
	assert.ErrorContains(t, err, "tensor layer1.0.bn1.embed.weight (shape [3 8]) is not in the checkpoint")
	err = f.Assign(vars()[:1], nil)
	assert.ErrorContains(t, err, "tensor linear.bias (shape [3]) has no place in the model")
	assert.NoError(t, f.Assign(vars()[:1], func(n string) bool { return n == "linear.bias" }))
}

// writeRaw writes a safetensors file by hand: the header JSON and the data.
func writeRaw(t *testing.T, header string, data []byte) string {
	t.Helper()
	for len(header)%8 != 0 {
		header += " "
	}
	var b []byte
	b = binary.LittleEndian.AppendUint64(b, uint64(len(header)))
	b = append(append(b, header...), data...)
	path := filepath.Join(t.TempDir(), "x.safetensors")
	require.NoError(t, os.WriteFile(path, b, 0o644))
	return path
}

// TestForeignDtypes: integer tensors (BatchNorm's num_batches_tracked) are
// read as data, float64 is converted into a float32 variable, integers
// round-trip through Write, and an unknown dtype is refused with the
// tensor's name.
func TestForeignDtypes(t *testing.T) {
	var data []byte
	data = binary.LittleEndian.AppendUint64(data, math.Float64bits(1.5))
	data = binary.LittleEndian.AppendUint64(data, math.Float64bits(-2.25))
	data = binary.LittleEndian.AppendUint64(data, uint64(123456789012))
	minus7 := int32(-7)
	data = binary.LittleEndian.AppendUint32(data, uint32(minus7))
	path := writeRaw(t, `{"w":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},"n":{"dtype":"I64","shape":[],"data_offsets":[16,24]},"k":{"dtype":"I32","shape":[1],"data_offsets":[24,28]}}`, data)
	f, err := Read(path)
	require.NoError(t, err)
	n, ok := f.Entry("n")
	require.True(t, ok)
	assert.Equal(t, []float64{123456789012}, n.Float64s())
	k, _ := f.Entry("k")
	assert.Equal(t, []float64{-7}, k.Float64s())
	w := nn.NewVar("w", tensor.Float32, 2)
	require.NoError(t, f.Assign([]*nn.Var{w}, func(name string) bool { return name != "w" }))
	assert.Equal(t, []float32{1.5, -2.25}, w.Value.Data(), "float64 converted to the variable's float32")

	counter := &nn.Var{Name: "layer1.0.bn1.num_batches_tracked", Value: tensor.New(tensor.FromScalar(int64(391)))}
	out := filepath.Join(t.TempDir(), "ints.safetensors")
	require.NoError(t, Write(out, []*nn.Var{counter}, nil))
	back, err := Read(out)
	require.NoError(t, err)
	e, _ := back.Entry("layer1.0.bn1.num_batches_tracked")
	assert.Equal(t, tensor.Int64, e.Dtype)
	assert.Empty(t, e.Shape, "a 0-dim tensor, as PyTorch stores the counter")
	assert.Equal(t, []float64{391}, e.Float64s())

	_, err = Read(writeRaw(t, `{"half":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}}`, []byte{0, 0}))
	assert.ErrorContains(t, err, `tensor half: unsupported dtype "BF16"`)
}

// TestRefusesOverlappingTensors: two tensors sharing bytes are refused.
func TestRefusesOverlappingTensors(t *testing.T) {
	path := writeRaw(t, `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, make([]byte, 12))
	_, err := Read(path)
	assert.ErrorContains(t, err, "overlap")
	huge := writeRaw(t, `{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}`, nil)
	_, err = Read(huge)
	assert.ErrorContains(t, err, "more elements than the file has bytes")
}
