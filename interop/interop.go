// Package interop exchanges models with PyTorch: it reads state dicts saved
// by torch.save (the zip format; a bare state dict, or a dict holding
// "state_dict" as the reference Adv/train.py writes it) or by the
// safetensors package, loads them into an advbench model after checking
// every name and shape (naming the likely cause of a mismatch), and exports
// an advbench model as a state dict the reference PyTorch model loads with
// load_state_dict(strict=True).
package interop

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	pathpkg "path"
	"strings"

	"github.com/advbench/advbench/checkpoint"
	"github.com/advbench/advbench/internal/safepickle"
	"github.com/advbench/advbench/models/resnet"
	"github.com/advbench/advbench/nn"
	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"
	"gorgonia.org/tensor"
)

// StateDict is a foreign model's tensors by name.
type StateDict struct {
	Path    string
	Format  string // "pytorch" (torch.save zip) or "safetensors"
	Names   []string
	Tensors map[string]Tensor
	// Stripped is the prefix removed from every name ("module." from
	// DataParallel), if any.
	Stripped string
}

// Tensor is one tensor of a state dict, its values as float64.
type Tensor struct {
	Shape []int
	Dtype string // as stored: F32, F64, I64, ...
	Data  []float64
}

// counterSuffix names BatchNorm's step counter, which advbench reads and
// ignores (its running statistics use a fixed momentum).
const counterSuffix = ".num_batches_tracked"

// Input normalisation buffers of the reference model (NormalizeByChannelMeanStd).
const (
	normalMean = "normal.mean"
	normalStd  = "normal.std"
)

// Read loads a state dict from a torch.save zip file or a safetensors file.
func Read(path string) (*StateDict, error) {
	head := make([]byte, 9)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("interop: %w", err)
	}
	n, _ := f.Read(head)
	f.Close()
	var sd *StateDict
	switch {
	case n >= 4 && string(head[:4]) == "PK\x03\x04":
		sd, err = readPyTorch(path)
	case n == 9 && head[8] == '{' && binary.LittleEndian.Uint64(head[:8]) > 0:
		sd, err = readSafetensors(path)
	default:
		return nil, fmt.Errorf("interop: %s: neither a torch.save zip file nor a safetensors file", path)
	}
	if err != nil {
		return nil, err
	}
	sd.stripPrefix("module.")
	return sd, nil
}

func readSafetensors(path string) (*StateDict, error) {
	f, err := checkpoint.Read(path)
	if err != nil {
		return nil, fmt.Errorf("interop: %w", err)
	}
	sd := &StateDict{Path: path, Format: "safetensors", Tensors: map[string]Tensor{}}
	for _, e := range f.Entries {
		sd.Names = append(sd.Names, e.Name)
		sd.Tensors[e.Name] = Tensor{Shape: e.Shape, Dtype: e.DtypeName(), Data: e.Float64s()}
	}
	return sd, nil
}

// Bounds on what a torch.save file may claim, checked before anything of
// the claimed size is allocated.
const (
	// maxPickleBytes bounds data.pkl: a ResNet-18 state dict's is a few
	// tens of KB.
	maxPickleBytes = 64 << 20
	// maxDeflateRatio is how far deflate can expand its input at most
	// (about 1032:1; torch.save itself stores entries uncompressed).
	maxDeflateRatio = 1032
)

// maxTotalElements bounds the values of all storages of a file together:
// the widest network advbench builds (width 4) has under 1.8e8 parameters
// and buffers. A variable so that a test can lower it.
var maxTotalElements int64 = 1 << 28

// storageClass is a storage global of a torch.save file: gopickle's class,
// and its element size and name.
type storageClass struct {
	class pytorch.StorageClassInterface
	bytes int64
	dtype string
}

// storageClasses are the storage globals a torch.save file may name.
var storageClasses = map[string]storageClass{
	"FloatStorage":    {&pytorch.FloatStorageClass{}, 4, "float32"},
	"DoubleStorage":   {&pytorch.DoubleStorageClass{}, 8, "float64"},
	"HalfStorage":     {&pytorch.HalfStorageClass{}, 2, "float16"},
	"BFloat16Storage": {&pytorch.BFloat16StorageClass{}, 2, "bfloat16"},
	"LongStorage":     {&pytorch.LongStorageClass{}, 8, "int64"},
	"IntStorage":      {&pytorch.IntStorageClass{}, 4, "int32"},
	"ShortStorage":    {&pytorch.ShortStorageClass{}, 2, "int16"},
	"CharStorage":     {&pytorch.CharStorageClass{}, 1, "int8"},
	"ByteStorage":     {&pytorch.ByteStorageClass{}, 1, "uint8"},
	"BoolStorage":     {&pytorch.BoolStorageClass{}, 1, "bool"},
}

