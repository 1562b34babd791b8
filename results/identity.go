package results

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/advbench/advbench/internal/textfmt"
)

// Identity is what makes two measurements the same one: everything that
// changes the numbers of an evaluation result (File), an accuracy-against-eps
// sweep (Sweep) or gradient statistics (GradStats). A file whose identity is
// the one asked for may be reused (a finished one) or continued (a saved
// state); one of another identity is never reused, and never replaced
// unless the caller is told to.
//
// It holds no path: the same weights and data under another name are the
// same evaluation. The advbench version is left out too, so a result
// survives a rebuild; replacing it is the caller's explicit choice.
type Identity struct {
	// Checkpoint is the SHA-256 of the weights file (CheckpointPath names
	// it in messages only).
	Checkpoint     string `json:"checkpoint_sha256"`
	CheckpointPath string `json:"checkpoint_path,omitempty"`
	// Branch is the evaluated branch (clean, adv, shared); "" for gradient
	// statistics, which use both.
	Branch string `json:"branch"`
	// Examples is the number of test images and Data the SHA-256 of
	// exactly those records, in order (DataSource names them in messages
	// only).
	Examples   int    `json:"examples"`
	Data       string `json:"data_sha256"`
	DataSource string `json:"data_source,omitempty"`
	// Mode is the mode of the attacks' statistics (eval or train).
	Mode string `json:"mode"`
	// Seed seeds the attacks' random starts.
	Seed uint64 `json:"seed"`
	// Batch is the batch size: the random starts are drawn per batch
	// (attack.Evaluation seeds batch k's generator with k) and gradient
	// statistics are per batch, so the same images in other batches give
	// other numbers.
	Batch int `json:"batch"`
	// Attacks are the attacks in order, with every hyper-parameter: an
	// evaluation's list, a sweep's PGD at each eps of its grid (steps,
	// step, loss, restarts and random start included), the PGD behind
	// gradient statistics.
	Attacks []AttackParams `json:"attacks"`
}

// Differ names the first field in which id (a file's) and want (the one
// asked for) differ, with the file's value and the wanted one; field is ""
// when they are the same measurement. Values a file predates (0 or "")
// are shown as not recorded and never match a recorded one.
func (id Identity) Differ(want Identity) (field string, have, wanted any) {
	switch {
	case id.Checkpoint != want.Checkpoint:
		return "checkpoint", labelled(id.CheckpointPath, id.Checkpoint), labelled(want.CheckpointPath, want.Checkpoint)
	case id.Branch != want.Branch:
		return "branch", orUnrecorded(id.Branch), orUnrecorded(want.Branch)
	case id.Examples != want.Examples:
		return "test images", intOrUnrecorded(id.Examples), intOrUnrecorded(want.Examples)
	case id.Data != want.Data:
		return "test data", labelled(id.DataSource, id.Data), labelled(want.DataSource, want.Data)
	case id.Mode != want.Mode:
		return "mode", orUnrecorded(id.Mode), orUnrecorded(want.Mode)
	case id.Seed != want.Seed:
		return "seed", id.Seed, want.Seed
	case id.Batch != want.Batch:
		return "batch size", intOrUnrecorded(id.Batch), intOrUnrecorded(want.Batch)
	case len(id.Attacks) != len(want.Attacks):
		return "attacks", describeAttacks(id.Attacks), describeAttacks(want.Attacks)
	}
	for i, a := range id.Attacks {
		if f, x, y := a.differ(want.Attacks[i]); f != "" {
			return f, x, y
		}
	}
	return "", nil, nil
}

// differ names the first hyper-parameter in which two attacks differ.
func (a AttackParams) differ(b AttackParams) (field string, x, y any) {
	switch {
	case a.Name != b.Name:
		return "attack", orUnrecorded(a.Name), orUnrecorded(b.Name)
	case a.Eps != b.Eps:
		return a.Name + " eps", orUnrecorded(a.Eps255), orUnrecorded(b.Eps255)
	case a.Step != b.Step:
		return a.Name + " step", per255(a.Step), per255(b.Step)
	case a.Steps != b.Steps:
		return a.Name + " steps", a.Steps, b.Steps
	case a.Restarts != b.Restarts:
		return a.Name + " restarts", a.Restarts, b.Restarts
	case a.RandomStart != b.RandomStart:
		return a.Name + " random start", a.RandomStart, b.RandomStart
	case a.ClampStart != b.ClampStart:
		return a.Name + " clamped start", a.ClampStart, b.ClampStart
	case a.Loss != b.Loss:
		return a.Name + " loss", orUnrecorded(a.Loss), orUnrecorded(b.Loss)
	}
	return "", nil, nil
}

