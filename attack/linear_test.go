package attack

import (
	"math"
	"math/rand/v2"

	"github.com/advbench/advbench/nn"
)

// linear is an analytic classifier z = W·x + b over the 3072 pixels, whose
// loss gradients are known in closed form.
type linear struct {
	w     [][]float64 // K x 3072
	b     []float64
	grad  int   // LossGrad calls
	sizes []int // the batch size of each LossGrad call

	targets     []int   // during a TargetedLossGrad call
	targetCalls [][]int // the targets of every TargetedLossGrad call
}

func newLinear(k int, scale float64, rng *rand.Rand) *linear {
	l := &linear{w: make([][]float64, k), b: make([]float64, k)}
	for c := range l.w {
		l.w[c] = make([]float64, imageSize)
		for i := range l.w[c] {
			l.w[c][i] = scale * rng.NormFloat64()
		}
		l.b[c] = 0.1 * rng.NormFloat64()
	}
	return l
}

func (l *linear) logits(x []float32) []float64 {
	n := len(x) / imageSize
	k := len(l.w)
	z := make([]float64, n*k)
	for i := 0; i < n; i++ {
		for c := 0; c < k; c++ {
			s := l.b[c]
			for j, v := range x[i*imageSize : (i+1)*imageSize] {
				s += l.w[c][j] * float64(v)
			}
			z[i*k+c] = s
		}
	}
	return z
}

func (l *linear) Logits(x []float32, _ nn.Branch, _ nn.Mode) ([]float32, error) {
	z := l.logits(x)
	out := make([]float32, len(z))
	for i, v := range z {
		out[i] = float32(v)
	}
	return out, nil
}

// LossGrad: CE gradient (p - e_y)ᵀW / N, CW gradient (W_j* - W_y) / N.
func (l *linear) LossGrad(x []float32, y []int, loss nn.Loss, b nn.Branch, m nn.Mode) (float64, []float32, []float32, error) {
	l.grad++
	l.sizes = append(l.sizes, len(y))
	n, k := len(y), len(l.w)
	z := l.logits(x)
	grad := make([]float32, len(x))
	total := 0.0
	for i := 0; i < n; i++ {
		row := z[i*k : (i+1)*k]
		coef := make([]float64, k)
		if loss != nn.CE && loss != nn.CWMargin {
			// Other losses: their gradient in the logits, times W.
			total += nn.ExampleLoss(loss, row, y[i], l.target(i), coef)
		} else if loss == nn.CWMargin {
			best := -1
			for c := range row {
				if c != y[i] && (best < 0 || row[c] > row[best]) {
					best = c
				}
			}
			coef[best], coef[y[i]] = 1, -1
			total += row[best] - row[y[i]]
		} else {
			mx := math.Inf(-1)
			for _, v := range row {
				mx = math.Max(mx, v)
			}
			s := 0.0
			for _, v := range row {
				s += math.Exp(v - mx)
			}
			for c, v := range row {
				coef[c] = math.Exp(v-mx) / s
			}
			coef[y[i]]--
			total += mx + math.Log(s) - row[y[i]]
		}
		for j := 0; j < imageSize; j++ {
			g := 0.0
			for c := 0; c < k; c++ {
				g += coef[c] * l.w[c][j]
			}
			grad[i*imageSize+j] = float32(g / float64(n))
		}
	}
	logits, _ := l.Logits(x, b, m)
	return total / float64(n), logits, grad, nil
}

// target is example i's target class in a TargetedLossGrad call.
func (l *linear) target(i int) int {
	if l.targets == nil {
		return 0
	}
	return l.targets[i]
}

// TargetedLossGrad differentiates a targeted loss through nn.ExampleLoss's
// gradient in the logits (W is the Jacobian); it records the targets.
func (l *linear) TargetedLossGrad(x []float32, y, t []int, loss nn.Loss, b nn.Branch, m nn.Mode) (float64, []float32, []float32, error) {
	l.targets = t
	l.targetCalls = append(l.targetCalls, append([]int(nil), t...))
	defer func() { l.targets = nil }()
	return l.LossGrad(x, y, loss, b, m)
}

// optimal is the best L-inf attack on a two-class linear model: every pixel
// pushed by eps toward the other class, clipped to [0,1].
func (l *linear) optimal(x []float32, y []int, eps float64) []float32 {
	out := make([]float32, len(x))
	e := float32(eps)
	for i, yi := range y {
		o := 1 - yi
		for j := 0; j < imageSize; j++ {
			p := i*imageSize + j
			lo, hi := max(x[p]-e, 0), min(x[p]+e, 1)
			if l.w[o][j]-l.w[yi][j] > 0 {
				out[p] = hi
			} else {
				out[p] = lo
			}
		}
	}
	return out
}

// images returns n images with pixels in [0,1], some at the edges.
func images(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n*imageSize)
	for i := range x {
		switch {
		case i%97 == 0:
			x[i] = 0
		case i%89 == 0:
			x[i] = 1
		default:
			x[i] = rng.Float32()
		}
	}
	return x
}
