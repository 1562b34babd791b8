// Package cifartest writes CIFAR-10 batch files for tests, so that no batch
// file is kept in the repository: the same 12 generated records (2 per
// training batch, 2 test; random pixels, labels 0 and 9 among them) in
// every form package cifar reads.
//
//	bin/                     data_batch_1.bin .. data_batch_5.bin, test_batch.bin
//	py/                      data_batch_1 .. data_batch_5, test_batch: pickles
//	                         written opcode by opcode as the official release's
//	                         Python 2 cPickle wrote them (protocol 2, str keys,
//	                         the array's bytes a str)
//	cifar-10-binary.tar.gz   bin/ under cifar-10-batches-bin/, beside
//	cifar-10-python.tar.gz   batches.meta(.txt) and readme.html, in a shuffled
//	                         member order, as the official tarballs are
//
// scripts/make_cifar_format_fixtures.py wrote the same layout with numpy and
// checked that Python 3 loads such pickles as torchvision does.
package cifartest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/advbench/advbench/data/cifar"
)

// Per split, the records WriteFormats writes.
const (
	PerTrainBatch = 2
	PerTest       = 2
)

var trainBatches = []string{"data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"}

// Records returns the generated records of each split.
func Records() (train, test *cifar.Dataset) {
	rng := rand.New(rand.NewPCG(20240501, 1))
	n := PerTrainBatch*len(trainBatches) + PerTest
	all := &cifar.Dataset{Images: make([]uint8, n*cifar.ImageBytes), Labels: make([]uint8, n)}
	for i := range all.Images {
		all.Images[i] = uint8(rng.IntN(256))
	}
	for i := range all.Labels {
		all.Labels[i] = uint8(rng.IntN(cifar.NumClasses))
	}
	all.Labels[0], all.Labels[1] = 0, 9 // both ends of the range
	idx := func(lo, hi int) []int {
		var out []int
		for i := lo; i < hi; i++ {
			out = append(out, i)
		}
		return out
	}
	nt := PerTrainBatch * len(trainBatches)
	return all.Subset(idx(0, nt)), all.Subset(idx(nt, n))
}

// WriteFormats writes every form into dir and returns the records of each
// split.
func WriteFormats(dir string) (train, test *cifar.Dataset, err error) {
	train, test = Records()
	batches := map[string]*cifar.Dataset{"test_batch": test}
	for i, name := range trainBatches {
		idx := make([]int, PerTrainBatch)
		for j := range idx {
			idx[j] = i*PerTrainBatch + j
		}
		batches[name] = train.Subset(idx)
	}
	binFiles, pyFiles := map[string][]byte{}, map[string][]byte{}
	for name, d := range batches {
		binFiles[name] = cifar.Encode(d)
		pyFiles[name] = Py2Batch(name, d)
	}
	for _, sub := range []string{"bin", "py"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, nil, err
		}
	}
	for name := range batches {
		if err := os.WriteFile(filepath.Join(dir, "bin", name+".bin"), binFiles[name], 0o644); err != nil {
			return nil, nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, "py", name), pyFiles[name], 0o644); err != nil {
			return nil, nil, err
		}
	}
	// The official tarballs' member order is not the batches' order.
	order := []string{"data_batch_4", "readme", "test_batch", "data_batch_3", "meta", "data_batch_2", "data_batch_5", "data_batch_1"}
	meta := []byte("airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n")
	var binMembers, pyMembers []member
	for _, o := range order {
		switch o {
		case "readme":
			readme := member{"readme.html", []byte("<html>fixture</html>\n")}
			binMembers, pyMembers = append(binMembers, readme), append(pyMembers, readme)
		case "meta":
			binMembers = append(binMembers, member{"batches.meta.txt", meta})
			pyMembers = append(pyMembers, member{"batches.meta", []byte("\x80\x02}q\x00.")})
		default:
			binMembers = append(binMembers, member{o + ".bin", binFiles[o]})
			pyMembers = append(pyMembers, member{o, pyFiles[o]})
		}
	}
	if err := tarball(filepath.Join(dir, "cifar-10-binary.tar.gz"), cifar.BinaryReleaseDir, binMembers); err != nil {
		return nil, nil, err
	}
	if err := tarball(filepath.Join(dir, "cifar-10-python.tar.gz"), cifar.PythonReleaseDir, pyMembers); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

