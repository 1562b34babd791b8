package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/advbench/advbench/data/cifar"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runCLI runs advbench with args and returns the exit code, stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"advbench"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestExitCodes(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"help", []string{"--help"}, exitOK, ""},
		{"unknown command", []string{"frobnicate"}, exitUsage, "frobnicate"},
		{"unknown data subcommand", []string{"data", "nope"}, exitUsage, `unknown command "nope" for advbench data`},
		{"unknown flag", []string{"data", "inspect", "--bogus"}, exitUsage, "bogus"},
		{"missing argument", []string{"data", "verify"}, exitUsage, "want one DIR or FILE"},
		{"bad format", []string{"data", "inspect", "--format", "xml"}, exitUsage, `--format "xml"`},
		{"missing file", []string{"data", "inspect", "/nonexistent/x.bin"}, exitFailure, "no such file or directory"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, c.args...)
			assert.Equal(t, c.code, code, stderr)
			assert.Contains(t, stderr, c.err)
		})
	}
}

func TestHelpTeaches(t *testing.T) {
	code, out, _ := runCLI(t, "data", "synth", "--help")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "--n-train")
	assert.Contains(t, out, "Example:")
}

func TestSynthThenVerifyThenInspect(t *testing.T) {
	dir := t.TempDir()
	code, out, stderr := runCLI(t, "data", "synth", "--out", dir, "--n-train", "23", "--n-test", "12", "--seed", "5")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, "wrote 23 training and 12 test records")

	code, out, _ = runCLI(t, "data", "verify", dir, "--format", "json")
	require.Equal(t, exitOK, code)
	var reps []cifar.FileReport
	require.NoError(t, json.Unmarshal([]byte(out), &reps))
	require.Len(t, reps, 6)
	total := 0
	for _, r := range reps[:5] {
		total += r.Records
		assert.False(t, r.Official)
	}
	assert.Equal(t, 23, total)
	assert.Equal(t, 12, reps[5].Records)

	sheet := filepath.Join(dir, "sheet.png")
	// Flags after the positional argument work too.
	code, out, stderr = runCLI(t, "data", "inspect", filepath.Join(dir, "test_batch.bin"), "--sheet", sheet, "--grid", "3", "--format", "json")
	require.Equal(t, exitOK, code, stderr)
	var res inspectResult
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	assert.Equal(t, 12, res.Records)
	assert.Equal(t, [cifar.NumClasses]int{2, 2, 1, 1, 1, 1, 1, 1, 1, 1}, res.ClassCounts)
	assert.Equal(t, []int{0, 1, 2, 3, 4, 5, 6, 7, 8}, res.SheetLabels)
	st, err := os.Stat(sheet)
	require.NoError(t, err)
	assert.Greater(t, st.Size(), int64(1000))
}

func TestVerifyReportsMissingFiles(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "test_batch.bin"), make([]byte, cifar.RecordBytes+1), 0o644))
	code, out, stderr := runCLI(t, "data", "verify", dir)
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, out, "missing")
	assert.Contains(t, out, "record 1: truncated")
	assert.Contains(t, stderr, "6 of 6 files missing or unreadable")
}

func TestDownloadRefusesCorruptPayload(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("not a tarball at all"))
	}))
	defer srv.Close()
	dir := filepath.Join(t.TempDir(), "cifar")
	code, _, stderr := runCLI(t, "data", "download", "--dir", dir, "--url", srv.URL)
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, stderr, "md5")
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, ents)
}

func TestFlagsFirst(t *testing.T) {
	app := newApp(nil, nil)
	got := flagsFirst(app, []string{"advbench", "data", "inspect", "f.bin", "--sheet", "s.png", "--grid=3", "--", "-odd"})
	assert.Equal(t, []string{"advbench", "data", "inspect", "--sheet", "s.png", "--grid=3", "f.bin", "--", "-odd"}, got)
}

func TestModelSummary(t *testing.T) {
	code, out, stderr := runCLI(t, "model", "summary", "--format", "json")
	require.Equal(t, exitOK, code, stderr)
	var s modelSummary
	require.NoError(t, json.Unmarshal([]byte(out), &s))
	assert.Equal(t, 11_171_146, s.Params)
	assert.InDelta(t, 555e6, float64(s.MACs), 2e6)

	code, out, _ = runCLI(t, "model", "summary", "--norm", "saauxbn", "--width", "0.25")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "norm saauxbn, width 0.25")
	assert.Contains(t, out, "layer4.1.conv2")

	code, out, _ = runCLI(t, "model", "summary", "--help")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "saauxbn     SaAuxBN (paper Eq. 8)")

	code, _, stderr = runCLI(t, "model", "summary", "--norm", "groupnorm")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "want one of auxbn, bn, ccbn")
}

func TestBench(t *testing.T) {
	prof := filepath.Join(t.TempDir(), "cpu.prof")
	code, out, stderr := runCLI(t, "bench", "--workload", "train-step", "--width", "0.0625", "--batch", "4", "--runs", "2", "--format", "json", "--cpuprofile", prof)
	require.Equal(t, exitOK, code, stderr)
	st, err := os.Stat(prof)
	require.NoError(t, err)
	assert.Greater(t, st.Size(), int64(0), "a CPU profile was written")
	var r benchResult
	require.NoError(t, json.Unmarshal([]byte(out), &r))
	require.Len(t, r.Runs, 2)
	assert.Greater(t, r.Median, 0.0)
	assert.InDelta(t, (r.Runs[0]+r.Runs[1])/2, r.Median, 1e-9*r.Median, "the median of two runs is their mean")
	assert.InDelta(t, r.Median*float64(r.MACsPerImage)*6/1e9, r.GFLOPs, 1e-9)
	assert.Greater(t, r.PeakRSSMiB, 1.0)
	assert.Contains(t, stderr, "run 2/2")

	for _, w := range []struct {
		args  []string
		flops float64
	}{
		{[]string{"--workload", "advprop-iter", "--train-steps", "3"}, 4*3 + 12},
		{[]string{"--workload", "pgd20-eval"}, 84},
	} {
		code, out, stderr := runCLI(t, append([]string{"bench", "--width", "0.0625", "--batch", "2", "--runs", "1", "--format", "json"}, w.args...)...)
		require.Equal(t, exitOK, code, stderr)
		var r benchResult
		require.NoError(t, json.Unmarshal([]byte(out), &r))
		assert.InDelta(t, r.Median*float64(r.MACsPerImage)*w.flops/1e9, r.GFLOPs, 1e-9, "%v", w.args)
	}

	code, _, stderr = runCLI(t, "bench", "--workload", "sleep")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "advprop-iter, advprop-step, forward, pgd-step, pgd20-eval, train-step")
}
