package norms

import "github.com/advbench/advbench/nn"

func init() {
	register("ccbn", "CCBN (paper Eq. 2): shared statistics, per-branch affine only", newCCBN)
}

// newCCBN builds h = γ_i·x̂ + β_i with one set of statistics for all
// branches. Names: bn.running_mean/var and embed.weight (branches, 2C), row i
// = [γ_i | β_i], γ ~ N(1, 0.02), β = 0.
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