// resolveTorch allows the globals of a state dict saved by torch.save: the
// tensor rebuild function and the storage classes (gopickle resolves
// collections.OrderedDict itself). Anything else is refused.
func resolveTorch(module, name string) (any, bool) {
	switch {
	case module == "torch._utils" && name == "_rebuild_tensor_v2":
		return &pytorch.RebuildTensorV2{}, true
	case module == "torch":
		if c, ok := storageClasses[name]; ok {
			return c, true
		}
	}
	return nil, false
}

// checkEntry refuses a zip entry whose declared sizes the file cannot back:
// more compressed bytes than the file has, a stored entry whose two sizes
// differ, or more uncompressed bytes than deflate can make of its
// compressed ones.
func checkEntry(f *zip.File, fileSize int64) error {
	if f.CompressedSize64 > uint64(fileSize) {
		return fmt.Errorf("entry %s claims %d bytes, more than the file's %d", f.Name, f.CompressedSize64, fileSize)
	}
	switch f.Method {
	case zip.Store:
		if f.UncompressedSize64 != f.CompressedSize64 {
			return fmt.Errorf("entry %s is stored, yet claims %d bytes from %d", f.Name, f.UncompressedSize64, f.CompressedSize64)
		}
	case zip.Deflate:
		if f.UncompressedSize64 > maxDeflateRatio*f.CompressedSize64+1024 {
			return fmt.Errorf("entry %s claims %d bytes from %d compressed, more than deflate can expand them", f.Name, f.UncompressedSize64, f.CompressedSize64)
		}
	default:
		return fmt.Errorf("entry %s: unsupported compression method %d", f.Name, f.Method)
	}
	return nil
}

