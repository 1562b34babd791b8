package norms

import "github.com/advbench/advbench/nn"

func init() {
	register("sabn", "SaBN: shared statistics, shared sandwich affine, then per-branch affine", newSaBN)
}

// newSaBN builds h = γ_i·(γ_sa·x̂ + β_sa) + β_i with one set of statistics
// for all branches (supplement pseudo code). Names: bn.running_mean/var and
// embed.weight (branches+1, 2C) laid out as in saauxbn.
//
// Paper: Gong et al., "Sandwich Batch Normalization: A Drop-In Replacement
// for Feature Distribution Heterogeneity", arXiv:2102.11382: the sandwich
// form that factorises Eq. 2's affine into a shared sandwich affine
// (γ_sa, β_sa) followed by the branch's own (γ_i, β_i), as the
// supplement's pseudo code writes it.
func newSaBN(cfg Config) Norm {
	e := embedding(cfg, cfg.Branches+1)
	return &bnFamily{
		cfg:      cfg,
		branches: cfg.Branches,
		stats:    []*runningStats{newRunningStats(cfg, cfg.name("bn."))},
		params:   []*nn.Var{e},
		chain: func(b nn.Branch) ([]*nn.Var, []affineRef) {
			return []*nn.Var{e}, []affineRef{embedRow(0, cfg.Branches, cfg.Channels), embedRow(0, int(b), cfg.Channels)}
		},
	}
}
