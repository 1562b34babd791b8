package norms

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/advbench/advbench/nn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/tensor"
)

// state reads a layer's variables by name suffix ("weight", "bn_list.1.running_var").
type state map[string][]float64

func readState(n Norm) state {
	s := state{}
	params, buffers := n.State()
	for _, v := range append(params, buffers...) {
		s[strings.TrimPrefix(v.Name, "l.")] = v.Float64s()
	}
	return s
}

// naive is a direct, loop-by-loop implementation of each layer's definition
// (RECIPE.md), independent of the op's moments/core/chain decomposition. It
// returns the output and the running statistics after the step.
func naive(t *testing.T, name string, st state, x *tensor.Dense, b nn.Branch, m nn.Mode) ([]float64, state) {
	t.Helper()
	sh := x.Shape()
	N, C, HW := sh[0], sh[1], sh[2]*sh[3]
	xs := x.Data().([]float64)
	at := func(n, c, p int) float64 { return xs[(n*C+c)*HW+p] }
	const eps, mom = 1e-5, 0.1
	out := make([]float64, len(xs))
	next := state{}
	for k, v := range st {
		next[k] = append([]float64(nil), v...)
	}

	// bnStats returns batch mean and biased variance per channel, directly.
	bnStats := func() (mean, variance []float64) {
		mean, variance = make([]float64, C), make([]float64, C)
		cnt := float64(N * HW)
		for c := 0; c < C; c++ {
			for n := 0; n < N; n++ {
				for p := 0; p < HW; p++ {
					mean[c] += at(n, c, p) / cnt
				}
			}
			for n := 0; n < N; n++ {
				for p := 0; p < HW; p++ {
					d := at(n, c, p) - mean[c]
					variance[c] += d * d / cnt
				}
			}
		}
		return mean, variance
	}
	// bnNormalise returns x̂ using batch or running statistics under prefix,
	// updating next's running statistics in training.
	bnNormalise := func(prefix string) []float64 {
		var mean, variance []float64
		if m == nn.Train {
			mean, variance = bnStats()
			cnt := float64(N * HW)
			for c := 0; c < C; c++ {
				next[prefix+"running_mean"][c] = (1-mom)*st[prefix+"running_mean"][c] + mom*mean[c]
				next[prefix+"running_var"][c] = (1-mom)*st[prefix+"running_var"][c] + mom*variance[c]*cnt/(cnt-1)
			}
		} else {
			mean, variance = st[prefix+"running_mean"], st[prefix+"running_var"]
		}
		xh := make([]float64, len(xs))
		for i, v := range xs {
			c := (i / HW) % C
			xh[i] = (v - mean[c]) / math.Sqrt(variance[c]+eps)
		}
		return xh
	}
	affine := func(h []float64, gamma, beta []float64) []float64 {
		o := make([]float64, len(h))
		for i, v := range h {
			c := (i / HW) % C
			o[i] = gamma[c]*v + beta[c]
		}
		return o
	}
	row := func(e []float64, r int) (gamma, beta []float64) {
		return e[r*2*C : r*2*C+C], e[r*2*C+C : (r+1)*2*C]
	}
	switch name {
	case "bn":
		out = affine(bnNormalise(""), st["weight"], st["bias"])
	case "auxbn":
		p := fmt.Sprintf("bn_list.%d.", b)
		out = affine(bnNormalise(p), st[p+"weight"], st[p+"bias"])
	case "ccbn":
		g, be := row(st["embed.weight"], int(b))
		out = affine(bnNormalise("bn."), g, be)
	case "sabn", "saauxbn":
		p := "bn."
		if name == "saauxbn" {
			p = fmt.Sprintf("bn_list.%d.", b)
		}
		gs, bs := row(st["embed.weight"], 2)
		g, be := row(st["embed.weight"], int(b))
		out = affine(affine(bnNormalise(p), gs, bs), g, be)
	case "modenorm":
		K := len(st["gate.bias"])
		W, bias := st["gate.weight"], st["gate.bias"]
		gates := make([][]float64, N)
		for n := 0; n < N; n++ {
			z := make([]float64, K)
			zmax := math.Inf(-1)
			for k := 0; k < K; k++ {
				z[k] = bias[k]
				for c := 0; c < C; c++ {
					phi := 0.0
					for p := 0; p < HW; p++ {
						phi += at(n, c, p) / float64(HW)
					}
					z[k] += W[k*C+c] * phi
				}
				zmax = math.Max(zmax, z[k])
			}
			sum := 0.0
			for k := range z {
				z[k] = math.Exp(z[k] - zmax)
				sum += z[k]
			}
			for k := range z {
				z[k] /= sum
			}
			gates[n] = z
		}
		muK, varK := make([]float64, K*C), make([]float64, K*C)
		if m == nn.Train {
			for k := 0; k < K; k++ {
				nk := 0.0
				for n := 0; n < N; n++ {
					nk += gates[n][k]
				}
				for c := 0; c < C; c++ {
					for n := 0; n < N; n++ {
						for p := 0; p < HW; p++ {
							muK[k*C+c] += gates[n][k] * at(n, c, p) / float64(HW) / nk
						}
					}
					for n := 0; n < N; n++ {
						for p := 0; p < HW; p++ {
							d := at(n, c, p) - muK[k*C+c]
							varK[k*C+c] += gates[n][k] * d * d / float64(HW) / nk
						}
					}
					j := k*C + c
					next["x_ra"][j] = (1-mom)*st["x_ra"][j] + mom*muK[j]
					next["x2_ra"][j] = (1-mom)*st["x2_ra"][j] + mom*(varK[j]+muK[j]*muK[j])
				}
			}
		} else {
			for j := range muK {
				muK[j] = st["x_ra"][j]
				varK[j] = st["x2_ra"][j] - muK[j]*muK[j]
			}
		}
		for i, v := range xs {
			n, c := i/(C*HW), (i/HW)%C
			h := 0.0
			for k := 0; k < K; k++ {
				h += gates[n][k] * (v - muK[k*C+c]) / math.Sqrt(varK[k*C+c]+eps)
			}
			out[i] = st["alpha"][c]*h + st["beta"][c]
		}
	case "switchnorm":
		soft := func(z []float64) []float64 {
			e := make([]float64, 3)
			s := 0.0
			for i, v := range z {
				e[i] = math.Exp(v)
				s += e[i]
			}
			for i := range e {
				e[i] /= s
			}
			return e
		}
		wm, wv := soft(st["mean_weight"]), soft(st["var_weight"])
		var bnMean, bnVar []float64
		if m == nn.Train {
			bnMean, bnVar = bnStats()
			cnt := float64(N * HW)
			for c := 0; c < C; c++ {
				next["running_mean"][c] = (1-mom)*st["running_mean"][c] + mom*bnMean[c]
				next["running_var"][c] = (1-mom)*st["running_var"][c] + mom*bnVar[c]*cnt/(cnt-1)
			}
		} else {
			bnMean, bnVar = st["running_mean"], st["running_var"]
		}
		for n := 0; n < N; n++ {
			lnMean, lnVar := 0.0, 0.0
			for c := 0; c < C; c++ {
				for p := 0; p < HW; p++ {
					lnMean += at(n, c, p) / float64(C*HW)
				}
			}
			for c := 0; c < C; c++ {
				for p := 0; p < HW; p++ {
					d := at(n, c, p) - lnMean
					lnVar += d * d / float64(C*HW)
				}
			}
			for c := 0; c < C; c++ {
				inMean, inVar := 0.0, 0.0
				for p := 0; p < HW; p++ {
					inMean += at(n, c, p) / float64(HW)
				}
				for p := 0; p < HW; p++ {
					d := at(n, c, p) - inMean
					inVar += d * d / float64(HW)
				}
				mean := wm[0]*inMean + wm[1]*lnMean + wm[2]*bnMean[c]
				variance := wv[0]*inVar + wv[1]*lnVar + wv[2]*bnVar[c]
				for p := 0; p < HW; p++ {
					i := (n*C+c)*HW + p
					out[i] = st["weight"][c]*(xs[i]-mean)/math.Sqrt(variance+eps) + st["bias"][c]
				}
			}
		}
	case "gn", "ln", "in":
		groups := map[string]int{"ln": 1, "in": C, "gn": min(32, C)}[name] // gn: C ≤ 32 here
		out = naiveGroupNorm(xs, N, C, HW, groups, st["weight"], st["bias"])
	case "none":
		copy(out, xs)
	default:
		t.Fatalf("no naive reference for %s", name)
	}
	return out, next
}

