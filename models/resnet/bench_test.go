package resnet

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/advbench/advbench/nn"
)

// BenchmarkModel times the compiled programs at batch 32, float32, bn:
// forward (eval logits), input-grad (what a PGD step costs), train (one
// training pass with every gradient) and advprop (two such passes).
// images/s counts the clean batch.
func BenchmarkModel(b *testing.B) {
	const batch = 32
	for _, width := range []float64{0.25, 1} {
		m, err := New(Config{Width: width})
		if err != nil {
			b.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 1))
		x, xa := randImages(rng, batch), randImages(rng, batch)
		y := make([]int, batch)
		for i := range y {
			y[i] = i % 10
		}
		work := map[string]func() error{
			"forward":    func() error { _, err := m.Logits(x, nn.Clean, nn.Eval); return err },
			"input-grad": func() error { _, _, _, err := m.LossGrad(x, y, nn.CE, nn.Clean, nn.Eval); return err },
			"advprop":    func() error { _, err := m.AdvProp(x, xa, y); return err },
			"train":      func() error { _, err := m.Train(x, y, nn.Clean); return err },
		}
		for _, name := range []string{"forward", "input-grad", "train", "advprop"} {
			b.Run(fmt.Sprintf("width%g/%s", width, name), func(b *testing.B) {
				if err := work[name](); err != nil { // build the program outside the timing
					b.Fatal(err)
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := work[name](); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "images/s")
			})
		}
	}
}
