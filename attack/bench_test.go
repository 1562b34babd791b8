package attack

import (
	"math/rand/v2"
	"testing"

	"github.com/advbench/advbench/models/resnet"
	"github.com/advbench/advbench/nn"
)

// BenchmarkPGDStep times one PGD step — loss and input gradient on the
// model in eval mode, the signed update and the projection — at batch 128
// on bn, widths 0.25 and 1. images/s counts the batch.
func BenchmarkPGDStep(b *testing.B) {
	for _, w := range []struct {
		name  string
		width float64
	}{{"width0.25", 0.25}, {"width1", 1}} {
		b.Run(w.name, func(b *testing.B) {
			m, err := resnet.New(resnet.Config{Width: w.width})
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 1))
			x := make([]float32, 128*imageSize)
			for i := range x {
				x[i] = rng.Float32()
			}
			y := make([]int, 128)
			for i := range y {
				y[i] = i % 10
			}
			p := NewPGD(1, DefaultOptions())
			s := Setting{Branch: nn.Clean, Mode: nn.Eval}
			cur := append([]float32(nil), x...)
			if _, _, _, err := p.step(m, cur, x, y, s); err != nil { // builds the program
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, _, err := p.step(m, cur, x, y, s); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(128*b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
