package nn

import (
	"math/rand/v2"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BenchmarkReLU times the forward ReLU on a (128, 16, 32, 32) float32 batch.
func BenchmarkReLU(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	d := make([]float32, 128*16*32*32)
	for i := range d {
		d[i] = float32(rng.NormFloat64())
	}
	x := tensor.New(tensor.WithShape(128, 16, 32, 32), tensor.WithBacking(d))
	op := &reluOp{dims: 4}
	for i := 0; i < b.N; i++ {
		if _, err := op.Do(gorgonia.Value(x)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(d)*b.N)/b.Elapsed().Seconds()/1e6, "Melem/s")
}
