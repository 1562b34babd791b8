package norms

import "github.com/advbench/advbench/nn"

func init() {
	register("bn", "BatchNorm: one set of statistics and one affine for both branches", newBN)
}

// newBN builds a BatchNorm2d: h = γ·x̂ + β with γ = 1, β = 0 at init.
// Names as PyTorch: weight, bias, running_mean, running_var.
//
// Paper: Ioffe and Szegedy, "Batch Normalization: Accelerating Deep
// Network Training by Reducing Internal Covariate Shift", ICML 2015,
// arXiv:1502.03167. It implements the paper's Algorithm 1 (the Batch
// Normalizing Transform x̂ = (x − μ_B)/sqrt(σ²_B + ε), y = γ·x̂ + β, with
// statistics per channel over N, H and W) in training, and its inference
// form (running estimates of the mean and the unbiased variance in place of
// μ_B, σ²_B) in evaluation, with PyTorch's exponential running averages
// (momentum 0.1) instead of the paper's average over mini-batches.
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
