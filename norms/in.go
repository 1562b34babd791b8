package norms

func init() {
	register("in", "InstanceNorm (Ulyanov et al.): per-sample, per-channel statistics over H, W, one affine", newIN)
}

// newIN builds an InstanceNorm2d(C, affine=True, track_running_stats=False),
// the IN that Switchable Normalization mixes: statistics per sample and
// channel over H and W (eps 1e-5, biased variance), per-channel weight = 1
// and bias = 0, no running statistics, so training and evaluation compute
// the same function. A 1x1 feature map normalises to the bias (PyTorch
// refuses it in training; advbench's networks never build one).
//
// Paper: Ulyanov, Vedaldi and Lempitsky, "Instance Normalization: The
// Missing Ingredient for Fast Stylization", arXiv:1607.08022. It implements
// the paper's Eq. 2, y_tijk = (x_tijk − μ_ti)/sqrt(σ²_ti + ε) with μ_ti and
// σ²_ti the mean and variance of sample t's channel i over its H·W
// positions, followed by the per-channel affine γ_i·y + β_i.
func newIN(cfg Config) Norm {
	return newGroupNorm(cfg, "in", cfg.Channels)
}
