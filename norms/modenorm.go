package norms

import (
	"math"

	"github.com/advbench/advbench/nn"
	"gorgonia.org/gorgonia"
)

func init() {
	register("modenorm", "ModeNorm (Deecke et al.): K soft modes with gated statistics, one network for both branches", newModeNorm)
}

// ModeNorm normalises each sample with a gate-weighted mixture of K modes:
//
//	g_nk = softmax_k(W·φ(x_n) + b), φ = spatial mean (N, C)
//	n_k = Σ_n g_nk, μ_k = Σ_n g_nk·mean_hw(x_n) / n_k
//	σ²_k = Σ_n g_nk·mean_hw((x_n − μ_k)²) / n_k
//	y_n = α·Σ_k g_nk·(x_n − μ_k)/sqrt(σ²_k + eps) + β
//
// Gradients flow through the gates and the statistics. Running averages of
// E_k[x] and E_k[x²] (momentum 0.1, starting at 0) are updated in training
// with the gates treated as constants; evaluation still computes the gates
// per sample and uses μ_k = E_k[x], σ²_k = E_k[x²] − E_k[x]².
//
// Names (the SaBN reference has no ModeNorm; these are advbench's):
// gate.weight (K, C) initialised 1/K + 0.01·N(0,1), gate.bias (K) with
// PyTorch's Linear default U(±1/sqrt(C)), alpha (C) = 1, beta (C) = 0;
// buffers x_ra and x2_ra (K, C).
//
// Paper: Deecke et al., "Mode Normalization", ICLR 2019, arXiv:1810.05466.
// It implements the paper's mode normalisation (gates from a linear map of
// the spatial means, gate-weighted per-mode estimators μ_k and σ²_k, a
// gate-weighted sum of the per-mode normalisations, running estimators at
// inference) as the reference code mn-torch computes it, with one affine
// (α, β) after the sum.
type ModeNorm struct {
	cfg              Config
	gateW, gateB     *nn.Var
	alpha, beta      *nn.Var
	meanRA, sqMeanRA *nn.Var
}

func newModeNorm(cfg Config) Norm {
	k, c := cfg.Modes, cfg.Channels
	m := &ModeNorm{
		cfg:      cfg,
		gateW:    nn.NewVar(cfg.name("gate.weight"), cfg.Dtype, k, c),
		gateB:    nn.NewVar(cfg.name("gate.bias"), cfg.Dtype, k),
		alpha:    nn.NewVar(cfg.name("alpha"), cfg.Dtype, c),
		beta:     nn.NewVar(cfg.name("beta"), cfg.Dtype, c),
		meanRA:   nn.NewVar(cfg.name("x_ra"), cfg.Dtype, k, c),
		sqMeanRA: nn.NewVar(cfg.name("x2_ra"), cfg.Dtype, k, c),
	}
	w := make([]float64, k*c)
	for i := range w {
		w[i] = 1/float64(k) + 0.01*cfg.Rand.NormFloat64()
	}
	m.gateW.SetFloat64s(w)
	bound := 1 / math.Sqrt(float64(c))
	b := make([]float64, k)
	for i := range b {
		b[i] = bound * (2*cfg.Rand.Float64() - 1)
	}
	m.gateB.SetFloat64s(b)
	fill(m.alpha, 1)
	return m
}

var _ Norm = (*ModeNorm)(nil)

// Branches is 1: both branches share one ModeNorm.
func (m *ModeNorm) Branches() int { return 1 }

// State lists gate.weight, gate.bias, alpha, beta and the buffers x_ra, x2_ra.
func (m *ModeNorm) State() (params, buffers []*nn.Var) {
	return []*nn.Var{m.gateW, m.gateB, m.alpha, m.beta}, []*nn.Var{m.meanRA, m.sqMeanRA}
}

