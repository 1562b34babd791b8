package regress

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/advbench/advbench/internal/stats"
	"github.com/advbench/advbench/results"
)

// ExactSchema names this version of the exact layer's manifest.
const ExactSchema = "advbench.exact/v1"

// ExactManifest describes the gate's exact, noise-free layer: small
// committed checkpoints (Fixtures), each evaluated with the same fixed
// settings, whose per-example results must match the committed expected
// result files (ExpectedDir, one per fixture and branch) to the example.
// Training noise cannot hide a change here: the weights are fixed, the
// attacks' random starts are seeded, and the evaluation runs on the
// portable kernels, whose results are the same on every amd64 machine.
type ExactManifest struct {
	Schema string `json:"schema"`
	// Data is the test data ("builtin" or a CIFAR-10 path; committed
	// manifests use builtin so that CI needs no dataset), TestN the
	// number of test images, Seed the attacks' seed, Batch the batch size.
	Data  string `json:"data"`
	TestN int    `json:"test_n"`
	Seed  uint64 `json:"seed"`
	Batch int    `json:"batch"`
	// Attacks are registry names, Eps and Step the L-inf radius and step
	// as fractions (8/255 = 0.03137254901960784).
	Attacks []string `json:"attacks"`
	Eps     float64  `json:"eps"`
	Step    float64  `json:"step"`
	// Fixtures are the checkpoints, relative to the manifest's directory.
	Fixtures []ExactFixture `json:"fixtures"`
	// MadeBy says how the fixtures and the expected files were made.
	MadeBy string `json:"made_by"`
}

// ExactFixture is one committed checkpoint.
type ExactFixture struct {
	// Name names the fixture and its folder of expected results.
	Name string `json:"name"`
	// Checkpoint is an advbench checkpoint file, relative to the manifest.
	Checkpoint string `json:"checkpoint"`
}

// ExactManifestFile and ExpectedDir are the names inside an exact layer's
// directory: the manifest, and the folder of expected result files
// (ExpectedDir/NAME/BRANCH.json).
const (
	ExactManifestFile = "exact.json"
	ExpectedDir       = "expected"
)

