// Package checkpoint reads and writes named tensors in the safetensors
// format: an 8-byte little-endian header length, a JSON header giving each
// tensor's dtype, shape and byte offsets (plus a string-to-string
// "__metadata__" map), then the raw little-endian tensor bytes. Files written
// here also carry the sha256 of the tensor bytes in the metadata, and are
// written atomically (temporary file, fsync, rename).
//
// Reading checks the layout (a truncated file is refused, naming it) and the
// checksum; Assign copies tensors into variables only when every name, dtype
// and shape matches, and otherwise names the first mismatching tensor with
// both shapes.
package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"

	"github.com/advbench/advbench/internal/atomicfile"
	"github.com/advbench/advbench/nn"
	"gorgonia.org/tensor"
)

// ChecksumKey is the metadata key holding the sha256 of the tensor bytes.
const ChecksumKey = "sha256"

type headerEntry struct {
	Dtype   string   `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// Entry is one stored tensor.
type Entry struct {
	Name  string
	Dtype tensor.Dtype
	Shape []int
	begin int64 // offset in the data section
	data  []byte
}

// File is a read checkpoint.
type File struct {
	Path    string
	Meta    map[string]string
	Entries []Entry // in file order
	byName  map[string]int
}

// dtypes are the tensor types read and written: floats for parameters and
// statistics, integers for counters such as BatchNorm's num_batches_tracked.
var dtypes = []struct {
	name string
	dt   tensor.Dtype
	size int
}{{"F32", tensor.Float32, 4}, {"F64", tensor.Float64, 8}, {"I64", tensor.Int64, 8}, {"I32", tensor.Int32, 4}}

func dtypeName(dt tensor.Dtype) (string, error) {
	for _, d := range dtypes {
		if d.dt == dt {
			return d.name, nil
		}
	}
	return "", fmt.Errorf("unsupported dtype %v", dt)
}

func dtypeOf(name string) (tensor.Dtype, int, error) {
	for _, d := range dtypes {
		if d.name == name {
			return d.dt, d.size, nil
		}
	}
	return tensor.Dtype{}, 0, fmt.Errorf("unsupported dtype %q (F32, F64, I64 and I32 are read)", name)
}

func isFloat(dt tensor.Dtype) bool { return dt == tensor.Float32 || dt == tensor.Float64 }

// DtypeName is the entry's dtype as the file names it (F32, F64, I64, I32).
func (e Entry) DtypeName() string {
	n, _ := dtypeName(e.Dtype) // read entries have a supported dtype
	return n
}

// Float64s returns the entry's values as float64, whatever its dtype.
func (e Entry) Float64s() []float64 {
	size := int(e.Dtype.Size())
	out := make([]float64, len(e.data)/size)
	for i := range out {
		b := e.data[size*i:]
		switch e.Dtype {
		case tensor.Float32:
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
		case tensor.Float64:
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(b))
		case tensor.Int64:
			out[i] = float64(int64(binary.LittleEndian.Uint64(b)))
		case tensor.Int32:
			out[i] = float64(int32(binary.LittleEndian.Uint32(b)))
		}
	}
	return out
}

// Write stores vars (names must be unique) and meta at path atomically.
func Write(path string, vars []*nn.Var, meta map[string]string) error {
	header := map[string]any{}
	var data bytes.Buffer
	seen := map[string]bool{}
	for _, v := range vars {
		if seen[v.Name] {
			return fmt.Errorf("checkpoint: %s: duplicate tensor name %s", path, v.Name)
		}
		seen[v.Name] = true
		dn, err := dtypeName(v.Value.Dtype())
		if err != nil {
			return fmt.Errorf("checkpoint: %s: %s: %w", path, v.Name, err)
		}
		begin := int64(data.Len())
		switch d := v.Value.Data().(type) {
		case []float32:
			for _, e := range d {
				binary.Write(&data, binary.LittleEndian, math.Float32bits(e))
			}
		case []float64:
			for _, e := range d {
				binary.Write(&data, binary.LittleEndian, math.Float64bits(e))
			}
		case []int64, []int32, int64, int32, float32, float64: // integer counters; 0-dim tensors
			binary.Write(&data, binary.LittleEndian, d)
		}
		header[v.Name] = headerEntry{Dtype: dn, Shape: append([]int{}, v.Value.Shape()...), Offsets: [2]int64{begin, int64(data.Len())}}
	}
	md := map[string]string{}
	for k, v := range meta {
		md[k] = v
	}
	sum := sha256.Sum256(data.Bytes())
	md[ChecksumKey] = hex.EncodeToString(sum[:])
	header["__metadata__"] = md
	hj, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	for len(hj)%8 != 0 { // align the data to 8 bytes, as the reference writer does
		hj = append(hj, ' ')
	}
	err = atomicfile.Write(path, func(w io.Writer) error {
		if err := binary.Write(w, binary.LittleEndian, uint64(len(hj))); err != nil {
			return err
		}
		if _, err := w.Write(hj); err != nil {
			return err
		}
		_, err := w.Write(data.Bytes())
		return err
	})
	if err != nil {
		return fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	return nil
}

// Read loads and checks a checkpoint file.
func Read(path string) (*File, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	fail := func(format string, args ...any) (*File, error) {
		return nil, fmt.Errorf("checkpoint: %s: "+format, append([]any{path}, args...)...)
	}
	if len(raw) < 8 {
		return fail("truncated: %d bytes, not even a header length", len(raw))
	}
	n := binary.LittleEndian.Uint64(raw[:8])
	if n > uint64(len(raw)-8) {
		return fail("truncated: header of %d bytes announced, %d bytes follow", n, len(raw)-8)
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(raw[8:8+n], &header); err != nil {
		return fail("header is not valid JSON: %v", err)
	}
	data := raw[8+n:]
	f := &File{Path: path, Meta: map[string]string{}, byName: map[string]int{}}
	if m, ok := header["__metadata__"]; ok {
		if err := json.Unmarshal(m, &f.Meta); err != nil {
			return fail("metadata: %v", err)
		}
		delete(header, "__metadata__")
	}
	var end int64
	for name, rawEntry := range header {
		var h headerEntry
		if err := json.Unmarshal(rawEntry, &h); err != nil {
			return fail("tensor %s: %v", name, err)
		}
		dt, size, err := dtypeOf(h.Dtype)
		if err != nil {
			return fail("tensor %s: %v", name, err)
		}
		count := int64(1)
		for _, d := range h.Shape {
			if d < 0 {
				return fail("tensor %s: negative dimension in shape %v", name, h.Shape)
			}
			count *= int64(d)
			if count > int64(len(data)) {
				return fail("tensor %s: shape %v holds more elements than the file has bytes", name, h.Shape)
			}
		}
		b, e := h.Offsets[0], h.Offsets[1]
		if b < 0 || e < b || e-b != count*int64(size) {
			return fail("tensor %s: offsets %v do not hold shape %v of %s", name, h.Offsets, h.Shape, h.Dtype)
		}
		if e > int64(len(data)) {
			return fail("truncated: tensor %s ends at byte %d of the data, which has %d", name, e, len(data))
		}
		end = max(end, e)
		f.Entries = append(f.Entries, Entry{Name: name, Dtype: dt, Shape: h.Shape, begin: b, data: data[b:e]})
	}
	if want, ok := f.Meta[ChecksumKey]; ok {
		sum := sha256.Sum256(data[:end])
		if got := hex.EncodeToString(sum[:]); got != want {
			return fail("checksum mismatch: tensor bytes hash to %s, the header says %s (corrupt file)", got, want)
		}
	}
	sort.Slice(f.Entries, func(i, j int) bool { return f.Entries[i].begin < f.Entries[j].begin })
	for i := 1; i < len(f.Entries); i++ {
		p, e := f.Entries[i-1], f.Entries[i]
		if e.begin < p.begin+int64(len(p.data)) {
			return fail("tensor %s (bytes %d..%d) and tensor %s (from byte %d) overlap: every tensor needs its own bytes", p.Name, p.begin, p.begin+int64(len(p.data)), e.Name, e.begin)
		}
	}
	for i, e := range f.Entries {
		f.byName[e.Name] = i
	}
	return f, nil
}

// Entry returns the named tensor.
func (f *File) Entry(name string) (Entry, bool) {
	i, ok := f.byName[name]
	if !ok {
		return Entry{}, false
	}
	return f.Entries[i], true
}

// Has reports whether the file holds a tensor of that name.
func (f *File) Has(name string) bool {
	_, ok := f.byName[name]
	return ok
}

// Assign copies the stored tensors into vars. Every var must be stored with
// the same shape and the same dtype, or another float dtype (converted), and
// every stored tensor must have a var unless spare(name) says it may be left
// alone (spare may be nil: none may); otherwise nothing is assigned and the
// first mismatch is named.
func (f *File) Assign(vars []*nn.Var, spare func(name string) bool) error {
	want := map[string]bool{}
	for _, v := range vars {
		want[v.Name] = true
		i, ok := f.byName[v.Name]
		if !ok {
			return fmt.Errorf("checkpoint: %s: tensor %s (shape %v) is not in the checkpoint: another architecture or norm?", f.Path, v.Name, []int(v.Value.Shape()))
		}
		e := f.Entries[i]
		if !SameShape(e.Shape, v.Value.Shape()) || e.Dtype != v.Value.Dtype() && !(isFloat(e.Dtype) && isFloat(v.Value.Dtype())) {
			return fmt.Errorf("checkpoint: %s: tensor %s: the model has %v %v, the checkpoint %v %v", f.Path, v.Name, v.Value.Dtype(), []int(v.Value.Shape()), e.Dtype, e.Shape)
		}
	}
	for _, e := range f.Entries {
		if !want[e.Name] && (spare == nil || !spare(e.Name)) {
			return fmt.Errorf("checkpoint: %s: tensor %s (shape %v) has no place in the model: another architecture or norm?", f.Path, e.Name, e.Shape)
		}
	}
	for _, v := range vars {
		e := f.Entries[f.byName[v.Name]]
		if e.Dtype != v.Value.Dtype() { // another float dtype (checked above): converted
			nn.FromFloat64(v.Value, e.Float64s())
			continue
		}
		if _, err := binary.Decode(e.data, binary.LittleEndian, v.Value.Data()); err != nil {
			return fmt.Errorf("checkpoint: %s: tensor %s: %w", f.Path, v.Name, err)
		}
	}
	return nil
}

// SameShape reports whether a stored shape is a tensor's shape.
func SameShape(a []int, b tensor.Shape) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
