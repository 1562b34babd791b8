package norms

import (
	"fmt"

	"github.com/advbench/advbench/nn"
)

func init() {
	register("saauxbn", "SaAuxBN (paper Eq. 8): per-branch statistics, shared sandwich affine, then per-branch affine", newSaAuxBN)
}

// newSaAuxBN builds h = γ_i·(γ_sa·x̂_i + β_sa) + β_i where x̂_i is normalised
// with branch i's own statistics. As the reference: per-branch statistics
// bn_list.{i}.running_mean/var and one embedding embed.weight of shape
// (branches+1, 2C) whose row i is [γ_i | β_i] and whose last row is the
// shared [γ_sa | β_sa]; every γ ~ N(1, 0.02), every β = 0.
//
// Paper: Gong et al., "Sandwich Batch Normalization: A Drop-In Replacement
// for Feature Distribution Heterogeneity", arXiv:2102.11382, Eq. 8
// (SaAuxBN: AdvProp's per-branch statistics, arXiv:1911.09665, with the
// sandwich affine), the layer of its adversarial-robustness experiment.
func newSaAuxBN(cfg Config) Norm {
	e := embedding(cfg, cfg.Branches+1)
	f := &bnFamily{cfg: cfg, branches: cfg.Branches, params: []*nn.Var{e}}
	for i := 0; i < cfg.Branches; i++ {
		f.stats = append(f.stats, newRunningStats(cfg, cfg.name(fmt.Sprintf("bn_list.%d.", i))))
	}
	f.chain = func(b nn.Branch) ([]*nn.Var, []affineRef) {
		return []*nn.Var{e}, []affineRef{embedRow(0, cfg.Branches, cfg.Channels), embedRow(0, int(b), cfg.Channels)}
	}
	return f
}
