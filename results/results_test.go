package results

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sample() *File {
	return &File{Provenance: Provenance{Schema: Schema}, Branch: BranchAdv, Mode: "eval", Measurement: Measurement{Examples: 2, SA: 0.5,
		Attacks:    []AttackResult{{AttackParams: AttackParams{Name: "pgd-10", Eps: 8.0 / 255, Eps255: "8/255", Steps: 10}, RA: 0.5, Robust: 1}},
		PerExample: &PerExample{CleanCorrect: []bool{true, false}, Robust: map[string][]bool{"pgd-10": {true, false}}, WorstCase: []bool{true, false}}}}
}

func TestWriteReadAndRefusals(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "adv.json")
	require.NoError(t, Write(p, sample()))
	back, err := Read(p)
	require.NoError(t, err)
	assert.Equal(t, sample(), back)
	assert.Equal(t, 0.5, back.Attack("pgd-10").RA)
	assert.Nil(t, back.Attack("fgsm"))

	cases := map[string]func(f *File){
		`schema "advbench.result/v0"`:        func(f *File) { f.Schema = "advbench.result/v0" },
		`branch "both"`:                      func(f *File) { f.Branch = "both" },
		"3 examples but per-example flags":   func(f *File) { f.Examples = 3 },
		"attack pgd-10: 1 per-example flags": func(f *File) { f.PerExample.Robust["pgd-10"] = []bool{true} },
	}
	for msg, edit := range cases {
		f := sample()
		edit(f)
		require.NoError(t, Write(p, f))
		_, err := Read(p)
		assert.ErrorContains(t, err, msg)
	}
	require.NoError(t, os.WriteFile(p, []byte(`{"schema": "advbench.result/v1", "surprise": 1}`), 0o644))
	_, err = Read(p)
	assert.ErrorContains(t, err, `not a result file: json: unknown field "surprise"`)
}