// readPyTorch reads a torch.save zip: archive/data.pkl, unpickled with
// safepickle (the tensor rebuild function and storage classes its only
// globals), and each storage it names from archive/data/KEY, read only
// after its claimed size has been checked against the entry, the file and
// the largest network advbench builds.
func readPyTorch(path string) (*StateDict, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("interop: %w", err)
	}
	z, zerr := zip.OpenReader(path)
	if zerr != nil {
		return nil, fmt.Errorf("interop: %s: not a readable zip (truncated or corrupt torch.save file?): %v", path, zerr)
	}
	defer z.Close()
	entries := map[string]*zip.File{}
	var pkl *zip.File
	for _, f := range z.File {
		entries[f.Name] = f
		switch pathpkg.Base(f.Name) {
		case "constants.pkl":
			return nil, fmt.Errorf("interop: %s: a TorchScript archive (torch.jit.save), not a torch.save state dict", path)
		case "data.pkl":
			if pkl != nil {
				return nil, fmt.Errorf("interop: %s: two data.pkl entries (%s and %s)", path, pkl.Name, f.Name)
			}
			pkl = f
		}
	}
	if pkl == nil {
		return nil, fmt.Errorf("interop: %s: no data.pkl entry: not a torch.save file", path)
	}
	if err := checkEntry(pkl, st.Size()); err != nil {
		return nil, fmt.Errorf("interop: %s: %v", path, err)
	}
	if pkl.UncompressedSize64 > maxPickleBytes {
		return nil, fmt.Errorf("interop: %s: %s claims %d bytes, more than the %d a state dict's pickle needs", path, pkl.Name, pkl.UncompressedSize64, maxPickleBytes)
	}
	raw, err := readEntry(pkl)
	if err != nil {
		return nil, fmt.Errorf("interop: %s: %v", path, err)
	}
	prefix := strings.TrimSuffix(pkl.Name, "data.pkl")
	loaded := map[string]pytorch.StorageInterface{}
	var total int64
	persistent := func(id any) (any, error) {
		t, ok := id.(*types.Tuple)
		if !ok || t.Len() < 5 || t.Get(0) != "storage" {
			return nil, fmt.Errorf("persistent id %v is not a storage", id)
		}
		key, okK := t.Get(2).(string)
		location, okL := t.Get(3).(string)
		n, okN := t.Get(4).(int)
		if !okK || !okL || !okN {
			return nil, fmt.Errorf("storage id %v: want (\"storage\", class, key, location, size)", *t)
		}
		if s, ok := loaded[key]; ok {
			return s, nil
		}
		c, ok := t.Get(1).(storageClass)
		if !ok {
			return nil, fmt.Errorf("storage %s: %v is not a storage class", key, t.Get(1))
		}
		if n < 0 || n > maxElements {
			return nil, fmt.Errorf("storage %s claims %d %s values, more than the %d of any tensor of a network advbench builds", key, n, c.dtype, maxElements)
		}
		if total += int64(n); total > maxTotalElements {
			return nil, fmt.Errorf("storage %s: the storages claim %d values together, more than the %d of the widest network advbench builds", key, total, maxTotalElements)
		}
		e, ok := entries[prefix+"data/"+key]
		if !ok {
			return nil, fmt.Errorf("storage %s has no entry %sdata/%s", key, prefix, key)
		}
		if err := checkEntry(e, st.Size()); err != nil {
			return nil, fmt.Errorf("storage %s: %v", key, err)
		}
		if want := int64(n) * c.bytes; e.UncompressedSize64 != uint64(want) {
			return nil, fmt.Errorf("storage %s claims %d %s values (%d bytes), its entry %s holds %d", key, n, c.dtype, want, e.Name, e.UncompressedSize64)
		}
		// Read whole (the zip reader checks the size and the CRC at the end):
		// gopickle's storage reader takes a short read for the end of the
		// data, which a deflated entry gives.
		raw, err := readEntry(e)
		if err != nil {
			return nil, fmt.Errorf("storage %s: %v", key, err)
		}
		s := c.class.New(n, location)
		if err := s.SetFromFileWithSize(bytes.NewReader(raw), n); err != nil {
			return nil, fmt.Errorf("storage %s: entry %s: %v", key, e.Name, err)
		}
		loaded[key] = s
		return s, nil
	}
	obj, err := safepickle.Load(raw, resolveTorch, persistent)
	if err != nil {
		return nil, fmt.Errorf("interop: %s: %v", path, err)
	}
	items, err := dictEntries(obj)
	if err != nil {
		return nil, fmt.Errorf("interop: %s: %v", path, err)
	}
	// A checkpoint dict: the state dict is under "state_dict".
	for _, e := range items {
		if k, ok := e.key.(string); ok && k == "state_dict" {
			if items, err = dictEntries(e.value); err != nil {
				return nil, fmt.Errorf("interop: %s: state_dict: %v", path, err)
			}
			break
		}
	}
	sd := &StateDict{Path: path, Format: "pytorch", Tensors: map[string]Tensor{}}
	for _, e := range items {
		name, ok := e.key.(string)
		if !ok {
			continue
		}
		t, ok := e.value.(*pytorch.Tensor)
		if !ok {
			continue // epoch, best_prec1 and other non-tensor entries
		}
		tt, err := tensorOf(t)
		if err != nil {
			return nil, fmt.Errorf("interop: %s: tensor %s: %v", path, name, err)
		}
		sd.Names = append(sd.Names, name)
		sd.Tensors[name] = tt
	}
	if len(sd.Names) == 0 {
		return nil, fmt.Errorf("interop: %s: no tensors found (want a state dict, or a dict holding \"state_dict\")", path)
	}
	return sd, nil
}

type entry struct{ key, value any }

func dictEntries(obj any) ([]entry, error) {
	switch d := obj.(type) {
	case *types.OrderedDict:
		var out []entry
		for el := d.List.Front(); el != nil; el = el.Next() {
			e := el.Value.(*types.OrderedDictEntry)
			out = append(out, entry{e.Key, e.Value})
		}
		return out, nil
	case *types.Dict:
		var out []entry
		for _, e := range *d {
			out = append(out, entry{e.Key, e.Value})
		}
		return out, nil
	}
	return nil, fmt.Errorf("the file holds a %T, not a dict of tensors", obj)
}

