package cifar

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Format is how CIFAR-10 is stored at a path (Resolve).
type Format string

const (
	// BinaryDir is a directory of the binary release's batch files,
	// data_batch_1.bin .. data_batch_5.bin and test_batch.bin.
	BinaryDir Format = "binary directory"
	// PythonDir is a directory of the python release's pickles,
	// data_batch_1 .. data_batch_5 and test_batch.
	PythonDir Format = "python directory"
	// BatchFile is one batch file of either release: one split only, which
	// Load returns whatever split is asked.
	BatchFile Format = "batch file"
	// Tarball is cifar-10-binary.tar.gz or cifar-10-python.tar.gz (or a
	// gzipped tar of either layout): both splits, read by streaming it.
	Tarball Format = "tarball"
)

// BinaryReleaseDir and PythonReleaseDir are the directories the official
// tarballs unpack to. A directory holding one of them (and no batch files of
// its own) stands for it.
const (
	BinaryReleaseDir = "cifar-10-batches-bin"
	PythonReleaseDir = "cifar-10-batches-py"
)

// gzipMagic starts every gzip file.
var gzipMagic = []byte{0x1f, 0x8b}

// PythonName returns the python release's name for a binary release's
// batch file name: "data_batch_1.bin" is "data_batch_1".
func PythonName(binaryName string) string { return strings.TrimSuffix(binaryName, ".bin") }

// splitNames returns the batch file names of a split in one release's
// layout, in the order they are concatenated.
func splitNames(split Split, python bool) ([]string, error) {
	var names []string
	switch split {
	case Train:
		names = TrainFiles
	case Test:
		names = []string{TestFile}
	default:
		return nil, fmt.Errorf("cifar: unknown split %q (want %q or %q)", split, Train, Test)
	}
	if !python {
		return names, nil
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = PythonName(n)
	}
	return out, nil
}

// allNames returns the six batch file names of one release's layout:
// data_batch_1..5, then test_batch.
func allNames(python bool) []string {
	tr, _ := splitNames(Train, python)
	te, _ := splitNames(Test, python)
	return append(append([]string{}, tr...), te...)
}

// holdsAny reports whether dir holds any of names.
func holdsAny(dir string, names []string) bool {
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			return true
		}
	}
	return false
}

// Resolve says how path stores CIFAR-10 and returns the path to read: path
// itself, or for a directory that holds no batch files of its own but one
// of BinaryReleaseDir and PythonReleaseDir, that directory. A file is a
// Tarball when it is gzipped and a BatchFile otherwise; a directory is a
// BinaryDir or a PythonDir after the batch files it holds. A directory
// holding the batch files of both releases, or both release directories,
// is refused: which one is meant is not for this package to guess.
func Resolve(path string) (string, Format, error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", "", fmt.Errorf("cifar: %s: no such file or directory", path)
		}
		return "", "", fmt.Errorf("cifar: %w", err)
	}
	if !st.IsDir() {
		gz, err := hasPrefix(path, gzipMagic)
		if err != nil {
			return "", "", err
		}
		if gz {
			return path, Tarball, nil
		}
		return path, BatchFile, nil
	}
	if f, ok, err := dirFormat(path); ok || err != nil {
		return path, f, err
	}
	var subs []string
	for _, sub := range []string{BinaryReleaseDir, PythonReleaseDir} {
		if st, err := os.Stat(filepath.Join(path, sub)); err == nil && st.IsDir() {
			subs = append(subs, sub)
		}
	}
	switch len(subs) {
	case 2:
		return "", "", fmt.Errorf("cifar: %s: holds both %s and %s; name the one to read", path, BinaryReleaseDir, PythonReleaseDir)
	case 1:
		sub := filepath.Join(path, subs[0])
		if f, ok, err := dirFormat(sub); ok || err != nil {
			return sub, f, err
		}
		return "", "", fmt.Errorf("cifar: %s: no CIFAR-10 batch files (want data_batch_1 .. data_batch_5 and test_batch)", sub)
	}
	return "", "", fmt.Errorf("cifar: %s: no CIFAR-10 batch files (want data_batch_1 .. data_batch_5 and test_batch, as .bin files or python pickles, or a %s or %s directory)",
		path, BinaryReleaseDir, PythonReleaseDir)
}

// dirFormat says which release's batch files dir holds, if any.
func dirFormat(dir string) (Format, bool, error) {
	bin, py := holdsAny(dir, allNames(false)), holdsAny(dir, allNames(true))
	switch {
	case bin && py:
		return "", false, fmt.Errorf("cifar: %s: holds batch files of both releases (.bin files and python pickles); keep one", dir)
	case bin:
		return BinaryDir, true, nil
	case py:
		return PythonDir, true, nil
	}
	return "", false, nil
}

// hasPrefix reports whether the file at path starts with prefix.
func hasPrefix(path string, prefix []byte) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("cifar: %w", err)
	}
	defer f.Close()
	head := make([]byte, len(prefix))
	if _, err := io.ReadFull(f, head); err != nil {
		return false, nil // shorter than the prefix
	}
	return string(head) == string(prefix), nil
}

// Load reads a split from a path (Resolve): from a directory, the split's
// batch files (all five training files must exist for Train); from a
// tarball, its members of the split; a single batch file is returned
// whatever the split.
func Load(path string, split Split) (*Dataset, error) {
	p, f, err := Resolve(path)
	if err != nil {
		return nil, err
	}
	if _, err := splitNames(split, false); err != nil {
		return nil, err
	}
	switch f {
	case BatchFile:
		return ReadFile(p)
	case Tarball:
		return loadTarball(p, split)
	}
	names, _ := splitNames(split, f == PythonDir)
	out := &Dataset{}
	for _, n := range names {
		d, err := ReadFile(filepath.Join(p, n))
		if err != nil {
			return nil, err
		}
		out.Append(d)
	}
	return out, nil
}
