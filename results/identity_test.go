package results

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pgd10 is PGD-10 at eps 8/255, step 2/255, as the paper evaluates.
var pgd10 = AttackParams{Name: "pgd-10", Eps: 8.0 / 255, Eps255: "8/255", Step: 2.0 / 255, Steps: 10, Restarts: 1, RandomStart: true, Loss: "ce"}

func baseIdentity() Identity {
	pgd20 := pgd10
	pgd20.Name, pgd20.Steps = "pgd-20", 20
	return Identity{Checkpoint: "aaaaaaaaaaaaaaaa11", CheckpointPath: "runs/x/last.safetensors", Branch: BranchAdv, Examples: 256,
		Data: "bbbbbbbbbbbbbbbb22", DataSource: "builtin", Mode: "eval", Seed: 0, Batch: 128, Attacks: []AttackParams{pgd10, pgd20}}
}

// TestIdentityDiffer: every field that changes the numbers is compared,
// the first difference is named with the file's value and the wanted one,
// and what names a file (its path, the data's source) is not compared.
func TestIdentityDiffer(t *testing.T) {
	cases := []struct {
		name       string
		edit       func(*Identity)
		field      string
		have, want any
	}{
		{"same", func(*Identity) {}, "", nil, nil},
		{"the same weights under another path", func(id *Identity) { id.CheckpointPath = "elsewhere.safetensors" }, "", nil, nil},
		{"the same records described otherwise", func(id *Identity) { id.DataSource = "a copy" }, "", nil, nil},
		{"checkpoint", func(id *Identity) { id.Checkpoint, id.CheckpointPath = "cccccccccccccccc33", "runs/y/last.safetensors" },
			"checkpoint", "runs/x/last.safetensors (sha256 aaaaaaaaaaaa)", "runs/y/last.safetensors (sha256 cccccccccccc)"},
		{"branch", func(id *Identity) { id.Branch = BranchClean }, "branch", "adv", "clean"},
		{"test-set size", func(id *Identity) { id.Examples, id.Data = 128, "dddddddddddddddd44" }, "test images", 256, 128},
		{"test data", func(id *Identity) { id.Data, id.DataSource = "dddddddddddddddd44", "cifar10" }, "test data", "builtin (sha256 bbbbbbbbbbbb)", "cifar10 (sha256 dddddddddddd)"},
		{"mode", func(id *Identity) { id.Mode = "train" }, "mode", "eval", "train"},
		{"seed", func(id *Identity) { id.Seed = 7 }, "seed", uint64(0), uint64(7)},
		{"batch", func(id *Identity) { id.Batch = 64 }, "batch size", 128, 64},
		{"attack list", func(id *Identity) { id.Attacks = id.Attacks[:1] }, "attacks", "pgd-10 at 8/255, pgd-20 at 8/255", "pgd-10 at 8/255"},
		{"attack name", func(id *Identity) { id.Attacks[1].Name = "pgd-7" }, "attack", "pgd-20", "pgd-7"},
		{"eps", func(id *Identity) { id.Attacks[0].Eps, id.Attacks[0].Eps255 = 4.0/255, "4/255" }, "pgd-10 eps", "8/255", "4/255"},
		{"step", func(id *Identity) { id.Attacks[0].Step = 0.5 / 255 }, "pgd-10 step", "2/255", "0.50/255"},
		{"steps", func(id *Identity) { id.Attacks[0].Steps = 11 }, "pgd-10 steps", 10, 11},
		{"restarts", func(id *Identity) { id.Attacks[0].Restarts = 5 }, "pgd-10 restarts", 1, 5},
		{"random start", func(id *Identity) { id.Attacks[0].RandomStart = false }, "pgd-10 random start", true, false},
		{"clamped start", func(id *Identity) { id.Attacks[0].ClampStart = true }, "pgd-10 clamped start", false, true},
		{"loss", func(id *Identity) { id.Attacks[0].Loss = "cw" }, "pgd-10 loss", "ce", "cw"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := baseIdentity()
			want.Attacks = append([]AttackParams(nil), want.Attacks...)
			c.edit(&want)
			field, have, wanted := baseIdentity().Differ(want)
			assert.Equal(t, c.field, field)
			assert.Equal(t, c.have, have)
			assert.Equal(t, c.want, wanted)
		})
	}
	old := baseIdentity()
	old.Batch = 0
	field, have, wanted := old.Differ(baseIdentity())
	assert.Equal(t, "batch size", field, "a file without a batch size is not the same evaluation")
	assert.Equal(t, "(not recorded)", have)
	assert.Equal(t, 128, wanted)
}

// TestSweepGridDiffers: a sweep's grid is its attacks, one PGD per eps,
// spelled as one list.
func TestSweepGridDiffers(t *testing.T) {
	at := func(n int) AttackParams {
		a := pgd10
		a.Eps, a.Eps255, a.Step = float64(n)/255, map[int]string{0: "0/255", 4: "4/255", 8: "8/255"}[n], float64(n)/4/255
		return a
	}
	file := Identity{Attacks: []AttackParams{at(0), at(4), at(8)}}
	field, have, want := file.Differ(Identity{Attacks: []AttackParams{at(0), at(8)}})
	assert.Equal(t, "attacks", field)
	assert.Equal(t, "pgd-10 at 0/255, 4/255, 8/255", have)
	assert.Equal(t, "pgd-10 at 0/255, 8/255", want)
	field, have, want = file.Differ(Identity{Attacks: []AttackParams{at(0), at(8), at(8)}})
	assert.Equal(t, "pgd-10 eps", field)
	assert.Equal(t, "4/255", have)
	assert.Equal(t, "8/255", want)
}