// maxElements bounds a tensor, and a storage, read from a foreign file (a
// stride-0 view can claim any number of elements over a small storage; a
// storage any number over a small entry): the largest tensor of the widest
// network advbench builds (width 4, a 2048x2048x3x3 convolution) has under
// 2^26 elements.
const maxElements = 1 << 27

// tensorOf reads a PyTorch tensor's elements in row-major order, following
// its strides and storage offset.
func tensorOf(t *pytorch.Tensor) (Tensor, error) {
	var get func(i int) float64
	var dtype string
	var size int
	switch s := t.Source.(type) {
	case *pytorch.FloatStorage:
		get, dtype, size = func(i int) float64 { return float64(s.Data[i]) }, "F32", len(s.Data)
	case *pytorch.DoubleStorage:
		get, dtype, size = func(i int) float64 { return s.Data[i] }, "F64", len(s.Data)
	case *pytorch.HalfStorage:
		get, dtype, size = func(i int) float64 { return float64(s.Data[i]) }, "F16", len(s.Data)
	case *pytorch.BFloat16Storage:
		get, dtype, size = func(i int) float64 { return float64(s.Data[i]) }, "BF16", len(s.Data)
	case *pytorch.LongStorage:
		get, dtype, size = func(i int) float64 { return float64(s.Data[i]) }, "I64", len(s.Data)
	case *pytorch.IntStorage:
		get, dtype, size = func(i int) float64 { return float64(s.Data[i]) }, "I32", len(s.Data)
	default:
		return Tensor{}, fmt.Errorf("unsupported storage %T", t.Source)
	}
	if len(t.Stride) != len(t.Size) {
		return Tensor{}, fmt.Errorf("%d strides for %d dimensions", len(t.Stride), len(t.Size))
	}
	n := 1
	for _, d := range t.Size {
		if d < 0 {
			return Tensor{}, fmt.Errorf("negative dimension in shape %v", t.Size)
		}
		if n *= d; n > maxElements {
			return Tensor{}, fmt.Errorf("shape %v holds more than %d elements, more than any tensor of a network advbench builds", t.Size, maxElements)
		}
	}
	out := Tensor{Shape: append([]int{}, t.Size...), Dtype: dtype, Data: make([]float64, n)}
	idx := make([]int, len(t.Size))
	for k := 0; k < n; k++ {
		off := t.StorageOffset
		for d := range idx {
			off += idx[d] * t.Stride[d]
		}
		if off < 0 || off >= size {
			return Tensor{}, fmt.Errorf("element %d lies outside its storage of %d", k, size)
		}
		out.Data[k] = get(off)
		for d := len(idx) - 1; d >= 0; d-- {
			if idx[d]++; idx[d] < t.Size[d] {
				break
			}
			idx[d] = 0
		}
	}
	return out, nil
}

// stripPrefix removes a prefix that every name carries.
func (sd *StateDict) stripPrefix(p string) {
	for _, n := range sd.Names {
		if !strings.HasPrefix(n, p) {
			return
		}
	}
	renamed := map[string]Tensor{}
	for i, n := range sd.Names {
		sd.Names[i] = strings.TrimPrefix(n, p)
		renamed[sd.Names[i]] = sd.Tensors[n]
	}
	sd.Tensors, sd.Stripped = renamed, p
}

// ErrInputNormUnknown is returned for a state dict without the reference's
// input normalisation buffers (normal.mean, normal.std) when the caller did
// not say how the model standardises its inputs: assuming ImageNet's
// statistics for a model that never had them would score a different
// function of the pixels.
var ErrInputNormUnknown = errors.New("interop: the state dict has no normal.mean/normal.std, so how the model standardises its inputs is unknown: say it (imagenet, none, or MEAN,STD)")

