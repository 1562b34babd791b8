package cifar

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
)

// maxMemberBytes bounds a batch file read from a tarball, whose header's
// size is only a claim until the bytes arrive: the whole training set in a
// single batch file is 153,650,000 bytes in the binary layout and a little
// more pickled, so no batch file needs more.
const maxMemberBytes = 256 << 20

// tarMember is a batch file found in a tarball.
type tarMember struct {
	name   string // as stored, e.g. cifar-10-batches-py/data_batch_1
	python bool   // of the python release's layout
}

// scanTarball streams the gzipped tar at path. For every regular member
// whose base name is a batch file of either release it calls fn with the
// member's bytes when want(base) holds (after checking its claimed size),
// and records it. A tarball holding one batch file twice, or the batch
// files of both releases, is refused. It returns the members found by base
// name and whether they are of the python layout.
func scanTarball(tarPath string, want func(base string) bool, fn func(m tarMember, raw []byte) error) (map[string]tarMember, bool, error) {
	f, err := os.Open(tarPath)
	if err != nil {
		return nil, false, fmt.Errorf("cifar: %w", err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, false, fmt.Errorf("cifar: %s: not a gzip file: %v", tarPath, err)
	}
	kind := map[string]bool{} // base name -> python
	for _, py := range []bool{false, true} {
		for _, n := range allNames(py) {
			kind[n] = py
		}
	}
	found := map[string]tarMember{}
	var first *tarMember // the first batch file, for the mixed-layout message
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, false, fmt.Errorf("cifar: %s: damaged tarball: %v", tarPath, err)
		}
		base := path.Base(hdr.Name)
		py, ok := kind[base]
		if !ok || hdr.Typeflag != tar.TypeReg {
			continue
		}
		m := tarMember{name: hdr.Name, python: py}
		if prev, dup := found[base]; dup {
			return nil, false, fmt.Errorf("cifar: %s: holds %s twice (%s and %s)", tarPath, base, prev.name, m.name)
		}
		if first == nil {
			first = &m
		} else if first.python != py {
			return nil, false, fmt.Errorf("cifar: %s: holds batch files of both releases (%s and %s)", tarPath, first.name, m.name)
		}
		found[base] = m
		if !want(base) {
			continue
		}
		name := tarPath + ": " + m.name
		if hdr.Size > maxMemberBytes {
			return nil, false, fmt.Errorf("cifar: %s: claims %d bytes, more than the %d a batch file can need", name, hdr.Size, maxMemberBytes)
		}
		var buf bytes.Buffer // grows with the bytes that arrive, not with the claim
		if _, err := io.Copy(&buf, tr); err != nil {
			return nil, false, fmt.Errorf("cifar: %s: damaged tarball: %v", name, err)
		}
		if err := fn(m, buf.Bytes()); err != nil {
			return nil, false, err
		}
	}
	if first == nil {
		return nil, false, fmt.Errorf("cifar: %s: holds no CIFAR-10 batch files (want %s/data_batch_1.bin .. or %s/data_batch_1 ..)", tarPath, BinaryReleaseDir, PythonReleaseDir)
	}
	return found, first.python, nil
}

// loadTarball reads a split from a tarball: its members of the split, in
// order, whatever their order in the tarball.
func loadTarball(tarPath string, split Split) (*Dataset, error) {
	wanted := map[string]bool{}
	for _, py := range []bool{false, true} {
		names, err := splitNames(split, py)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			wanted[n] = true
		}
	}
	got := map[string]*Dataset{}
	found, py, err := scanTarball(tarPath, func(base string) bool { return wanted[base] }, func(m tarMember, raw []byte) error {
		d, err := Decode(tarPath+": "+m.name, raw)
		if err != nil {
			return err
		}
		got[path.Base(m.name)] = d
		return nil
	})
	if err != nil {
		return nil, err
	}
	names, _ := splitNames(split, py)
	out := &Dataset{}
	for _, n := range names {
		if _, ok := found[n]; !ok {
			return nil, fmt.Errorf("cifar: %s: has no member %s (the %s split needs %v)", tarPath, n, split, names)
		}
		out.Append(got[n])
	}
	return out, nil
}
