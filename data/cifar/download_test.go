package cifar

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testArchive builds a small tarball in the official layout and the Source
// that describes it.
func testArchive(t *testing.T) ([]byte, Source) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	members := map[string]string{}
	for i, name := range []string{"data_batch_1.bin", "test_batch.bin"} {
		body := makeRecords(3 + i)
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: "cifar-10-batches-bin/" + name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}))
		_, err := tw.Write(body)
		require.NoError(t, err)
		s := sha256.Sum256(body)
		members[name] = hex.EncodeToString(s[:])
	}
	readme := []byte("readme")
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "cifar-10-batches-bin/readme.html", Mode: 0o644, Size: int64(len(readme)), Typeflag: tar.TypeReg}))
	_, err := tw.Write(readme)
	require.NoError(t, err)
	require.NoError(t, tw.Close())
	require.NoError(t, gz.Close())
	m := md5.Sum(buf.Bytes())
	return buf.Bytes(), Source{MD5: hex.EncodeToString(m[:]), Members: members}
}

// serve answers every request with body, claiming length bytes.
func serve(t *testing.T, body []byte, length int) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(length))
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func listDir(t *testing.T, dir string) []string {
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestDownloadOK(t *testing.T) {
	body, src := testArchive(t)
	srv := serve(t, body, len(body))
	src.URL = srv.URL + "/cifar-10-binary.tar.gz"
	dir := filepath.Join(t.TempDir(), "cifar10")
	var last int64
	err := Download(context.Background(), srv.Client(), src, dir, func(done, total int64) {
		assert.GreaterOrEqual(t, done, last)
		assert.Equal(t, int64(len(body)), total)
		last = done
	})
	require.NoError(t, err)
	assert.Equal(t, int64(len(body)), last)
	assert.Equal(t, []string{"data_batch_1.bin", "test_batch.bin"}, listDir(t, dir))
	d, err := ReadFile(filepath.Join(dir, "test_batch.bin"))
	require.NoError(t, err)
	assert.Equal(t, 4, d.Len())
}

func TestDownloadFailuresLeaveNothing(t *testing.T) {
	body, src := testArchive(t)
	corrupt := append([]byte{}, body...)
	corrupt[len(corrupt)/2] ^= 0xff
	wrongMember := src
	wrongMember.Members = map[string]string{"data_batch_1.bin": src.Members["data_batch_1.bin"], "test_batch.bin": "00"}
	missingMember := src
	missingMember.Members = map[string]string{"data_batch_1.bin": src.Members["data_batch_1.bin"], "data_batch_9.bin": "00"}
	cases := []struct {
		name   string
		body   []byte
		length int
		src    Source
		want   string
	}{
		{"truncated", body[:len(body)-40], len(body), src, "interrupted after"},
		{"corrupt", corrupt, len(corrupt), src, "md5"},
		{"member checksum", body, len(body), wrongMember, "extract test_batch.bin: sha256"},
		{"member missing", body, len(body), missingMember, "no member data_batch_9.bin"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := serve(t, c.body, c.length)
			c.src.URL = srv.URL
			dir := t.TempDir()
			err := Download(context.Background(), srv.Client(), c.src, dir, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.Empty(t, listDir(t, dir), "a failed download leaves nothing in the target directory")
		})
	}
}

func TestDownloadHTTPError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	dir := t.TempDir()
	err := Download(context.Background(), srv.Client(), Source{URL: srv.URL}, dir, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "404")
	assert.Empty(t, listDir(t, dir))
}