// naiveGroupNorm is GroupNorm's definition, loop by loop: for each sample
// and group of C/groups consecutive channels, the mean and biased variance
// over the group's values, then the per-channel affine.
func naiveGroupNorm(xs []float64, N, C, HW, groups int, weight, bias []float64) []float64 {
	const eps = 1e-5
	out := make([]float64, len(xs))
	cg := C / groups
	for n := 0; n < N; n++ {
		for g := 0; g < groups; g++ {
			lo, hi := (n*C+g*cg)*HW, (n*C+(g+1)*cg)*HW
			cnt := float64(hi - lo)
			mean, variance := 0.0, 0.0
			for i := lo; i < hi; i++ {
				mean += xs[i] / cnt
			}
			for i := lo; i < hi; i++ {
				variance += (xs[i] - mean) * (xs[i] - mean) / cnt
			}
			for i := lo; i < hi; i++ {
				c := (i / HW) % C
				out[i] = weight[c]*(xs[i]-mean)/math.Sqrt(variance+eps) + bias[c]
			}
		}
	}
	return out
}

// TestMatchesDefinition runs k training steps on alternating branches and
// checks every output and every running statistic against the naive
// definition, then checks that evaluation mode uses the running statistics.
func TestMatchesDefinition(t *testing.T) {
	const k = 4
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(21, 0))
			n := newTestNorm(t, name, 3, 5)
			want := readState(n)
			for step := 0; step < k; step++ {
				b := nn.Branch(step % 2)
				x := randInput(rng, 4, 3, 3, 2)
				got := run(t, n, x, b, nn.Train)
				var y []float64
				y, want = naive(t, name, want, x, b, nn.Train)
				assertClose(t, y, got, 1e-12, "train output, step %d", step)
				have := readState(n)
				for key, v := range want {
					assertClose(t, v, have[key], 1e-12, "%s after step %d", key, step)
				}
			}
			_, buffers := n.State()
			if len(buffers) == 0 {
				// No running statistics: evaluation is the training-mode
				// function of the batch itself.
				x := randInput(rng, 2, 3, 3, 2)
				y, _ := naive(t, name, readState(n), x, nn.Adv, nn.Train)
				assertClose(t, y, run(t, n, x, nn.Adv, nn.Eval), 1e-12, "eval output")
				return
			}
			for _, b := range []nn.Branch{nn.Clean, nn.Adv} {
				x := randInput(rng, 2, 3, 3, 2)
				before := readState(n)
				got := run(t, n, x, b, nn.Eval)
				y, _ := naive(t, name, before, x, b, nn.Eval)
				assertClose(t, y, got, 1e-12, "eval output, branch %s", b)
				assert.Equal(t, before, readState(n), "evaluation changes nothing")
			}
		})
	}
}

func assertClose(t *testing.T, want, got []float64, tol float64, msg string, args ...any) {
	t.Helper()
	require.Len(t, got, len(want), msg, args)
	worst := 0.0
	for i := range want {
		worst = math.Max(worst, math.Abs(want[i]-got[i])/math.Max(1, math.Abs(want[i])))
	}
	assert.LessOrEqual(t, worst, tol, fmt.Sprintf(msg, args...))
}
