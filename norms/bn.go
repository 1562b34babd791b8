package norms

import "github.com/advbench/advbench/nn"

func init() {
	register("bn", "BatchNorm: one set of statistics and one affine for both branches", newBN)
}

// newBN builds a BatchNorm2d: h = γ·x̂ + β with γ = 1, β = 0 at init.
// Names as PyTorch: weight, bias, running_mean, running_var.
func newBN(cfg Config) Norm {
	w := nn.NewVar(cfg.name("weight"), cfg.Dtype, cfg.Channels)
	b := nn.NewVar(cfg.name("bias"), cfg.Dtype, cfg.Channels)
	fill(w, 1)
	return &bnFamily{
		cfg:      cfg,
		branches: 1,
		stats:    []*runningStats{newRunningStats(cfg, cfg.name(""))},
		params:   []*nn.Var{w, b},
		chain: func(nn.Branch) ([]*nn.Var, []affineRef) {
			return []*nn.Var{w, b}, []affineRef{{gIn: 0, bIn: 1}}
		},
	}
}
