package interop

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/advbench/advbench/checkpoint"
	"github.com/advbench/advbench/models/resnet"
	"github.com/advbench/advbench/nn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixtures are made by scripts/make_torch_fixtures.py with PyTorch: width
// 1/16 reference-architecture models, 4 input images and PyTorch's
// eval-mode logits per branch.
func fixtureInputs(t *testing.T) ([]float32, map[string]map[string][][]float64) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "inputs.bin"))
	require.NoError(t, err)
	x := make([]float32, len(raw)/4)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	var logits map[string]map[string][][]float64
	b, err := os.ReadFile(filepath.Join("testdata", "logits.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &logits))
	return x, logits
}

func assertLogits(t *testing.T, m *resnet.Model, x []float32, want map[string][][]float64, what string) {
	t.Helper()
	for b, name := range []string{"clean", "adv"} {
		got, err := m.Logits(x, nn.Branch(b), nn.Eval)
		require.NoError(t, err)
		rows := want[name]
		require.Len(t, got, len(rows)*len(rows[0]))
		worst := 0.0
		for i, row := range rows {
			for j, v := range row {
				worst = math.Max(worst, math.Abs(float64(got[i*len(row)+j])-v))
			}
		}
		// Float32 rounding leaves 2.4e-7 here, whichever GEMM kernel runs;
		// BN's eps at 2e-5 instead of PyTorch's 1e-5 moves logits 1.7e-6.
		assert.Less(t, worst, 1e-6, "%s branch %s: max |logit - PyTorch's|", what, name)
		t.Logf("%s, %s branch: max |logit - PyTorch's| = %.2g", what, name, worst)
	}
}

// TestPyTorchLogits: every fixture, from the torch.save file and from the
// safetensors file, gives PyTorch's logits on both branches within 1e-6.
func TestPyTorchLogits(t *testing.T) {
	x, logits := fixtureInputs(t)
	for _, norm := range []string{"bn", "auxbn", "saauxbn"} {
		for _, ext := range []string{".pt", ".safetensors"} {
			path := filepath.Join("testdata", norm+ext)
			sd, err := Read(path)
			require.NoError(t, err, path)
			assert.Equal(t, norm, sd.GuessNorm(), path)
			m, err := Load(sd, resnet.Config{Norm: norm, Width: 1.0 / 16})
			require.NoError(t, err, path)
			assertLogits(t, m, x, logits[norm], path)
		}
	}
	sd, err := Read(filepath.Join("testdata", "auxbn.pt"))
	require.NoError(t, err)
	assert.Equal(t, "module.", sd.Stripped, "DataParallel's prefix is stripped")
	sd, err = Read(filepath.Join("testdata", "bn.safetensors"))
	require.NoError(t, err)
	assert.Equal(t, "F64", sd.Tensors["conv1.weight"].Dtype, "stored in float64, converted on load")
	assert.Equal(t, "I64", sd.Tensors["layer1.0.bn1.num_batches_tracked"].Dtype)
}

// TestExportRoundTrip: an export holds the reference names (counters and
// normalisation buffers included) and imports back to the same logits.
func TestExportRoundTrip(t *testing.T) {
	x, logits := fixtureInputs(t)
	sd, err := Read(filepath.Join("testdata", "saauxbn.pt"))
	require.NoError(t, err)
	m, err := Load(sd, resnet.Config{Norm: "saauxbn", Width: 1.0 / 16})
	require.NoError(t, err)
	out := filepath.Join(t.TempDir(), "export.safetensors")
	require.NoError(t, Export(m, out, map[string]string{"source": "test"}))
	f, err := checkpoint.Read(out)
	require.NoError(t, err)
	var names []string
	for _, e := range f.Entries {
		names = append(names, e.Name)
	}
	assert.ElementsMatch(t, sd.Names, names, "exactly the reference state dict's names")
	back, err := Read(out)
	require.NoError(t, err)
	m2, err := Load(back, resnet.Config{Norm: "saauxbn", Width: 1.0 / 16})
	require.NoError(t, err)
	assertLogits(t, m2, x, logits["saauxbn"], "export")
}

// TestRefusals: truncated, corrupt and mismatched files give one-line
// errors naming the file and the tensor, with the likely cause.
func TestRefusals(t *testing.T) {
	dir := t.TempDir()
	raw, err := os.ReadFile(filepath.Join("testdata", "saauxbn.pt"))
	require.NoError(t, err)
	trunc := filepath.Join(dir, "trunc.pt")
	require.NoError(t, os.WriteFile(trunc, raw[:len(raw)/2], 0o644))
	_, err = Read(trunc)
	assert.ErrorContains(t, err, trunc)

	st, err := os.ReadFile(filepath.Join("testdata", "saauxbn.safetensors"))
	require.NoError(t, err)
	cut := filepath.Join(dir, "cut.safetensors")
	require.NoError(t, os.WriteFile(cut, st[:len(st)-100], 0o644))
	_, err = Read(cut)
	assert.ErrorContains(t, err, "truncated")
	assert.ErrorContains(t, err, cut)

	junk := filepath.Join(dir, "junk.bin")
	require.NoError(t, os.WriteFile(junk, []byte("hello, world"), 0o644))
	_, err = Read(junk)
	assert.ErrorContains(t, err, "neither a torch.save zip file nor a safetensors file")

	sd, err := Read(filepath.Join("testdata", "saauxbn.pt"))
	require.NoError(t, err)
	_, err = Load(sd, resnet.Config{Norm: "saauxbn", Width: 0.25})
	assert.ErrorContains(t, err, "tensor conv1.weight: the file has shape [4 3 3 3], the model [16 3 3 3] (the file's stem has 4 channels: width 0.0625, not 0.25)")
	_, err = Load(sd, resnet.Config{Norm: "auxbn", Width: 1.0 / 16})
	assert.ErrorContains(t, err, "tensor layer1.0.bn1.bn_list.0.weight (shape [4]) is missing (the names look like a saauxbn model, not auxbn)")
	bn, err := Read(filepath.Join("testdata", "bn.pt"))
	require.NoError(t, err)
	_, err = Load(bn, resnet.Config{Norm: "saauxbn", Width: 1.0 / 16})
	assert.ErrorContains(t, err, "the names look like a bn model, not saauxbn")

	// A prefix other than DataParallel's is named.
	prefixed := *sd
	prefixed.Names, prefixed.Tensors = nil, map[string]Tensor{}
	for _, n := range sd.Names {
		prefixed.Names = append(prefixed.Names, "model."+n)
		prefixed.Tensors["model."+n] = sd.Tensors[n]
	}
	_, err = Load(&prefixed, resnet.Config{Norm: "saauxbn", Width: 1.0 / 16})
	assert.ErrorContains(t, err, `every name starts with "model."`)

	// The file's normal.mean/normal.std are the model's input normalisation,
	// whatever their values: a model whose mean is 0.5 sees x as a model
	// with ImageNet's mean sees x − (0.5 − 0.485, 0.5 − 0.456, 0.5 − 0.406)
	// (same std).
	odd := withTensors(sd, map[string]*Tensor{"normal.mean": {Shape: []int{3}, Dtype: "F32", Data: []float64{0.5, 0.5, 0.5}}})
	mOdd, err := Load(odd, resnet.Config{Norm: "saauxbn", Width: 1.0 / 16})
	require.NoError(t, err)
	assert.Equal(t, "0.5,0.5,0.5,0.229,0.224,0.225", mOdd.Config().InputNorm)
	mRef, err := Load(sd, resnet.Config{Norm: "saauxbn", Width: 1.0 / 16})
	require.NoError(t, err)
	assert.Equal(t, "imagenet", mRef.Config().InputNorm)
	x := make([]float32, 2*3*32*32)
	shifted := make([]float32, len(x))
	for i := range x {
		x[i] = float32(i%97) / 96
		shifted[i] = x[i] - float32(0.5-resnet.ImageNetMean[(i/1024)%3])
	}
	got, err := mOdd.Logits(x, nn.Clean, nn.Eval)
	require.NoError(t, err)
	want, err := mRef.Logits(shifted, nn.Clean, nn.Eval)
	require.NoError(t, err)
	assert.InDeltaSlice(t, want, got, 1e-4)
	_, err = Load(odd, resnet.Config{Norm: "saauxbn", Width: 1.0 / 16, InputNorm: "imagenet"})
	assert.ErrorContains(t, err, "normal.mean and normal.std are 0.5,0.5,0.5,0.229,0.224,0.225, not imagenet")

	// Without the buffers the caller must say it.
	bare := withTensors(sd, map[string]*Tensor{"normal.mean": nil, "normal.std": nil})
	_, err = Load(bare, resnet.Config{Norm: "saauxbn", Width: 1.0 / 16})
	assert.ErrorIs(t, err, ErrInputNormUnknown)
	mNone, err := Load(bare, resnet.Config{Norm: "saauxbn", Width: 1.0 / 16, InputNorm: "none"})
	require.NoError(t, err)
	assert.Equal(t, "none", mNone.Config().InputNorm)
}

// withTensors copies sd with some tensors replaced (nil removes one).
func withTensors(sd *StateDict, change map[string]*Tensor) *StateDict {
	out := *sd
	out.Names, out.Tensors = nil, map[string]Tensor{}
	for _, n := range sd.Names {
		if t, ok := change[n]; ok && t == nil {
			continue
		}
		out.Names = append(out.Names, n)
		out.Tensors[n] = sd.Tensors[n]
		if t := change[n]; t != nil {
			out.Tensors[n] = *t
		}
	}
	return &out
}