// inputNorm resolves the model's input normalisation: the file's
// normal.mean/normal.std buffers where it has them (cfg.InputNorm, if set,
// must agree), otherwise cfg.InputNorm, which must then be set.
func (sd *StateDict) inputNorm(given string) (string, error) {
	mean, okM := sd.Tensors[normalMean]
	std, okS := sd.Tensors[normalStd]
	if okM != okS || (okM && (len(mean.Data) != 3 || len(std.Data) != 3)) {
		return "", fmt.Errorf("interop: %s: %s and %s must both be there, 3 values each", sd.Path, normalMean, normalStd)
	}
	if !okM {
		if given == "" {
			return "", fmt.Errorf("%w (%s)", ErrInputNormUnknown, sd.Path)
		}
		return given, nil
	}
	if given == "" {
		return resnet.InputNormOf(mean.Data, std.Data), nil
	}
	gm, gs, err := resnet.ParseInputNorm(given)
	if err != nil {
		return "", err
	}
	if !close3(mean.Data, gm) || !close3(std.Data, gs) {
		return "", fmt.Errorf("interop: %s: %s and %s are %s, not %s", sd.Path, normalMean, normalStd, resnet.InputNormOf(mean.Data, std.Data), given)
	}
	return given, nil
}

// Load builds the model cfg describes and fills it from the state dict,
// checking every name and shape; counters are ignored. The input
// normalisation is the file's normal.mean/normal.std (the reference's
// NormalizeByChannelMeanStd buffers) or, for a file without them,
// cfg.InputNorm, which is then required (ErrInputNormUnknown).
func Load(sd *StateDict, cfg resnet.Config) (*resnet.Model, error) {
	// Names and shapes are checked first (their errors say more), then the
	// input normalisation.
	in, inErr := sd.inputNorm(cfg.InputNorm)
	cfg.InputNorm = in
	m, err := resnet.New(cfg)
	if err != nil {
		return nil, err
	}
	ps, bs := m.State()
	vars := append(ps, bs...)
	used := map[string]bool{}
	for _, v := range vars {
		t, ok := sd.Tensors[v.Name]
		if !ok && cfg.Norm == "modenorm" && (strings.HasSuffix(v.Name, ".x_ra") || strings.HasSuffix(v.Name, ".x2_ra")) {
			return nil, fmt.Errorf("interop: %s: ModeNorm running average %s is missing: the public ModeNorm implementation keeps its running averages as plain attributes, not buffers, so its state dicts cannot be evaluated in evaluation mode (save them with the state dict, or train the model with advbench)", sd.Path, v.Name)
		}
		if !ok {
			return nil, fmt.Errorf("interop: %s: tensor %s (shape %v) is missing%s", sd.Path, v.Name, []int(v.Value.Shape()), sd.guess(m.Config()))
		}
		if !checkpoint.SameShape(t.Shape, v.Value.Shape()) {
			return nil, fmt.Errorf("interop: %s: tensor %s: the file has shape %v, the model %v%s", sd.Path, v.Name, t.Shape, []int(v.Value.Shape()), sd.guess(m.Config()))
		}
		if !strings.HasPrefix(t.Dtype, "F") && t.Dtype != "BF16" {
			return nil, fmt.Errorf("interop: %s: tensor %s is %s, the model needs floats", sd.Path, v.Name, t.Dtype)
		}
		used[v.Name] = true
	}
	for _, n := range sd.Names {
		switch {
		case used[n] || strings.HasSuffix(n, counterSuffix):
		case n == normalMean || n == normalStd: // resolved by inputNorm
		default:
			return nil, fmt.Errorf("interop: %s: tensor %s (shape %v) has no place in a %s model of width %g%s", sd.Path, n, sd.Tensors[n].Shape, m.Config().Norm, m.Config().Width, sd.guess(m.Config()))
		}
	}
	if inErr != nil {
		return nil, inErr
	}
	for _, v := range vars {
		v.SetFloat64s(sd.Tensors[v.Name].Data)
	}
	return m, nil
}

func close3(got, want []float64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > 1e-6 {
			return false
		}
	}
	return true
}

// guess explains a mismatch: another width (from the stem's channels),
// another norm (from the names), or a prefix on every name.
func (sd *StateDict) guess(cfg resnet.Config) string {
	var hints []string
	if stem, ok := sd.Tensors["conv1.weight"]; ok && len(stem.Shape) == 4 {
		if w := float64(stem.Shape[0]) / 64; math.Abs(w-cfg.Width) > 1e-9 {
			hints = append(hints, fmt.Sprintf("the file's stem has %d channels: width %g, not %g", stem.Shape[0], w, cfg.Width))
		}
	} else if p := commonPrefix(sd.Names); p != "" {
		hints = append(hints, fmt.Sprintf("every name starts with %q: a wrapper's prefix?", p))
	}
	if n := sd.GuessNorm(); n != "" && !guessIncludes(n, cfg.Norm) {
		hints = append(hints, fmt.Sprintf("the names look like a %s model, not %s", n, cfg.Norm))
	}
	if len(hints) == 0 {
		return ""
	}
	return " (" + strings.Join(hints, "; ") + ")"
}

