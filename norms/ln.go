package norms

func init() {
	register("ln", "LayerNorm (Ba et al.) as nn.GroupNorm(1, C): per-sample statistics over C, H, W, per-channel affine", newLN)
}

// newLN builds a LayerNorm for convolutional features in the convention
// of nn.GroupNorm(1, C) (GroupNorm with a single group): statistics per
// sample over all of C, H and W (eps 1e-5, biased variance), and a
// per-channel affine weight (C) = 1, bias (C) = 0. That is not
// nn.LayerNorm([C, H, W]), whose elementwise affine has C·H·W weights tied
// to one input size; the statistics are the same. No running statistics:
// training and evaluation compute the same function.
//
// Paper: Ba, Kiros and Hinton, "Layer Normalization", arXiv:1607.06450. It
// implements the paper's Eq. 3 (μ and σ over all H hidden units of a layer,
// here the C·H·W values of a sample; ε inside the root as PyTorch adds it)
// in the gain-and-bias form of its Eq. 4, y = g/σ ⊙ (a − μ) + b, with the
// gain and bias per channel, shared over positions, as GroupNorm with G = 1
// (Wu and He, arXiv:1803.08494) has them.
func newLN(cfg Config) Norm {
	return newGroupNorm(cfg, "ln", 1)
}
