package norms

import (
	"math"

	"github.com/advbench/advbench/nn"
	"gorgonia.org/gorgonia"
)

// groupNorm is the machinery shared by gn, ln and in: per-sample statistics
// over groups of consecutive channels (and H, W), then one per-channel
// affine (weight, bias). It has no running statistics, so training and
// evaluation compute the same function, and one branch. Each layer's file
// says how many groups: ln one, in one per channel, gn GroupNorm's G.
type groupNorm struct {
	cfg          Config
	kind         string // the registry name, for op labels
	groups       int
	weight, bias *nn.Var
}

var _ Norm = (*groupNorm)(nil)

// newGroupNorm builds the layer with PyTorch's initialisation (weight 1,
// bias 0) and names (weight, bias; no buffers).
func newGroupNorm(cfg Config, kind string, groups int) *groupNorm {
	l := &groupNorm{
		cfg:    cfg,
		kind:   kind,
		groups: groups,
		weight: nn.NewVar(cfg.name("weight"), cfg.Dtype, cfg.Channels),
		bias:   nn.NewVar(cfg.name("bias"), cfg.Dtype, cfg.Channels),
	}
	fill(l.weight, 1)
	return l
}

// Branches is 1: both branches share the layer.
func (l *groupNorm) Branches() int { return 1 }

// State lists weight and bias; there are no buffers.
func (l *groupNorm) State() (params, buffers []*nn.Var) {
	return []*nn.Var{l.weight, l.bias}, nil
}

// Apply normalises x with its own statistics; branch and mode change nothing.
func (l *groupNorm) Apply(g *nn.Graph, x *gorgonia.Node, b nn.Branch, m nn.Mode) (*gorgonia.Node, error) {
	return build(l, g, x, b, m, false)
}

func (l *groupNorm) spec(b nn.Branch, _ nn.Mode) (spec, error) {
	if err := checkBranch(l.cfg.Prefix, b, 1); err != nil {
		return spec{}, err
	}
	return spec{
		label:  l.cfg.Prefix + "/" + l.kind,
		params: []*nn.Var{l.weight, l.bias},
		core:   &groupCore{groups: l.groups, eps: l.cfg.Eps},
		chain:  []affineRef{{gIn: 0, bIn: 1}},
	}, nil
}

// groupCore is the statistics core of groupNorm: x̂ = (x − μ_ng)/sqrt(σ²_ng
// + ε) with the mean and biased variance of group g of sample n.
type groupCore struct {
	groups int
	eps    float64
}

type groupSaved struct{ m, inv []float64 } // (N, G) mean and 1/sqrt(var+eps)

func (gc *groupCore) forward(s *shape, mu, v []float64, _ [][]float64) (a0, b0 []float64, saved any, err error) {
	G := gc.groups
	m, V := make([]float64, s.n*G), make([]float64, s.n*G)
	groupStats(s, G, mu, v, m, V)
	inv := make([]float64, len(V))
	for i := range V {
		inv[i] = 1 / math.Sqrt(V[i]+gc.eps)
	}
	a0, b0 = make([]float64, s.n*s.c), make([]float64, s.n*s.c)
	cg := s.c / G
	for n := 0; n < s.n; n++ {
		for c := 0; c < s.c; c++ {
			j := n*G + c/cg
			a0[n*s.c+c] = inv[j]
			b0[n*s.c+c] = -m[j] * inv[j]
		}
	}
	return a0, b0, groupSaved{m, inv}, nil
}

func (gc *groupCore) backward(s *shape, mu, _ []float64, _ [][]float64, saved any, da0, db0 []float64, _ [][]float64) (dmu, dv []float64) {
	G := gc.groups
	sv := saved.(groupSaved)
	dm, dV := make([]float64, s.n*G), make([]float64, s.n*G)
	cg := s.c / G
	for n := 0; n < s.n; n++ {
		for c := 0; c < s.c; c++ {
			i, j := n*s.c+c, n*G+c/cg
			// a0 = inv, b0 = -m*inv.
			dinv := da0[i] - sv.m[j]*db0[i]
			dV[j] += dinv * -0.5 * sv.inv[j] * sv.inv[j] * sv.inv[j]
			dm[j] += -sv.inv[j] * db0[i]
		}
	}
	dmu, dv = make([]float64, s.n*s.c), make([]float64, s.n*s.c)
	groupBackward(s, G, mu, sv.m, dm, dV, dmu, dv)
	return dmu, dv
}

// groupStats computes, for every sample n and group g of C/G consecutive
// channels, the mean m and biased variance V over the group's channels and
// H, W (both (N, G), row-major) from the per-plane means mu and centred
// variances v: m is the mean of the group's plane means, V the mean of
// v + (mu − m)². groups = 1 gives the layer statistics, groups = C the
// plane moments themselves.
func groupStats(s *shape, groups int, mu, v, m, V []float64) {
	cg := s.c / groups
	for n := 0; n < s.n; n++ {
		for g := 0; g < groups; g++ {
			lo := n*s.c + g*cg
			sum := 0.0
			for i := lo; i < lo+cg; i++ {
				sum += mu[i]
			}
			mg := sum / float64(cg)
			sq := 0.0
			for i := lo; i < lo+cg; i++ {
				d := mu[i] - mg
				sq += v[i] + d*d
			}
			m[n*groups+g], V[n*groups+g] = mg, sq/float64(cg)
		}
	}
}

// groupBackward adds to (dmu, dv) the gradient that flows through
// groupStats given dL/dm and dL/dV per (sample, group).
func groupBackward(s *shape, groups int, mu, m, dm, dV, dmu, dv []float64) {
	cg := s.c / groups
	fc := float64(cg)
	for n := 0; n < s.n; n++ {
		for c := 0; c < s.c; c++ {
			i, j := n*s.c+c, n*groups+c/cg
			dmu[i] += dm[j]/fc + dV[j]*2*(mu[i]-m[j])/fc
			dv[i] += dV[j] / fc
		}
	}
}
