package norms

func init() {
	register("gn", "GroupNorm (Wu and He): per-sample statistics over groups of channels, one affine", newGN)
}

// MaxGroups is GroupNorm's default number of groups, the paper's G = 32.
const MaxGroups = 32

// DefaultGroups is the number of groups gn uses for C channels when
// Config.Groups is 0: the largest divisor of C not above MaxGroups. It is
// 32 whenever 32 divides C (every width-1 CIFAR ResNet stage: 64..512
// channels) and C itself below 32 (then gn is in), which is what the common
// CIFAR ResNet code's nn.GroupNorm(min(32, C), C) builds wherever that is
// valid, and a valid grouping for the channel counts of other widths
// (48 channels: 24 groups of 2) where min(32, C) does not divide C.
func DefaultGroups(c int) int {
	for g := min(MaxGroups, c); g > 1; g-- {
		if c%g == 0 {
			return g
		}
	}
	return 1
}

// newGN builds a GroupNorm with PyTorch's conventions (nn.GroupNorm(G, C):
// eps 1e-5, biased variance, per-channel weight = 1 and bias = 0, no
// running statistics, the same computation in training and evaluation).
// G is cfg.Groups, or DefaultGroups(C) when that is 0.
//
// Paper: Wu and He, "Group Normalization", ECCV 2018, arXiv:1803.08494. It
// implements the paper's Eq. 1 and 2 with the set S_i of Eq. 7: for sample
// n and group g of C/G consecutive channels, μ and σ² are the mean and
// (biased) variance over the group's channels and all H·W positions,
// x̂ = (x − μ)/sqrt(σ² + ε), and Eq. 6's per-channel y = γ·x̂ + β.
func newGN(cfg Config) Norm {
	g := cfg.Groups
	if g == 0 {
		g = DefaultGroups(cfg.Channels)
	}
	return newGroupNorm(cfg, "gn", g)
}
