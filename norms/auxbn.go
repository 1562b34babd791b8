package norms

import (
	"fmt"

	"github.com/advbench/advbench/nn"
)

func init() {
	register("auxbn", "AuxBN (AdvProp): an independent BatchNorm per branch, own statistics and affine", newAuxBN)
}

// newAuxBN builds one BatchNorm per branch (branch 0 clean, 1 adversarial),
// named as the reference: bn_list.{i}.weight, .bias, .running_mean, .running_var.
//
// Paper: Xie et al., "Adversarial Examples Improve Image Recognition"
// (AdvProp), CVPR 2020, arXiv:1911.09665: its auxiliary batch norm, a
// separate BN (statistics and affine) for adversarial examples beside the
// main BN for clean ones, h_i = γ_i·(x − μ_i)/sqrt(σ²_i + ε) + β_i for
// branch i, every other layer shared. The Sandwich Batch Normalization
// paper (arXiv:2102.11382) calls it AuxBN and compares it in its Table 3
// and Table 4.
func newAuxBN(cfg Config) Norm {
	f := &bnFamily{cfg: cfg, branches: cfg.Branches}
	var ws, bs []*nn.Var
	for i := 0; i < cfg.Branches; i++ {
		p := cfg.name(fmt.Sprintf("bn_list.%d.", i))
		w := nn.NewVar(p+"weight", cfg.Dtype, cfg.Channels)
		b := nn.NewVar(p+"bias", cfg.Dtype, cfg.Channels)
		fill(w, 1)
		ws, bs = append(ws, w), append(bs, b)
		f.params = append(f.params, w, b)
		f.stats = append(f.stats, newRunningStats(cfg, p))
	}
	f.chain = func(br nn.Branch) ([]*nn.Var, []affineRef) {
		return []*nn.Var{ws[br], bs[br]}, []affineRef{{gIn: 0, bIn: 1}}
	}
	return f
}
