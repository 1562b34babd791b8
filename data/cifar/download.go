package cifar

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
)

// Source describes a downloadable archive in the layout of the official
// cifar-10-binary.tar.gz: a gzipped tar whose members are checked by base
// name against Members (sha256, hex).
type Source struct {
	URL     string
	MD5     string            // md5 of the whole tarball, hex
	Members map[string]string // base name -> sha256 hex; every one must be present
}

// Official is the official CIFAR-10 binary release.
var Official = Source{
	URL:     "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
	MD5:     "c32a1d4ab5d03f1284b67883e8d87530",
	Members: OfficialSHA256,
}

// Progress is called while downloading with the bytes received so far and
// the total (-1 when the server does not say).
type Progress func(done, total int64)

// Download fetches src into dir (created if needed). The tarball goes to a
// temporary file, its md5 is checked, the members named in src.Members are
// extracted into a temporary directory next to dir and checked against their
// sha256, and only then are they moved into dir, each by an atomic rename.
// On any failure dir gains nothing and no temporary file is left behind.
// Existing files in dir with the same names are replaced only on success.
func Download(ctx context.Context, client *http.Client, src Source, dir string, progress Progress) error {
	if client == nil {
		client = http.DefaultClient
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cifar: download: %w", err)
	}
	stage, err := os.MkdirTemp(dir, ".download-*")
	if err != nil {
		return fmt.Errorf("cifar: download: %w", err)
	}
	defer os.RemoveAll(stage)

	tarPath := filepath.Join(stage, "archive.tar.gz")
	if err := fetch(ctx, client, src, tarPath, progress); err != nil {
		return err
	}
	if err := extract(tarPath, src, stage); err != nil {
		return err
	}
	for _, name := range sortedKeys(src.Members) {
		if err := os.Rename(filepath.Join(stage, name), filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("cifar: download: install %s: %w", name, err)
		}
	}
	return nil
}

func fetch(ctx context.Context, client *http.Client, src Source, dst string, progress Progress) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src.URL, nil)
	if err != nil {
		return fmt.Errorf("cifar: download %s: %w", src.URL, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("cifar: download %s: %w", src.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("cifar: download %s: HTTP %s", src.URL, resp.Status)
	}
	f, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("cifar: download: %w", err)
	}
	defer f.Close()
	h := md5.New()
	pr := &progressReader{r: resp.Body, total: resp.ContentLength, fn: progress}
	n, err := io.Copy(io.MultiWriter(f, h), pr)
	if err != nil {
		return fmt.Errorf("cifar: download %s: interrupted after %d bytes: %w", src.URL, n, err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return fmt.Errorf("cifar: download %s: truncated: got %d of %d bytes", src.URL, n, resp.ContentLength)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != src.MD5 {
		return fmt.Errorf("cifar: download %s: md5 %s does not match the expected %s (corrupt or wrong file)", src.URL, got, src.MD5)
	}
	return f.Close()
}

// extract writes every wanted member of the tarball into stage (flat, by base
// name) and checks each one's sha256.
func extract(tarPath string, src Source, stage string) error {
	f, err := os.Open(tarPath)
	if err != nil {
		return fmt.Errorf("cifar: extract: %w", err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("cifar: extract: not a gzip archive: %w", err)
	}
	tr := tar.NewReader(gz)
	seen := map[string]bool{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("cifar: extract: %w", err)
		}
		name := path.Base(hdr.Name)
		want, ok := src.Members[name]
		if !ok || hdr.Typeflag != tar.TypeReg {
			continue
		}
		out, err := os.Create(filepath.Join(stage, name))
		if err != nil {
			return fmt.Errorf("cifar: extract %s: %w", name, err)
		}
		got, err := sha256Hex(io.TeeReader(tr, out))
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("cifar: extract %s: %w", name, err)
		}
		if got != want {
			return fmt.Errorf("cifar: extract %s: sha256 %s does not match the expected %s", name, got, want)
		}
		seen[name] = true
	}
	for _, name := range sortedKeys(src.Members) {
		if !seen[name] {
			return fmt.Errorf("cifar: extract: archive has no member %s", name)
		}
	}
	return nil
}

type progressReader struct {
	r     io.Reader
	done  int64
	total int64
	fn    Progress
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.done += int64(n)
	if p.fn != nil {
		p.fn(p.done, p.total)
	}
	return n, err
}
