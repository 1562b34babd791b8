package results

import "fmt"

// GradSchema names this version of the gradient-statistics file.
const GradSchema = "advbench.gradstats/v1"

// GradStats is the gradient analysis of one model (the supplement's Fig. 5
// and the paper's gradient-direction measure, Eq. 4/5, for the two
// branches): for the last convolution of each stage, per batch, the L2 norm
// of the gradient of the clean loss (clean branch, clean inputs) and of the
// adversarial loss (adversarial branch, PGD inputs on that branch), the
// standard deviation of the two norms (lower: more balanced) and the cosine
// similarity of the two gradients.
type GradStats struct {
	Provenance
	// AttackMode is the mode of the attack's statistics ("train": batch
	// statistics, as the training attack); the gradient passes run in
	// training mode, as training computes them, each batch from the
	// checkpoint's running statistics.
	AttackMode string       `json:"attack_mode"`
	Attack     AttackParams `json:"attack"`
	Seed       uint64       `json:"seed"`
	// Examples is the number of test images analysed (0 in files
	// written before it was recorded).
	Examples int          `json:"examples,omitempty"`
	Batch    int          `json:"batch"`
	Batches  int          `json:"batches"`
	Stages   []StageStats `json:"stages"`
}

// StageStats are one stage's statistics over the batches.
type StageStats struct {
	Stage int    `json:"stage"` // 1..4
	Param string `json:"param"` // e.g. layer1.1.conv2.weight
	// NormStd is the standard deviation of the two gradient norms (of two
	// values a and b: |a−b|/2), mean and std over batches.
	NormStd   MeanStd      `json:"norm_std"`
	Cosine    MeanStd      `json:"cosine"`
	CleanNorm MeanStd      `json:"clean_norm"`
	AdvNorm   MeanStd      `json:"adv_norm"`
	PerBatch  []BatchStats `json:"per_batch"`
}

// MeanStd is a mean and a sample standard deviation over batches.
type MeanStd struct {
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
}

// BatchStats are one batch's numbers for one stage.
type BatchStats struct {
	CleanNorm float64 `json:"clean_norm"`
	AdvNorm   float64 `json:"adv_norm"`
	NormStd   float64 `json:"norm_std"`
	Cosine    float64 `json:"cosine"`
}

// ReadGradStats loads a gradient-statistics file, refusing another schema
// and unknown fields.
func ReadGradStats(path string) (*GradStats, error) {
	var g GradStats
	if err := readStrict(path, &g, "gradient-statistics"); err != nil {
		return nil, err
	}
	if g.Schema != GradSchema {
		return nil, fmt.Errorf("results: %s: schema %q, want %q", path, g.Schema, GradSchema)
	}
	if len(g.Stages) == 0 {
		return nil, fmt.Errorf("results: %s: no stages", path)
	}
	return &g, nil
}
