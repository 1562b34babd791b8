package cifar

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
)

// OfficialSHA256 maps each member of the official cifar-10-binary.tar.gz to
// the sha256 of its bytes, which are exactly its records in the binary
// layout.
var OfficialSHA256 = map[string]string{
	"data_batch_1.bin": "cee916563c9f80d84e3cc88e17fdc0941787f1244f00a67874d45b261883ada5",
	"data_batch_2.bin": "a591ca11fa1708a91ee40f54b3da4784ccd871ecf2137de63f51ada8b3fa57ed",
	"data_batch_3.bin": "bbe8596564c0f86427f876058170b84dac6670ddf06d79402899d93ceea26f67",
	"data_batch_4.bin": "014e562d6e23c72197cc727519169a60359f5eccd8945ad5a09d710285ff4e48",
	"data_batch_5.bin": "755304fc0b379caeae8c14f0dac912fbc7d6cd469eb67a1029a08a39453a9add",
	"test_batch.bin":   "8e2eb146ae340b09e24670f29cabc6326dba54da8789dab6768acf480273f65b",
}

// FileReport is the verification result of one batch file.
type FileReport struct {
	Name string `json:"name"`
	// Path is the file's path, or for a tarball's member "TARBALL: MEMBER".
	Path    string `json:"path"`
	Present bool   `json:"present"`
	Records int    `json:"records"`
	// SHA256 is the sha256 of the file's bytes as stored.
	SHA256 string `json:"sha256,omitempty"`
	// Official says that the file's records, labels and images in order,
	// are those of the official release's file of its name: their binary
	// layout has the sha256 OfficialSHA256 lists (for a binary file, its
	// bytes; for a python pickle, the records it decodes to, which the
	// python release shares with the binary one).
	Official bool `json:"official"`
	// Problem is empty for a readable batch file (official or not);
	// otherwise it says what is wrong.
	Problem string `json:"problem,omitempty"`
}

// VerifyFile reads one batch file of either release, checks that it
// decodes as CIFAR-10 records and compares them with the official ones for
// its base name.
func VerifyFile(path string) FileReport {
	raw, err := os.ReadFile(path)
	if err != nil {
		r := FileReport{Name: filepath.Base(path), Path: path}
		if errors.Is(err, os.ErrNotExist) {
			r.Problem = "missing"
		} else {
			r.Problem = err.Error()
		}
		return r
	}
	return verifyBytes(filepath.Base(path), path, raw)
}

// verifyBytes verifies one batch file's bytes; name is its base name.
func verifyBytes(name, path string, raw []byte) FileReport {
	r := FileReport{Name: name, Path: path, Present: true}
	sum := sha256.Sum256(raw)
	r.SHA256 = hex.EncodeToString(sum[:])
	d, err := Decode(path, raw)
	if err != nil {
		r.Problem = err.Error()
		return r
	}
	r.Records = d.Len()
	if want, ok := OfficialSHA256[PythonName(name)+".bin"]; ok {
		rec := sha256.Sum256(Encode(d))
		r.Official = hex.EncodeToString(rec[:]) == want
	}
	return r
}

// VerifyDir verifies the six batch files of the release whose layout dir
// holds (the binary one when it holds neither), in the order
// data_batch_1..5, test_batch.
func VerifyDir(dir string) []FileReport {
	f, _, _ := dirFormat(dir)
	names := allNames(f == PythonDir)
	out := make([]FileReport, 0, len(names))
	for _, n := range names {
		out = append(out, VerifyFile(filepath.Join(dir, n)))
	}
	return out
}

// verifyTarball verifies the six batch files of a tarball's layout, in the
// order data_batch_1..5, test_batch; a member it lacks is reported missing.
func verifyTarball(tarPath string) ([]FileReport, error) {
	reps := map[string]FileReport{}
	found, py, err := scanTarball(tarPath, func(string) bool { return true }, func(m tarMember, raw []byte) error {
		base := path.Base(m.name)
		reps[base] = verifyBytes(base, tarPath+": "+m.name, raw)
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []FileReport
	for _, n := range allNames(py) {
		if _, ok := found[n]; !ok {
			out = append(out, FileReport{Name: n, Path: tarPath, Problem: "missing"})
			continue
		}
		out = append(out, reps[n])
	}
	return out, nil
}

// Verify verifies path (Resolve): the six batch files of a directory or a
// tarball, or the one batch file.
func Verify(path string) ([]FileReport, error) {
	p, f, err := Resolve(path)
	if err != nil {
		return nil, err
	}
	switch f {
	case BatchFile:
		return []FileReport{VerifyFile(p)}, nil
	case Tarball:
		return verifyTarball(p)
	}
	return VerifyDir(p), nil
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