// TestFileIdentitiesRoundTrip: the identity of each kind of file, written
// and read back, names what was measured: a result's attacks, a sweep's
// PGD per point, gradient statistics' one attack and mode.
func TestFileIdentitiesRoundTrip(t *testing.T) {
	dir := t.TempDir()
	prov := Provenance{Checkpoint: Checkpoint{Path: "c.safetensors", SHA256: "c0ffee"}, Data: Data{Source: "builtin", SHA256: "da7a"}}
	f := sample()
	f.Provenance.Checkpoint, f.Provenance.Data, f.Seed, f.Batch = prov.Checkpoint, prov.Data, 3, 16
	require.NoError(t, Write(filepath.Join(dir, "adv.json"), f))
	back, err := Read(filepath.Join(dir, "adv.json"))
	require.NoError(t, err)
	assert.Equal(t, Identity{Checkpoint: "c0ffee", CheckpointPath: "c.safetensors", Branch: "adv", Examples: 2, Data: "da7a", DataSource: "builtin",
		Mode: "eval", Seed: 3, Batch: 16, Attacks: []AttackParams{{Name: "pgd-10", Eps: 8.0 / 255, Eps255: "8/255", Steps: 10}}}, back.Identity())

	sw := &Sweep{Provenance: prov, Branch: "shared", Mode: "eval", Seed: 1, Batch: 12, Examples: 24,
		Points: []SweepPoint{{AttackParams: AttackParams{Name: "pgd-3", Eps255: "0/255", Steps: 3}, Accuracy: 0.5}, {AttackParams: pgd10, Accuracy: 0.25}}}
	sw.Schema = SweepSchema
	require.NoError(t, WriteJSON(filepath.Join(dir, "sweep-shared.json"), sw))
	sback, err := ReadSweep(filepath.Join(dir, "sweep-shared.json"))
	require.NoError(t, err)
	assert.Equal(t, Identity{Checkpoint: "c0ffee", CheckpointPath: "c.safetensors", Branch: "shared", Examples: 24, Data: "da7a", DataSource: "builtin",
		Mode: "eval", Seed: 1, Batch: 12, Attacks: []AttackParams{{Name: "pgd-3", Eps255: "0/255", Steps: 3}, pgd10}}, sback.Identity())

	g := &GradStats{Provenance: prov, AttackMode: "train", Attack: pgd10, Seed: 2, Examples: 8, Batch: 4, Batches: 2, Stages: []StageStats{{Stage: 1}}}
	g.Schema = GradSchema
	require.NoError(t, WriteJSON(filepath.Join(dir, "gradstats.json"), g))
	gback, err := ReadGradStats(filepath.Join(dir, "gradstats.json"))
	require.NoError(t, err)
	assert.Equal(t, Identity{Checkpoint: "c0ffee", CheckpointPath: "c.safetensors", Examples: 8, Data: "da7a", DataSource: "builtin",
		Mode: "train", Seed: 2, Batch: 4, Attacks: []AttackParams{pgd10}}, gback.Identity())

	// A sweep file of the earlier layout (eps and eps_255 per point only)
	// still reads, and is not the same as any sweep asked for now.
	old := `{"schema":"advbench.sweep/v1","advbench_version":"0.1.0-dev","model":{"norm":"bn","width":0.0625,"branches":1,"train_seed":3},
"checkpoint":{"path":"c.safetensors","sha256":"c0ffee","epoch":4},"data":{"source":"builtin","sha256":"da7a","split":"test"},
"branch":"shared","mode":"eval","seed":1,"attack":"pgd-10","step_ratio":0.25,"examples":24,"chance_accuracy":0.1,
"points":[{"eps":0,"eps_255":"0/255","robust_accuracy":0.5},{"eps":0.03137254901960784,"eps_255":"8/255","robust_accuracy":0.25}],"warnings":null}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sweep-old.json"), []byte(old), 0o644))
	oback, err := ReadSweep(filepath.Join(dir, "sweep-old.json"))
	require.NoError(t, err)
	assert.Equal(t, "8/255", oback.Points[1].Eps255)
	field, _, _ := oback.Identity().Differ(sback.Identity())
	assert.Equal(t, "batch size", field)
}

func TestSameNamesTheFile(t *testing.T) {
	want := baseIdentity()
	want.Seed = 9
	err := Same("r/adv.json", baseIdentity(), want)
	var other *OtherEvaluationError
	require.ErrorAs(t, err, &other)
	assert.Equal(t, "seed", other.Field)
	assert.EqualError(t, err, "results: r/adv.json holds another evaluation: seed 0 in the file, 9 asked for")
	assert.NoError(t, Same("r/adv.json", baseIdentity(), baseIdentity()))
}