// GuessNorm names the norm whose parameter names the state dict has, or "".
func (sd *StateDict) GuessNorm() string {
	has := func(suffix string) bool {
		for _, n := range sd.Names {
			if strings.HasSuffix(n, suffix) {
				return true
			}
		}
		return false
	}
	switch {
	case has(".bn_list.0.running_mean") && has(".embed.weight"):
		return "saauxbn"
	case has(".bn_list.0.weight"):
		return "auxbn"
	case has(".bn.running_mean") && has(".embed.weight"):
		return "sabn or ccbn"
	case has(".x_ra"):
		return "modenorm"
	case has(".mean_weight"):
		return "switchnorm"
	case has(".bn1.weight") && has(".bn1.running_mean"):
		return "bn"
	case has(".bn1.weight") && has(".bn1.bias"):
		// GroupNorm, LayerNorm as GroupNorm(1, C) and InstanceNorm2d with
		// affine=True and no running statistics hold the same tensors.
		return "gn, ln or in"
	case has(".conv1.weight") && !sd.hasPart(".bn1.") && !sd.hasPart(".bn2."):
		return "none"
	}
	return ""
}

// hasPart reports whether some name contains part.
func (sd *StateDict) hasPart(part string) bool {
	for _, n := range sd.Names {
		if strings.Contains(n, part) {
			return true
		}
	}
	return false
}

// guessIncludes reports whether norm is one of the norms a GuessNorm answer
// names ("bn", "sabn or ccbn", "gn, ln or in").
func guessIncludes(guess, norm string) bool {
	for _, n := range strings.FieldsFunc(guess, func(r rune) bool { return r == ',' || r == ' ' }) {
		if n == norm {
			return true
		}
	}
	return false
}

// commonPrefix returns a dotted prefix every name shares ("model."), or "".
func commonPrefix(names []string) string {
	if len(names) == 0 {
		return ""
	}
	first, _, ok := strings.Cut(names[0], ".")
	if !ok {
		return ""
	}
	for _, n := range names {
		if !strings.HasPrefix(n, first+".") {
			return ""
		}
	}
	return first + "."
}

// Export writes the model as a safetensors state dict with the reference
// model's names: parameters and running statistics, a num_batches_tracked
// counter (int64, 0-dim; advbench does not count, so 0) beside every set of
// BatchNorm statistics, and the input normalisation buffers normal.mean and
// normal.std. PyTorch loads it with load_state_dict(strict=True).
func Export(m *resnet.Model, path string, meta map[string]string) error {
	ps, bs := m.State()
	vars := append(append([]*nn.Var(nil), ps...), bs...)
	for _, b := range bs {
		if strings.HasSuffix(b.Name, ".running_mean") {
			name := strings.TrimSuffix(b.Name, ".running_mean") + counterSuffix
			vars = append(vars, &nn.Var{Name: name, Value: tensor.New(tensor.FromScalar(int64(0)))})
		}
	}
	mean, std, err := resnet.ParseInputNorm(m.Config().InputNorm)
	if err != nil {
		return err
	}
	for _, nb := range []struct {
		name string
		v    []float64
	}{{normalMean, mean}, {normalStd, std}} {
		v := nn.NewVar(nb.name, tensor.Float32, 3)
		v.SetFloat64s(nb.v)
		vars = append(vars, v)
	}
	md := map[string]string{"format": "pt"}
	for k, v := range meta {
		md[k] = v
	}
	if err := checkpoint.Write(path, vars, md); err != nil {
		return fmt.Errorf("interop: %w", err)
	}
	return nil
}

// readEntry reads a zip entry whose declared size has been checked; the
// buffer grows with the bytes that arrive.
func readEntry(f *zip.File) ([]byte, error) {
	r, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", f.Name, err)
	}
	defer r.Close()
	raw, err := io.ReadAll(r) // archive/zip stops at the declared size
	if err != nil {
		return nil, fmt.Errorf("%s: %v", f.Name, err)
	}
	return raw, nil
}
