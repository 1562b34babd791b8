package norms

import (
	"math"

	"github.com/advbench/advbench/nn"
	"gorgonia.org/gorgonia"
)

func init() {
	register("switchnorm", "Switchable Normalization (Luo et al.): learned softmax mix of IN, LN and BN statistics", newSwitchNorm)
}

// SwitchNorm normalises with a mean and a variance that are each a softmax-
// weighted mix of instance (per sample and channel), layer (per sample) and
// batch (per channel) statistics (the IN and LN ones are those of the in and
// ln layers, groupStats), with separate learned weights for mean and
// variance, then applies one affine. LN and BN statistics are derived from
// the IN ones. In training the BN part uses batch statistics and updates
// running_mean / running_var (PyTorch's momentum 0.1 and unbiased variance);
// in evaluation it uses them, while IN and LN statistics stay per sample.
//
// Every variance here is biased (the SN reference takes an unbiased IN
// variance; advbench keeps the BN convention throughout). Names as the SN
// reference: weight (C) = 1, bias (C) = 0, mean_weight (3) = 1, var_weight
// (3) = 1 in the order IN, LN, BN; buffers running_mean, running_var.
//
// Paper: Luo et al., "Differentiable Learning-to-Normalize via Switchable
// Normalization", ICLR 2019, arXiv:1806.10779. It implements the paper's SN
// transform ĥ = γ·(h − Σ_k w_k·μ_k)/sqrt(Σ_k w'_k·σ²_k + ε) + β over
// k ∈ {IN, LN, BN}, w = softmax(mean_weight), w' = softmax(var_weight), with
// the LN and BN statistics computed from the IN ones as the paper does.
type SwitchNorm struct {
	cfg                   Config
	weight, bias          *nn.Var
	meanWeight, varWeight *nn.Var
	stats                 *runningStats
}

func newSwitchNorm(cfg Config) Norm {
	s := &SwitchNorm{
		cfg:        cfg,
		weight:     nn.NewVar(cfg.name("weight"), cfg.Dtype, cfg.Channels),
		bias:       nn.NewVar(cfg.name("bias"), cfg.Dtype, cfg.Channels),
		meanWeight: nn.NewVar(cfg.name("mean_weight"), cfg.Dtype, 3),
		varWeight:  nn.NewVar(cfg.name("var_weight"), cfg.Dtype, 3),
		stats:      newRunningStats(cfg, cfg.name("")),
	}
	fill(s.weight, 1)
	fill(s.meanWeight, 1)
	fill(s.varWeight, 1)
	return s
}

var _ Norm = (*SwitchNorm)(nil)

// Branches is 1: both branches share one SwitchNorm.
func (s *SwitchNorm) Branches() int { return 1 }

// State lists weight, bias, mean_weight, var_weight and the running statistics.
func (s *SwitchNorm) State() (params, buffers []*nn.Var) {
	return []*nn.Var{s.weight, s.bias, s.meanWeight, s.varWeight}, []*nn.Var{s.stats.mean, s.stats.variance}
}

// Apply normalises x; the branch is ignored.
func (s *SwitchNorm) Apply(g *nn.Graph, x *gorgonia.Node, b nn.Branch, mode nn.Mode) (*gorgonia.Node, error) {
	return build(s, g, x, b, mode, false)
}

func (s *SwitchNorm) spec(b nn.Branch, mode nn.Mode) (spec, error) {
	if err := checkBranch(s.cfg.Prefix, b, 1); err != nil {
		return spec{}, err
	}
	return spec{
		label:  s.cfg.Prefix + "/switchnorm/" + mode.String(),
		params: []*nn.Var{s.meanWeight, s.varWeight, s.weight, s.bias},
		core:   &switchCore{stats: s.stats, training: mode == nn.Train},
		chain:  []affineRef{{gIn: 2, bIn: 3}},
	}, nil
}

// switchCore is SwitchNorm's statistics core; parameter inputs 0 and 1 are
// the mean and variance mixing logits (IN, LN, BN).
type switchCore struct {
	stats    *runningStats
	training bool
}

