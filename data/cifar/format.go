package cifar

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
)

// Geometry of one CIFAR-10 record.
const (
	Height      = 32
	Width       = 32
	Channels    = 3
	ImageBytes  = Channels * Height * Width // 3072
	RecordBytes = 1 + ImageBytes            // 3073
	NumClasses  = 10
)

// ClassNames are the CIFAR-10 class names, indexed by label.
var ClassNames = [NumClasses]string{
	"airplane", "automobile", "bird", "cat", "deer",
	"dog", "frog", "horse", "ship", "truck",
}

// TrainFiles and TestFile are the member names of the official binary
// release; the python release's are the same without ".bin" (PythonName).
var (
	TrainFiles = []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}
	TestFile   = "test_batch.bin"
)

// Dataset is a set of labelled 32x32 RGB images kept as raw bytes.
// Images holds Len()*ImageBytes bytes, record i at [i*ImageBytes, (i+1)*ImageBytes)
// in CHW order; Labels holds one label in 0..9 per record.
type Dataset struct {
	Images []uint8
	Labels []uint8
}

// Len returns the number of records.
func (d *Dataset) Len() int { return len(d.Labels) }

// Image returns the CHW bytes of record i (a view, not a copy).
func (d *Dataset) Image(i int) []uint8 { return d.Images[i*ImageBytes : (i+1)*ImageBytes] }

// Float32 writes record i as float32 values in [0,1] (v/255), CHW, into dst,
// which must hold ImageBytes values.
func (d *Dataset) Float32(i int, dst []float32) {
	for j, v := range d.Image(i) {
		dst[j] = float32(v) / 255
	}
}

// Subset returns a new dataset made of the given record indices, in order.
func (d *Dataset) Subset(idx []int) *Dataset {
	out := &Dataset{Images: make([]uint8, 0, len(idx)*ImageBytes), Labels: make([]uint8, 0, len(idx))}
	for _, i := range idx {
		out.Images = append(out.Images, d.Image(i)...)
		out.Labels = append(out.Labels, d.Labels[i])
	}
	return out
}

// Append adds all records of o to d.
func (d *Dataset) Append(o *Dataset) {
	d.Images = append(d.Images, o.Images...)
	d.Labels = append(d.Labels, o.Labels...)
}

// Fingerprints returns a 64-bit fingerprint of every record's image (the
// first 8 bytes of the SHA-256 of its 3,072 bytes, little-endian), sorted.
// Two datasets share an image exactly when they share a fingerprint (up to
// a collision chance of about 1e-10 for 50,000 against 10,000 images); the
// label is left out, so a relabelled copy still counts as the same image.
func (d *Dataset) Fingerprints() []uint64 {
	out := make([]uint64, d.Len())
	for i := range out {
		h := sha256.Sum256(d.Image(i))
		out[i] = binary.LittleEndian.Uint64(h[:8])
	}
	slices.Sort(out)
	return out
}

// Shared returns the indices of d's records whose image has a fingerprint
// in sorted (as Fingerprints returns).
func (d *Dataset) Shared(sorted []uint64) []int {
	var out []int
	for i := 0; i < d.Len(); i++ {
		h := sha256.Sum256(d.Image(i))
		if _, ok := slices.BinarySearch(sorted, binary.LittleEndian.Uint64(h[:8])); ok {
			out = append(out, i)
		}
	}
	return out
}

// ClassCounts returns the number of records of each class.
func (d *Dataset) ClassCounts() [NumClasses]int {
	var c [NumClasses]int
	for _, l := range d.Labels {
		if int(l) < NumClasses {
			c[l]++
		}
	}
	return c
}

// Parse decodes raw record bytes. name is used in error messages only.
// The input must be a non-empty whole number of records, every label in 0..9.
func Parse(name string, raw []byte) (*Dataset, error) {
	if len(raw) == 0 {
		return nil, fmt.Errorf("cifar: %s: empty file (want a whole number of %d-byte records)", name, RecordBytes)
	}
	if rem := len(raw) % RecordBytes; rem != 0 {
		n := len(raw) / RecordBytes
		return nil, fmt.Errorf("cifar: %s: record %d: truncated, %d of %d bytes (file size %d is not a multiple of %d)",
			name, n, rem, RecordBytes, len(raw), RecordBytes)
	}
	n := len(raw) / RecordBytes
	d := &Dataset{Images: make([]uint8, n*ImageBytes), Labels: make([]uint8, n)}
	for i := 0; i < n; i++ {
		rec := raw[i*RecordBytes : (i+1)*RecordBytes]
		if rec[0] >= NumClasses {
			return nil, fmt.Errorf("cifar: %s: record %d: label %d out of range 0..%d", name, i, rec[0], NumClasses-1)
		}
		d.Labels[i] = rec[0]
		copy(d.Images[i*ImageBytes:], rec[1:])
	}
	return d, nil
}

// Encode returns the records of d in the official binary layout.
func Encode(d *Dataset) []byte {
	out := make([]byte, 0, d.Len()*RecordBytes)
	for i := 0; i < d.Len(); i++ {
		out = append(out, d.Labels[i])
		out = append(out, d.Image(i)...)
	}
	return out
}

// Decode decodes one batch file of either release: a pickle of the python
// release (ParsePickle) when its first byte is a pickle's PROTO opcode,
// which no binary file has (labels are 0..9), the binary layout (Parse)
// otherwise. name is used in error messages only.
func Decode(name string, raw []byte) (*Dataset, error) {
	if len(raw) > 0 && raw[0] == pickleMagic {
		return ParsePickle(name, raw)
	}
	return Parse(name, raw)
}

// ReadFile reads one batch file of either release (Decode).
func ReadFile(path string) (*Dataset, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("cifar: %s: file not found", path)
		}
		return nil, fmt.Errorf("cifar: %s: %w", path, err)
	}
	return Decode(path, raw)
}

// Split names which part of a directory in the official layout to read.
type Split string

const (
	// Train is data_batch_1 .. data_batch_5, concatenated in order.
	Train Split = "train"
	// Test is test_batch.
	Test Split = "test"
)