type member struct {
	name string
	data []byte
}

func tarball(path, top string, members []member) error {
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	if err := tw.WriteHeader(&tar.Header{Name: top + "/", Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
		return err
	}
	for _, m := range members {
		if err := tw.WriteHeader(&tar.Header{Name: top + "/" + m.name, Mode: 0o644, Size: int64(len(m.data))}); err != nil {
			return err
		}
		if _, err := tw.Write(m.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(raw.Bytes()); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, gz.Bytes(), 0o644)
}

// Py2Batch pickles a batch as the official release's Python 2 cPickle did:
// protocol 2, a dict of str keys (batch_label, labels, data, filenames),
// data a numpy uint8 array (N, 3072) rebuilt by
// numpy.core.multiarray._reconstruct, its bytes a str.
func Py2Batch(name string, d *cifar.Dataset) []byte {
	p := &py2{out: []byte("\x80\x02")}
	label := "testing batch 1 of 1"
	for i, b := range trainBatches {
		if b == name {
			label = fmt.Sprintf("training batch %d of 5", i+1)
		}
	}
	p.raw("}")
	p.put()
	p.raw("(")
	p.str("batch_label")
	p.str(label)
	p.str("labels")
	p.raw("]")
	p.put()
	p.raw("(")
	for _, l := range d.Labels {
		p.int(int(l))
	}
	p.raw("e")
	p.str("data")
	p.array(d.Len(), cifar.ImageBytes, d.Images)
	p.str("filenames")
	p.raw("]")
	p.put()
	p.raw("(")
	for i := range d.Len() {
		p.str(fmt.Sprintf("image_%s_%d.png", name, i))
	}
	p.raw("eu.")
	return p.out
}

// py2 writes protocol-2 opcodes, memoizing each object with BINPUT as
// cPickle did.
type py2 struct {
	out  []byte
	memo int
}

func (p *py2) raw(s string) { p.out = append(p.out, s...) }

func (p *py2) put() {
	if p.memo < 256 {
		p.out = append(p.out, 'q', byte(p.memo))
	} else {
		p.out = binary.LittleEndian.AppendUint32(append(p.out, 'r'), uint32(p.memo))
	}
	p.memo++
}

func (p *py2) str(s string) { p.bytes([]byte(s)) }

func (p *py2) bytes(b []byte) {
	if len(b) < 256 {
		p.out = append(p.out, 'U', byte(len(b)))
	} else {
		p.out = binary.LittleEndian.AppendUint32(append(p.out, 'T'), uint32(len(b)))
	}
	p.out = append(p.out, b...)
	p.put()
}

func (p *py2) int(v int) {
	switch {
	case v >= 0 && v < 256:
		p.out = append(p.out, 'K', byte(v))
	case v >= 0 && v < 65536:
		p.out = binary.LittleEndian.AppendUint16(append(p.out, 'M'), uint16(v))
	default:
		p.out = binary.LittleEndian.AppendUint32(append(p.out, 'J'), uint32(int32(v)))
	}
}

func (p *py2) array(rows, cols int, data []byte) {
	p.raw("cnumpy.core.multiarray\n_reconstruct\n")
	p.put()
	p.raw("cnumpy\nndarray\n")
	p.put()
	p.raw("K\x00\x85") // (0,)
	p.str("b")
	p.raw("\x87R") // TUPLE3, REDUCE
	p.put()
	p.raw("(")
	p.int(1)
	p.int(rows)
	p.int(cols)
	p.raw("\x86") // the shape, a 2-tuple
	p.raw("cnumpy\ndtype\n")
	p.put()
	p.str("u1")
	p.raw("K\x00K\x01\x87R")
	p.put()
	p.raw("(K\x03")
	p.str("|")
	p.raw("NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb") // dtype state, BUILD
	p.raw("\x89")                                         // not Fortran
	p.bytes(data)
	p.raw("tb") // array state, BUILD
}
