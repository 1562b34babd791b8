package regress

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/advbench/advbench/results"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exactFile is result("saauxbn", "adv", 1, 40, 20) with a checkpoint hash
// and the worst case set to the PGD-10 flags.
func exactFile() *results.File {
	f := result("saauxbn", "adv", 1, 40, 20).File
	f.Checkpoint.SHA256 = "c0ffee"
	f.PerExample.WorstCase = append([]bool(nil), f.PerExample.Robust["pgd-10"]...)
	return f
}

func clone(f *results.File) *results.File {
	g := *f
	g.PerExample = &results.PerExample{CleanCorrect: append([]bool(nil), f.PerExample.CleanCorrect...),
		Robust: map[string][]bool{"pgd-10": append([]bool(nil), f.PerExample.Robust["pgd-10"]...)}, WorstCase: append([]bool(nil), f.PerExample.WorstCase...)}
	return &g
}

func TestCompareExact(t *testing.T) {
	want := exactFile()

	same := &ExactReport{}
	require.NoError(t, same.CompareExact("saauxbn", want, clone(want)))
	assert.False(t, same.Failed())
	require.Len(t, same.Rows, 3, "sa, pgd-10 and the worst case")
	assert.Equal(t, 0.40, same.Rows[0].Expected)
	assert.Equal(t, 0.20, same.Rows[1].Now)

	// Two examples swap their robust flags: RA is unchanged (20%), which
	// a comparison of accuracies alone would pass.
	got := clone(want)
	r := got.PerExample.Robust["pgd-10"]
	a, b := -1, -1
	for i := range r {
		if r[i] && a < 0 {
			a = i
		}
		if !r[i] && b < 0 {
			b = i
		}
	}
	r[a], r[b] = false, true
	rep := &ExactReport{}
	require.NoError(t, rep.CompareExact("saauxbn", want, got))
	assert.True(t, rep.Failed())
	assert.Equal(t, 1, rep.Differing)
	row := rep.Rows[1]
	assert.Equal(t, "pgd-10", row.Metric)
	assert.Equal(t, 2, row.Differing)
	assert.Equal(t, []int{min(a, b), max(a, b)}, row.First)
	assert.Equal(t, row.Expected, row.Now)
	assert.Contains(t, rep.Failures()[0], "saauxbn (adv) pgd-10: 2 examples differ")
	var out bytes.Buffer
	require.NoError(t, RenderExact(&out, rep, "table"))
	assert.Contains(t, out.String(), "DIFFERS (2)")
	assert.Contains(t, out.String(), "FAIL: exact layer: 1 of 3 per-example comparisons differ")

	other := clone(want)
	other.Checkpoint.SHA256 = "bad"
	var inc *IncompatibleError
	assert.ErrorAs(t, (&ExactReport{}).CompareExact("saauxbn", want, other), &inc)
	other = clone(want)
	other.Examples = 99
	assert.ErrorContains(t, (&ExactReport{}).CompareExact("saauxbn", want, other), "test-set size 100 in the baseline, 99 here")
}

func TestReadExactRefusesBadManifests(t *testing.T) {
	good := `{"schema":"advbench.exact/v1","data":"builtin","test_n":10,"seed":1,"batch":128,"attacks":["pgd-10"],"eps":0.03,"step":0.01,"fixtures":[{"name":"bn","checkpoint":"bn.safetensors"}],"made_by":"x"}`
	for name, c := range map[string]struct{ body, msg string }{
		"good":      {good, ""},
		"schema":    {`{"schema":"v0"}`, `schema "v0"`},
		"unknown":   {`{"schema":"advbench.exact/v1","extra":1}`, "unknown field"},
		"absolute":  {bytes.NewBuffer(bytes.ReplaceAll([]byte(good), []byte(`"bn.safetensors"`), []byte(`"/etc/bn"`))).String(), "relative to the manifest"},
		"test_n":    {bytes.NewBuffer(bytes.ReplaceAll([]byte(good), []byte(`"test_n":10`), []byte(`"test_n":0`))).String(), "test_n 0"},
		"dup names": {bytes.NewBuffer(bytes.ReplaceAll([]byte(good), []byte(`}],`), []byte(`},{"name":"bn","checkpoint":"b"}],`))).String(), `fixture name "bn"`},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, ExactManifestFile), []byte(c.body), 0o644))
			m, err := ReadExact(dir)
			if c.msg == "" {
				require.NoError(t, err)
				assert.Equal(t, "bn.safetensors", m.Fixtures[0].Checkpoint)
				return
			}
			assert.ErrorContains(t, err, c.msg)
		})
	}
}
