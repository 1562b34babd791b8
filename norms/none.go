package norms

import (
	"github.com/advbench/advbench/nn"
	"gorgonia.org/gorgonia"
)

func init() {
	register("none", "no normalization: the identity, with no statistics and no parameters", newNone)
}

// None is the identity in a norm slot: no statistics, no affine, no
// parameters or buffers, so a network built with it is the same network
// without normalization (its ReLU still follows). Apply returns its input
// node itself, whatever the branch and mode.
//
// Paper: it is the "Standard" network, without BatchNorm, against which
// Santurkar et al., "How Does Batch Normalization Help Optimization?",
// NeurIPS 2018, arXiv:1805.11604, measure what a normalization layer does
// to the loss landscape (their Fig. 1 and 4: the same VGG with and without
// BN); here it is the row "without normalization" of such a study.
type None struct{ cfg Config }

var _ Norm = (*None)(nil)

func newNone(cfg Config) Norm { return &None{cfg: cfg} }

// Branches is 1: there is nothing to tell branches apart.
func (*None) Branches() int { return 1 }

// State is empty: no parameters and no buffers.
func (*None) State() (params, buffers []*nn.Var) { return nil, nil }

// Apply returns x unchanged after checking its rank and the branch.
func (n *None) Apply(_ *nn.Graph, x *gorgonia.Node, b nn.Branch, _ nn.Mode) (*gorgonia.Node, error) {
	if err := checkBranch(n.cfg.Prefix, b, 1); err != nil {
		return nil, err
	}
	if x.Dims() != 4 {
		return nil, errNotNCHW(n.cfg.Prefix+"/none", x)
	}
	return x, nil
}