// OtherEvaluationError reports a file that holds another measurement than
// the one asked for: reusing it would report numbers of another
// evaluation, and replacing it would lose them.
type OtherEvaluationError struct {
	Path  string
	Field string // the first field that differs (Identity.Differ)
	Have  any    // the file's value
	Want  any    // the value asked for
}

func (e *OtherEvaluationError) Error() string {
	return fmt.Sprintf("results: %s holds another evaluation: %s %v in the file, %v asked for", e.Path, e.Field, e.Have, e.Want)
}

// Same returns nil when the file at path, of identity have, is the
// measurement want describes, and an *OtherEvaluationError naming the
// first field that differs otherwise.
func Same(path string, have, want Identity) error {
	if f, x, y := have.Differ(want); f != "" {
		return &OtherEvaluationError{Path: path, Field: f, Have: x, Want: y}
	}
	return nil
}

// Identity returns the identity of an evaluation result.
func (f *File) Identity() Identity {
	id := Identity{Checkpoint: f.Checkpoint.SHA256, CheckpointPath: f.Checkpoint.Path, Branch: f.Branch,
		Examples: f.Examples, Data: f.Data.SHA256, DataSource: f.Data.Source, Mode: f.Mode, Seed: f.Seed, Batch: f.Batch}
	for _, a := range f.Attacks {
		id.Attacks = append(id.Attacks, a.AttackParams)
	}
	return id
}

// Identity returns the identity of a sweep: its grid is the eps of its
// points, each with the PGD that measured it.
func (s *Sweep) Identity() Identity {
	id := Identity{Checkpoint: s.Checkpoint.SHA256, CheckpointPath: s.Checkpoint.Path, Branch: s.Branch,
		Examples: s.Examples, Data: s.Data.SHA256, DataSource: s.Data.Source, Mode: s.Mode, Seed: s.Seed, Batch: s.Batch}
	for _, p := range s.Points {
		id.Attacks = append(id.Attacks, p.AttackParams)
	}
	return id
}

// Identity returns the identity of gradient statistics (no branch: they
// compare the two; the mode is the attack's).
func (g *GradStats) Identity() Identity {
	return Identity{Checkpoint: g.Checkpoint.SHA256, CheckpointPath: g.Checkpoint.Path,
		Examples: g.Examples, Data: g.Data.SHA256, DataSource: g.Data.Source, Mode: g.AttackMode, Seed: g.Seed, Batch: g.Batch,
		Attacks: []AttackParams{g.Attack}}
}

// labelled spells a hash with the name it was found under.
func labelled(name, hash string) string {
	switch {
	case hash == "":
		return "(not recorded)"
	case name == "":
		return "sha256 " + textfmt.ShortHash(hash)
	}
	return name + " (sha256 " + textfmt.ShortHash(hash) + ")"
}

// per255 spells a step as n/255, n to two decimals when not whole (as
// attack.Eps255 spells radii).
func per255(v float64) string {
	n := v * 255
	if math.Abs(n-math.Round(n)) < 1e-9 {
		return strconv.FormatFloat(math.Round(n), 'f', 0, 64) + "/255"
	}
	return strconv.FormatFloat(n, 'f', 2, 64) + "/255"
}

// describeAttacks spells a list of attacks with their radii, one name for
// a run of the same attack: "pgd-10 at 8/255, pgd-20 at 8/255", or a
// sweep's "pgd-10 at 0/255, 2/255, 4/255".
func describeAttacks(as []AttackParams) string {
	if len(as) == 0 {
		return "(none)"
	}
	var b strings.Builder
	for i, a := range as {
		switch {
		case i == 0:
			b.WriteString(a.Name + " at " + a.Eps255)
		case a.Name == as[i-1].Name:
			b.WriteString(", " + a.Eps255)
		default:
			b.WriteString(", " + a.Name + " at " + a.Eps255)
		}
	}
	return b.String()
}
