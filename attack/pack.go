package attack

import (
	"fmt"

	"github.com/advbench/advbench/nn"
)

// packed is a model seen through batches re-packed to a few sizes: a call
// with n images runs the model on the smallest size of packSizes ≥ n (at
// most the evaluation's batch size, at least n), the extra rows copies of
// the first image, and answers for the n given. The ResNet compiles one
// program per batch size, so the shrinking batches of a pruned evaluation
// reuse a bounded set of programs instead of compiling one per size.
// Gradients are rescaled to those of the n-image batch mean.
type packed struct {
	m    Model
	full int
}

var _ TargetedModel = packed{}

func (p packed) size(n int) int { return max(min(packSize(n), p.full), n) }

// packSize is the batch a pruned attack of n images runs on: the next of
// 1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128, … (powers of two, and from 16
// on also 1.5 times them). Powers of two alone pad a batch of 33
// clean-correct images to 64 and a quarter of the rows on average; the
// intermediate sizes waste at most a third and took the PGD-10 + PGD-20
// evaluation of 1,000 images from 30-32 s to 24-27 s. Multiples of 8 were
// no faster and held 510 MiB instead of 350: the model keeps each batch
// size's activation buffers (nn.Arena matches sizes exactly).
func packSize(n int) int {
	s := 1
	for s < n {
		if s >= 16 && s/2*3 >= n {
			return s / 2 * 3
		}
		s *= 2
	}
	return s
}

func padImages(x []float32, n, size int) []float32 {
	if size == n {
		return x
	}
	out := make([]float32, size*imageSize)
	copy(out, x)
	for i := n; i < size; i++ {
		copy(out[i*imageSize:(i+1)*imageSize], x[:imageSize])
	}
	return out
}

func padInts(v []int, size int) []int {
	if v == nil || len(v) == size {
		return v
	}
	out := make([]int, size)
	copy(out, v)
	for i := len(v); i < size; i++ {
		out[i] = v[0]
	}
	return out
}

// Logits returns the logits of the n images.
func (p packed) Logits(x []float32, b nn.Branch, m nn.Mode) ([]float32, error) {
	n := len(x) / imageSize
	if n == 0 {
		return nil, nil
	}
	size := p.size(n)
	z, err := p.m.Logits(padImages(x, n, size), b, m)
	if err != nil {
		return nil, err
	}
	return z[:len(z)/size*n], nil
}

// LossGrad is the model's LossGrad for the n images.
func (p packed) LossGrad(x []float32, y []int, loss nn.Loss, b nn.Branch, m nn.Mode) (float64, []float32, []float32, error) {
	return p.lossGrad(x, y, nil, loss, b, m)
}

// TargetedLossGrad is the model's TargetedLossGrad for the n images, an
// error if the model has none.
func (p packed) TargetedLossGrad(x []float32, y, t []int, loss nn.Loss, b nn.Branch, m nn.Mode) (float64, []float32, []float32, error) {
	return p.lossGrad(x, y, t, loss, b, m)
}

func (p packed) lossGrad(x []float32, y, t []int, loss nn.Loss, b nn.Branch, m nn.Mode) (float64, []float32, []float32, error) {
	n := len(y)
	if n == 0 || len(x) != n*imageSize {
		return 0, nil, nil, fmt.Errorf("attack: %d values for %d labels", len(x), n)
	}
	size := p.size(n)
	xs, ys, ts := padImages(x, n, size), padInts(y, size), padInts(t, size)
	var (
		z, g []float32
		err  error
	)
	if loss.Targeted() {
		tm, ok := p.m.(TargetedModel)
		if !ok {
			return 0, nil, nil, fmt.Errorf("attack: the model cannot differentiate the targeted loss %s", loss)
		}
		_, z, g, err = tm.TargetedLossGrad(xs, ys, ts, loss, b, m)
	} else {
		_, z, g, err = p.m.LossGrad(xs, ys, loss, b, m)
	}
	if err != nil {
		return 0, nil, nil, err
	}
	z, g = z[:len(z)/size*n], g[:n*imageSize]
	if size != n {
		scale := float32(size) / float32(n)
		for i := range g {
			g[i] *= scale
		}
	}
	k := len(z) / n
	row := make([]float64, k)
	total := 0.0
	for i := 0; i < n; i++ {
		for j := range row {
			row[j] = float64(z[i*k+j])
		}
		ti := 0
		if t != nil {
			ti = t[i]
		}
		total += nn.ExampleLoss(loss, row, y[i], ti, nil)
	}
	return total / float64(n), z, g, nil
}
