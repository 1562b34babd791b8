package norms

import "github.com/advbench/advbench/nn"

func init() {
	register("ccbn", "CCBN (paper Eq. 2): shared statistics, per-branch affine only", newCCBN)
}

// newCCBN builds h = γ_i·x̂ + β_i with one set of statistics for all
// branches. Names: bn.running_mean/var and embed.weight (branches, 2C), row i
// = [γ_i | β_i], γ ~ N(1, 0.02), β = 0.
//
// Paper: Gong et al., "Sandwich Batch Normalization: A Drop-In Replacement
// for Feature Distribution Heterogeneity", arXiv:2102.11382, Eq. 2
// (categorical conditional BN: one normalisation, an affine chosen by the
// branch index i). Conditional BN itself is from de Vries et al.,
// "Modulating early visual processing by language", NeurIPS 2017,
// arXiv:1707.00683, where the affine is predicted from a language
// embedding; here it is looked up by the branch.
func newCCBN(cfg Config) Norm {
	e := embedding(cfg, cfg.Branches)
	return &bnFamily{
		cfg:      cfg,
		branches: cfg.Branches,
		stats:    []*runningStats{newRunningStats(cfg, cfg.name("bn."))},
		params:   []*nn.Var{e},
		chain: func(b nn.Branch) ([]*nn.Var, []affineRef) {
			return []*nn.Var{e}, []affineRef{embedRow(0, int(b), cfg.Channels)}
		},
	}
}
