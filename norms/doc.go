// Package norms provides the branch-aware normalization layers whose effect
// on adversarial robustness advbench measures: bn, sabn, ccbn, auxbn,
// saauxbn, modenorm and switchnorm, and the per-sample gn, ln and in (the
// components SwitchNorm mixes), each in a file of its own and registered by
// name (Names, New).
//
// Every layer is one fused gorgonia op with an analytic backward pass. The
// forward pass computes per-(sample, channel) moments of the input, turns them
// into a per-(sample, channel) scale a and shift b through a small "statistics
// core" (batch or running statistics for the BN family, soft mode gates for
// ModeNorm, an IN/LN/BN mixture for SwitchNorm, per-sample group statistics
// for gn, ln and in) followed by a chain of
// per-channel affine transforms, and writes y = a*x + b. The backward pass is
// one reduction over the incoming gradient, the analytic backward of the
// small per-(sample, channel) computation in float64, and one pass to write
// the input gradient.
//
// Conventions are PyTorch's: eps 1e-5, momentum 0.1 (running = 0.9*running +
// 0.1*batch), the biased batch variance to normalise, the unbiased one into
// running variance, running statistics updated only in training mode and used
// in evaluation mode. Running statistics and parameters belong to the layer
// (nn.Var), not to a graph, so attack, training and evaluation graphs share
// them. The same code runs in float32 (speed) and float64 (gradient checks).
//
// # Usage
//
// A layer is built by name and applied to an (N,C,H,W) node of an nn.Graph
// for a branch and a mode; its State holds the parameters and running
// statistics under the reference PyTorch names:
//
//	n, err := norms.New("saauxbn", norms.Config{Prefix: "layer1.0.bn1", Channels: 64})
//	if err != nil { ... }
//	y, err := n.Apply(g, x, nn.Adv, nn.Train) // batch statistics of branch 1, running ones updated
//	params, buffers := n.State()             // embed.weight, bn_list.{0,1}.running_mean/var
//
// # References
//
// Each layer's file cites its paper and the equation it implements:
//
//   - bn: Ioffe and Szegedy, "Batch Normalization: Accelerating Deep Network
//     Training by Reducing Internal Covariate Shift", arXiv:1502.03167.
//   - auxbn: Xie et al., "Adversarial Examples Improve Image Recognition"
//     (AdvProp), arXiv:1911.09665.
//   - ccbn, sabn, saauxbn: Gong et al., "Sandwich Batch Normalization: A
//     Drop-In Replacement for Feature Distribution Heterogeneity",
//     arXiv:2102.11382 (ccbn Eq. 2, saauxbn Eq. 8).
//   - modenorm: Deecke et al., "Mode Normalization", arXiv:1810.05466.
//   - switchnorm: Luo et al., "Differentiable Learning-to-Normalize via
//     Switchable Normalization", arXiv:1806.10779.
//   - gn: Wu and He, "Group Normalization", arXiv:1803.08494 (G is
//     DefaultGroups(C) unless Config.Groups says otherwise).
//   - ln: Ba et al., "Layer Normalization", arXiv:1607.06450, in the
//     convention of nn.GroupNorm(1, C): statistics over C, H, W, a
//     per-channel affine.
//   - in: Ulyanov et al., "Instance Normalization: The Missing Ingredient
//     for Fast Stylization", arXiv:1607.08022 (InstanceNorm2d with
//     affine=True, track_running_stats=False).
package norms