// Apply normalises x; the branch is ignored.
func (m *ModeNorm) Apply(g *nn.Graph, x *gorgonia.Node, b nn.Branch, mode nn.Mode) (*gorgonia.Node, error) {
	return build(m, g, x, b, mode, false)
}

func (m *ModeNorm) spec(b nn.Branch, mode nn.Mode) (spec, error) {
	if err := checkBranch(m.cfg.Prefix, b, 1); err != nil {
		return spec{}, err
	}
	return spec{
		label:  m.cfg.Prefix + "/modenorm/" + mode.String(),
		params: []*nn.Var{m.gateW, m.gateB, m.alpha, m.beta},
		core:   &modeCore{m: m, training: mode == nn.Train},
		chain:  []affineRef{{gIn: 2, bIn: 3}},
	}, nil
}

// modeMassEps is added to every mode's mass n_k = Σ_n g_nk, so that a mode
// whose gates all underflow to 0 has mean and variance 0 instead of 0/0. It
// is far below float64's resolution of any mass a batch gives a mode it
// uses at all (a mass of 1e-14 still changes by only 1e-16 of itself), so
// ordinary batches compute exactly what they did without it.
const modeMassEps = 1e-30

// modeCore is ModeNorm's statistics core; parameter inputs 0 and 1 are the
// gate weight and bias.
type modeCore struct {
	m        *ModeNorm
	training bool
}

type modeSaved struct {
	g      []float64 // gates (N, K)
	nk     []float64 // Σ_n g_nk (K)
	M, S   []float64 // mode means and variances (K, C)
	invStd []float64 // (K, C)
}

func (mc *modeCore) forward(s *shape, mu, v []float64, p [][]float64) (a0, b0 []float64, saved any, err error) {
	K, N, C := mc.m.cfg.Modes, s.n, s.c
	W, bias := p[0], p[1]
	sv := modeSaved{g: make([]float64, N*K), nk: make([]float64, K), M: make([]float64, K*C), S: make([]float64, K*C), invStd: make([]float64, K*C)}
	for n := 0; n < N; n++ {
		z := sv.g[n*K : (n+1)*K]
		for k := 0; k < K; k++ {
			z[k] = bias[k]
			for c := 0; c < C; c++ {
				z[k] += W[k*C+c] * mu[n*C+c]
			}
		}
		softmaxInPlace(z)
	}
	if mc.training {
		for k := 0; k < K; k++ {
			sv.nk[k] = modeMassEps
			for n := 0; n < N; n++ {
				sv.nk[k] += sv.g[n*K+k]
			}
			for c := 0; c < C; c++ {
				sum := 0.0
				for n := 0; n < N; n++ {
					sum += sv.g[n*K+k] * mu[n*C+c]
				}
				M := sum / sv.nk[k]
				sq := 0.0
				for n := 0; n < N; n++ {
					d := mu[n*C+c] - M
					sq += sv.g[n*K+k] * (v[n*C+c] + d*d)
				}
				sv.M[k*C+c], sv.S[k*C+c] = M, sq/sv.nk[k]
			}
		}
		mc.updateRunning(sv.M, sv.S)
	} else {
		ex, ex2 := mc.m.meanRA.Float64s(), mc.m.sqMeanRA.Float64s()
		for i := range sv.M {
			// The running averages are rounded to the model's dtype, so
			// E[x²] − E[x]² of a (near) constant channel can come out below
			// −eps; a variance is never negative.
			sv.M[i], sv.S[i] = ex[i], max(ex2[i]-ex[i]*ex[i], 0)
		}
	}
	for i := range sv.invStd {
		sv.invStd[i] = 1 / math.Sqrt(sv.S[i]+mc.m.cfg.Eps)
	}
	a0, b0 = make([]float64, N*C), make([]float64, N*C)
	for n := 0; n < N; n++ {
		for k := 0; k < K; k++ {
			gk := sv.g[n*K+k]
			for c := 0; c < C; c++ {
				a0[n*C+c] += gk * sv.invStd[k*C+c]
				b0[n*C+c] -= gk * sv.M[k*C+c] * sv.invStd[k*C+c]
			}
		}
	}
	return a0, b0, sv, nil
}

