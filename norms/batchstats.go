package norms

import (
	"fmt"
	"math"

	"github.com/advbench/advbench/nn"
)

// runningStats are the running mean and variance of one BatchNorm, with
// PyTorch's update rule.
type runningStats struct {
	mean, variance *nn.Var
	momentum, eps  float64
}

func newRunningStats(cfg Config, prefix string) *runningStats {
	r := &runningStats{
		mean:     nn.NewVar(prefix+"running_mean", cfg.Dtype, cfg.Channels),
		variance: nn.NewVar(prefix+"running_var", cfg.Dtype, cfg.Channels),
		momentum: cfg.Momentum,
		eps:      cfg.Eps,
	}
	fill(r.variance, 1)
	return r
}

// update folds one batch's mean and biased variance (over count values per
// channel) into the running statistics: the unbiased variance goes in.
func (r *runningStats) update(mean, biasedVar []float64, count int) {
	rm, rv := r.mean.Float64s(), r.variance.Float64s()
	unbias := float64(count) / float64(count-1)
	for c := range rm {
		rm[c] = (1-r.momentum)*rm[c] + r.momentum*mean[c]
		rv[c] = (1-r.momentum)*rv[c] + r.momentum*biasedVar[c]*unbias
	}
	r.mean.SetFloat64s(rm)
	r.variance.SetFloat64s(rv)
}

// batchCore is the statistics core of the BN family: per-channel statistics
// over (N, H, W), from the batch in training mode (updating the running
// statistics) or from the running statistics in evaluation mode.
type batchCore struct {
	stats    *runningStats
	training bool
}

type batchSaved struct{ m, s []float64 }

func (bc *batchCore) forward(s *shape, mu, v []float64, _ [][]float64) (a0, b0 []float64, saved any, err error) {
	m, V := make([]float64, s.c), make([]float64, s.c)
	if bc.training {
		if s.n*s.hw < 2 {
			return nil, nil, nil, errTooFewValues(s.n * s.hw)
		}
		channelStats(s, mu, v, m, V)
		bc.stats.update(m, V, s.n*s.hw)
	} else {
		m, V = bc.stats.mean.Float64s(), bc.stats.variance.Float64s()
	}
	inv := make([]float64, s.c)
	for c := range inv {
		inv[c] = 1 / math.Sqrt(V[c]+bc.stats.eps)
	}
	a0, b0 = make([]float64, s.n*s.c), make([]float64, s.n*s.c)
	for n := 0; n < s.n; n++ {
		for c := 0; c < s.c; c++ {
			a0[n*s.c+c] = inv[c]
			b0[n*s.c+c] = -m[c] * inv[c]
		}
	}
	return a0, b0, batchSaved{m, inv}, nil
}

func (bc *batchCore) backward(s *shape, mu, v []float64, _ [][]float64, saved any, da0, db0 []float64, _ [][]float64) (dmu, dv []float64) {
	dmu, dv = make([]float64, s.n*s.c), make([]float64, s.n*s.c)
	if !bc.training {
		return dmu, dv // running statistics are constants
	}
	sv := saved.(batchSaved)
	dm, dV := make([]float64, s.c), make([]float64, s.c)
	for n := 0; n < s.n; n++ {
		for c := 0; c < s.c; c++ {
			i := n*s.c + c
			// a0 = s, b0 = -m*s.
			dsc := da0[i] - sv.m[c]*db0[i]
			dV[c] += dsc * -0.5 * sv.s[c] * sv.s[c] * sv.s[c]
			dm[c] += -sv.s[c] * db0[i]
		}
	}
	batchBackward(s, mu, sv.m, dm, dV, dmu, dv)
	return dmu, dv
}

// channelStats computes the per-channel batch mean m and biased variance V
// over (N, H, W) from per-plane means and centred variances.
func channelStats(s *shape, mu, v, m, V []float64) {
	for c := 0; c < s.c; c++ {
		sum := 0.0
		for n := 0; n < s.n; n++ {
			sum += mu[n*s.c+c]
		}
		mc := sum / float64(s.n)
		sq := 0.0
		for n := 0; n < s.n; n++ {
			d := mu[n*s.c+c] - mc
			sq += v[n*s.c+c] + d*d
		}
		m[c], V[c] = mc, sq/float64(s.n)
	}
}

// batchBackward adds to (dmu, dv) the gradient that flows through
// channelStats given dL/dm and dL/dV per channel.
func batchBackward(s *shape, mu, m, dm, dV, dmu, dv []float64) {
	fn := float64(s.n)
	for n := 0; n < s.n; n++ {
		for c := 0; c < s.c; c++ {
			i := n*s.c + c
			dmu[i] += dm[c]/fn + dV[c]*2*(mu[i]-m[c])/fn
			dv[i] += dV[c] / fn
		}
	}
}

// errTooFewValues is the error of batch statistics over a single value, whose
// unbiased variance is undefined (PyTorch refuses the same).
func errTooFewValues(count int) error {
	return fmt.Errorf("training mode needs more than one value per channel, got N*H*W = %d", count)
}