type switchSaved struct {
	wm, wv       []float64 // softmax weights (3)
	lnMu, lnVar  []float64 // (N)
	bnMu, bnVar  []float64 // (C)
	mean, invStd []float64 // mixed mean and 1/sqrt(var+eps) (N, C)
}

func (sc *switchCore) forward(s *shape, mu, v []float64, p [][]float64) (a0, b0 []float64, saved any, err error) {
	N, C := s.n, s.c
	sv := switchSaved{
		wm: append([]float64(nil), p[0]...), wv: append([]float64(nil), p[1]...),
		lnMu: make([]float64, N), lnVar: make([]float64, N),
		bnMu: make([]float64, C), bnVar: make([]float64, C),
		mean: make([]float64, N*C), invStd: make([]float64, N*C),
	}
	softmaxInPlace(sv.wm)
	softmaxInPlace(sv.wv)
	groupStats(s, 1, mu, v, sv.lnMu, sv.lnVar) // LN: one group per sample
	if sc.training {
		if N*s.hw < 2 {
			return nil, nil, nil, errTooFewValues(N * s.hw)
		}
		channelStats(s, mu, v, sv.bnMu, sv.bnVar)
		sc.stats.update(sv.bnMu, sv.bnVar, N*s.hw)
	} else {
		sv.bnMu, sv.bnVar = sc.stats.mean.Float64s(), sc.stats.variance.Float64s()
	}
	a0, b0 = make([]float64, N*C), make([]float64, N*C)
	for n := 0; n < N; n++ {
		for c := 0; c < C; c++ {
			i := n*C + c
			m := sv.wm[0]*mu[i] + sv.wm[1]*sv.lnMu[n] + sv.wm[2]*sv.bnMu[c]
			V := sv.wv[0]*v[i] + sv.wv[1]*sv.lnVar[n] + sv.wv[2]*sv.bnVar[c]
			inv := 1 / math.Sqrt(V+sc.stats.eps)
			sv.mean[i], sv.invStd[i] = m, inv
			a0[i], b0[i] = inv, -m*inv
		}
	}
	return a0, b0, sv, nil
}

func (sc *switchCore) backward(s *shape, mu, v []float64, _ [][]float64, saved any, da0, db0 []float64, dp [][]float64) (dmu, dv []float64) {
	N, C := s.n, s.c
	sv := saved.(switchSaved)
	dmu, dv = make([]float64, N*C), make([]float64, N*C)
	dwm, dwv := make([]float64, 3), make([]float64, 3)
	dlnMu, dlnVar := make([]float64, N), make([]float64, N)
	dbnMu, dbnVar := make([]float64, C), make([]float64, C)
	for n := 0; n < N; n++ {
		for c := 0; c < C; c++ {
			i := n*C + c
			inv := sv.invStd[i]
			dm := -inv * db0[i]
			dV := (da0[i] - sv.mean[i]*db0[i]) * -0.5 * inv * inv * inv
			dwm[0] += dm * mu[i]
			dwm[1] += dm * sv.lnMu[n]
			dwm[2] += dm * sv.bnMu[c]
			dwv[0] += dV * v[i]
			dwv[1] += dV * sv.lnVar[n]
			dwv[2] += dV * sv.bnVar[c]
			dmu[i] += sv.wm[0] * dm
			dv[i] += sv.wv[0] * dV
			dlnMu[n] += sv.wm[1] * dm
			dlnVar[n] += sv.wv[1] * dV
			dbnMu[c] += sv.wm[2] * dm
			dbnVar[c] += sv.wv[2] * dV
		}
	}
	groupBackward(s, 1, mu, sv.lnMu, dlnMu, dlnVar, dmu, dv)
	if sc.training {
		batchBackward(s, mu, sv.bnMu, dbnMu, dbnVar, dmu, dv)
	}
	for i, d := range softmaxBackward(sv.wm, dwm) {
		dp[0][i] += d
	}
	for i, d := range softmaxBackward(sv.wv, dwv) {
		dp[1][i] += d
	}
	return dmu, dv
}