// updateRunning folds the batch's mode means E_k[x] = M and second moments
// E_k[x²] = S + M² into the running averages.
func (mc *modeCore) updateRunning(M, S []float64) {
	mom := mc.m.cfg.Momentum
	ex, ex2 := mc.m.meanRA.Float64s(), mc.m.sqMeanRA.Float64s()
	for i := range ex {
		ex[i] = (1-mom)*ex[i] + mom*M[i]
		ex2[i] = (1-mom)*ex2[i] + mom*(S[i]+M[i]*M[i])
	}
	mc.m.meanRA.SetFloat64s(ex)
	mc.m.sqMeanRA.SetFloat64s(ex2)
}

func (mc *modeCore) backward(s *shape, mu, v []float64, p [][]float64, saved any, da0, db0 []float64, dp [][]float64) (dmu, dv []float64) {
	K, N, C := mc.m.cfg.Modes, s.n, s.c
	sv := saved.(modeSaved)
	W := p[0]
	dmu, dv = make([]float64, N*C), make([]float64, N*C)
	dg := make([]float64, N*K)
	ds, dM := make([]float64, K*C), make([]float64, K*C)
	for n := 0; n < N; n++ {
		for k := 0; k < K; k++ {
			gk := sv.g[n*K+k]
			for c := 0; c < C; c++ {
				i, j := n*C+c, k*C+c
				// a0 = Σ_k g s, b0 = -Σ_k g M s.
				dg[n*K+k] += sv.invStd[j]*da0[i] - sv.M[j]*sv.invStd[j]*db0[i]
				ds[j] += gk * (da0[i] - sv.M[j]*db0[i])
				dM[j] -= gk * sv.invStd[j] * db0[i]
			}
		}
	}
	if mc.training {
		for k := 0; k < K; k++ {
			for c := 0; c < C; c++ {
				j := k*C + c
				inv := sv.invStd[j]
				dS := ds[j] * -0.5 * inv * inv * inv
				for n := 0; n < N; n++ {
					i := n*C + c
					w := sv.g[n*K+k] / sv.nk[k]
					d := mu[i] - sv.M[j]
					dv[i] += dS * w
					dmu[i] += dS*2*w*d + dM[j]*w
					dg[n*K+k] += (dS*(v[i]+d*d-sv.S[j]) + dM[j]*d) / sv.nk[k]
				}
			}
		}
	}
	// Through the softmax and the gate's linear map φ = μ.
	dW, dB := dp[0], dp[1]
	for n := 0; n < N; n++ {
		dot := 0.0
		for k := 0; k < K; k++ {
			dot += sv.g[n*K+k] * dg[n*K+k]
		}
		for k := 0; k < K; k++ {
			dz := sv.g[n*K+k] * (dg[n*K+k] - dot)
			dB[k] += dz
			for c := 0; c < C; c++ {
				dW[k*C+c] += dz * mu[n*C+c]
				dmu[n*C+c] += dz * W[k*C+c]
			}
		}
	}
	return dmu, dv
}

// softmaxInPlace replaces z by softmax(z).
func softmaxInPlace(z []float64) {
	mx := math.Inf(-1)
	for _, e := range z {
		mx = math.Max(mx, e)
	}
	sum := 0.0
	for i, e := range z {
		z[i] = math.Exp(e - mx)
		sum += z[i]
	}
	for i := range z {
		z[i] /= sum
	}
}

// softmaxBackward returns dL/dz for w = softmax(z) given dL/dw.
func softmaxBackward(w, dw []float64) []float64 {
	dot := 0.0
	for i := range w {
		dot += w[i] * dw[i]
	}
	dz := make([]float64, len(w))
	for i := range w {
		dz[i] = w[i] * (dw[i] - dot)
	}
	return dz
}
