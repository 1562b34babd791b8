package cifar

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
)

// OfficialSHA256 maps each member of the official cifar-10-binary.tar.gz to
// the sha256 of its bytes.
var OfficialSHA256 = map[string]string{
	"data_batch_1.bin": "cee916563c9f80d84e3cc88e17fdc0941787f1244f00a67874d45b261883ada5",
	"data_batch_2.bin": "a591ca11fa1708a91ee40f54b3da4784ccd871ecf2137de63f51ada8b3fa57ed",
	"data_batch_3.bin": "bbe8596564c0f86427f876058170b84dac6670ddf06d79402899d93ceea26f67",
	"data_batch_4.bin": "014e562d6e23c72197cc727519169a60359f5eccd8945ad5a09d710285ff4e48",
	"data_batch_5.bin": "755304fc0b379caeae8c14f0dac912fbc7d6cd469eb67a1029a08a39453a9add",
	"test_batch.bin":   "8e2eb146ae340b09e24670f29cabc6326dba54da8789dab6768acf480273f65b",
}

// FileReport is the verification result of one file.
type FileReport struct {
	Name     string `json:"name"`
	Path     string `json:"path"`
	Present  bool   `json:"present"`
	Records  int    `json:"records"`
	SHA256   string `json:"sha256,omitempty"`
	Official bool   `json:"official"`
	// Problem is empty for a readable file in the official format (official
	// or not); otherwise it says what is wrong.
	Problem string `json:"problem,omitempty"`
}

// VerifyFile reads one file, checks that it parses as CIFAR-10 records and
// compares its sha256 with the official value for its base name.
func VerifyFile(path string) FileReport {
	r := FileReport{Name: filepath.Base(path), Path: path}
	raw, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			r.Problem = "missing"
		} else {
			r.Problem = err.Error()
		}
		return r
	}
	r.Present = true
	sum := sha256.Sum256(raw)
	r.SHA256 = hex.EncodeToString(sum[:])
	r.Official = OfficialSHA256[r.Name] == r.SHA256
	d, err := Parse(path, raw)
	if err != nil {
		r.Problem = err.Error()
		return r
	}
	r.Records = d.Len()
	return r
}

// VerifyDir verifies the six files of the official layout in dir, in the
// order data_batch_1..5, test_batch.
func VerifyDir(dir string) []FileReport {
	names := append(append([]string{}, TrainFiles...), TestFile)
	out := make([]FileReport, 0, len(names))
	for _, n := range names {
		out = append(out, VerifyFile(filepath.Join(dir, n)))
	}
	return out
}

// Verify verifies path: the official layout when it is a directory, the file
// itself otherwise.
func Verify(path string) ([]FileReport, error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("cifar: %s: no such file or directory", path)
		}
		return nil, fmt.Errorf("cifar: %w", err)
	}
	if st.IsDir() {
		return VerifyDir(path), nil
	}
	return []FileReport{VerifyFile(path)}, nil
}

// sha256Hex hashes everything r yields.
func sha256Hex(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func sortedKeys(m map[string]string) []string {
	k := make([]string, 0, len(m))
	for n := range m {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}