// ReadExact reads and checks dir's manifest.
func ReadExact(dir string) (*ExactManifest, error) {
	path := filepath.Join(dir, ExactManifestFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("regress: %w", err)
	}
	var m ExactManifest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("regress: %s: not an exact-layer manifest: %v", path, err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("regress: %s: "+format, append([]any{path}, args...)...)
	}
	switch {
	case m.Schema != ExactSchema:
		return nil, bad("schema %q, want %q", m.Schema, ExactSchema)
	case m.Data == "":
		return nil, bad("data is empty")
	case m.TestN < 1:
		return nil, bad("test_n %d must be at least 1", m.TestN)
	case m.Batch < 1:
		return nil, bad("batch %d must be at least 1", m.Batch)
	case len(m.Attacks) == 0:
		return nil, bad("no attacks")
	case !(m.Eps > 0 && m.Eps <= 1) || !(m.Step > 0 && m.Step <= 1):
		return nil, bad("eps %v and step %v must be in (0, 1]", m.Eps, m.Step)
	case len(m.Fixtures) == 0:
		return nil, bad("no fixtures")
	}
	seen := map[string]bool{}
	for _, f := range m.Fixtures {
		if f.Name == "" || strings.ContainsAny(f.Name, `/\`) || f.Name == "." || f.Name == ".." || seen[f.Name] {
			return nil, bad("fixture name %q must be a unique plain name", f.Name)
		}
		if f.Checkpoint == "" || filepath.IsAbs(f.Checkpoint) {
			return nil, bad("fixture %s: checkpoint %q must be a path relative to the manifest", f.Name, f.Checkpoint)
		}
		seen[f.Name] = true
	}
	return &m, nil
}

// ExpectedPath is where a fixture's expected result for a branch lives.
func ExpectedPath(dir, fixture, branch string) string {
	return filepath.Join(dir, ExpectedDir, fixture, branch+".json")
}

// ExactRow is one compared quantity of one fixture and branch: the clean
// predictions (Metric "sa"), an attack's robust flags (its name) or the
// worst case over attacks ("worst-case").
type ExactRow struct {
	Fixture string `json:"fixture"`
	Branch  string `json:"branch"`
	Metric  string `json:"metric"`
	// Expected and Now are the accuracies (fractions) the flags give.
	Expected float64 `json:"expected"`
	Now      float64 `json:"now"`
	// Differing counts the examples whose flag differs, First lists the
	// first of them (indices into the test set).
	Differing int   `json:"differing_examples"`
	First     []int `json:"first_differing,omitempty"`
}

// WorstCase is the ExactRow metric of the per-example worst case.
const WorstCase = "worst-case"

// ExactReport is the exact layer's verdict.
type ExactReport struct {
	Rows []ExactRow `json:"rows"`
	// Differing counts the rows with at least one differing example.
	Differing int `json:"differing_rows"`
}

// Failed reports whether any example differs.
func (r *ExactReport) Failed() bool { return r.Differing > 0 }

// exactFirst is how many differing indices a row lists.
const exactFirst = 8

// CompareExact compares a fixture's evaluation now with its expected
// result, example by example, and adds the rows to r. Results of another
// test set, checkpoint or attack list cannot be compared (an error naming
// the field).
func (r *ExactReport) CompareExact(fixture string, want, got *results.File) error {
	incompatible := func(field string, x, y any) error {
		return &IncompatibleError{File: fixture + " (" + got.Branch + ")", Field: field, Baseline: x, Now: y}
	}
	switch {
	case want.Branch != got.Branch:
		return incompatible("branch", want.Branch, got.Branch)
	case want.Checkpoint.SHA256 != got.Checkpoint.SHA256:
		return incompatible("checkpoint sha256", want.Checkpoint.SHA256, got.Checkpoint.SHA256)
	}
	if field, x, y := want.Conditions().Differ(got.Conditions()); field != "" {
		return incompatible(field, x, y)
	}
	if want.PerExample == nil || got.PerExample == nil {
		return incompatible("per-example flags", want.PerExample != nil, got.PerExample != nil)
	}
	add := func(metric string, w, g []bool) error {
		if len(w) != want.Examples || len(g) != got.Examples {
			return incompatible(metric+" flags", len(w), len(g))
		}
		row := ExactRow{Fixture: fixture, Branch: got.Branch, Metric: metric, Expected: stats.Fraction(w), Now: stats.Fraction(g)}
		for i := range w {
			if w[i] != g[i] {
				row.Differing++
				if len(row.First) < exactFirst {
					row.First = append(row.First, i)
				}
			}
		}
		if row.Differing > 0 {
			r.Differing++
		}
		r.Rows = append(r.Rows, row)
		return nil
	}
	if err := add(SA, want.PerExample.CleanCorrect, got.PerExample.CleanCorrect); err != nil {
		return err
	}
	for _, a := range want.Attacks {
		if err := add(a.Name, want.PerExample.Robust[a.Name], got.PerExample.Robust[a.Name]); err != nil {
			return err
		}
	}
	return add(WorstCase, want.PerExample.WorstCase, got.PerExample.WorstCase)
}

// Summary is the exact layer's one-line verdict.
func (r *ExactReport) Summary() string {
	if r.Failed() {
		return fmt.Sprintf("FAIL: exact layer: %d of %d per-example comparisons differ", r.Differing, len(r.Rows))
	}
	return fmt.Sprintf("PASS: exact layer: %d per-example comparisons identical", len(r.Rows))
}

// Failures names each differing row.
func (r *ExactReport) Failures() []string {
	var out []string
	for _, row := range r.Rows {
		if row.Differing > 0 {
			out = append(out, fmt.Sprintf("%s (%s) %s: %d examples differ (first: %v); %s%% expected, %s%% now", row.Fixture, row.Branch, row.Metric, row.Differing, row.First, pp(row.Expected), pp(row.Now)))
		}
	}
	return out
}

// RenderExact writes the exact layer's table in a format of Formats.
func RenderExact(w io.Writer, r *ExactReport, format string) error {
	header := []string{"fixture", "branch", "metric", "expected %", "now %", "per example"}
	return render(w, r, format, header, func(bool) [][]string {
		var rows [][]string
		for _, row := range r.Rows {
			v := "identical"
			if row.Differing > 0 {
				v = fmt.Sprintf("DIFFERS (%d)", row.Differing)
			}
			rows = append(rows, []string{row.Fixture, row.Branch, row.Metric, pp(row.Expected), pp(row.Now), v})
		}
		return rows
	}, r.Summary())
}
