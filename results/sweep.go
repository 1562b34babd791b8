package results

// SweepSchema names this version of the accuracy-against-eps file.
const SweepSchema = "advbench.sweep/v1"

// Sweep is robust accuracy against eps for one model and branch: PGD at
// each eps with the step a fixed fraction of eps. A curve that rises, or
// stays above chance at 16/255 and beyond, warns of gradient masking.
type Sweep struct {
	Provenance
	Branch string `json:"branch"`
	Mode   string `json:"mode"`
	Seed   uint64 `json:"seed"`
	// Batch is the batch size (0 in files written before it was
	// recorded): the random starts are drawn per batch.
	Batch     int          `json:"batch,omitempty"`
	Attack    string       `json:"attack"` // e.g. pgd-10
	StepRatio float64      `json:"step_ratio"`
	Examples  int          `json:"examples"`
	Chance    float64      `json:"chance_accuracy"`
	Points    []SweepPoint `json:"points"`
	Warnings  []string     `json:"warnings"`
}

// SweepPoint is the robust accuracy at one eps, with the attack that
// measured it (its Eps and Eps255 are the point's eps; files written before
// the other parameters were recorded hold only those two).
type SweepPoint struct {
	AttackParams
	Accuracy float64 `json:"robust_accuracy"`
}
