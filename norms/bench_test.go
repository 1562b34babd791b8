package norms

import (
	"math/rand/v2"
	"testing"

	"github.com/advbench/advbench/nn"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BenchmarkNorm times each registered norm's fused op at (128,64,32,32)
// float32 in training mode: forward (moments, statistics, y = a*x + b into a
// reused buffer) and backward (input and parameter gradients).
func BenchmarkNorm(b *testing.B) {
	const N, C, H, W = 128, 64, 32, 32
	rng := rand.New(rand.NewPCG(1, 1))
	xd := make([]float32, N*C*H*W)
	gd := make([]float32, len(xd))
	for i := range xd {
		xd[i] = float32(rng.NormFloat64())
		gd[i] = float32(rng.NormFloat64())
	}
	x := tensor.New(tensor.WithShape(N, C, H, W), tensor.WithBacking(xd))
	gy := tensor.New(tensor.WithShape(N, C, H, W), tensor.WithBacking(gd))
	out := tensor.New(tensor.WithShape(N, C, H, W), tensor.Of(tensor.Float32))
	dx := tensor.New(tensor.WithShape(N, C, H, W), tensor.Of(tensor.Float32))
	for _, name := range Names() {
		n, err := New(name, Config{Prefix: "b", Channels: C})
		if err != nil {
			b.Fatal(err)
		}
		g := nn.NewGraph()
		xn := gorgonia.NodeFromAny(g.G, x, gorgonia.WithName("x"))
		y, err := n.Apply(g, xn, nn.Adv, nn.Train)
		if err != nil {
			b.Fatal(err)
		}
		op := y.Op().(*normOp)
		vals := []gorgonia.Value{x}
		for _, p := range op.params {
			vals = append(vals, p.Value)
		}
		b.Run(name+"/forward", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := op.UsePreallocDo(out, vals...); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(N*b.N)/b.Elapsed().Seconds(), "images/s")
		})
		b.Run(name+"/backward", func(b *testing.B) {
			if _, err := op.UsePreallocDo(out, vals...); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := op.backward(x, gy, nil, dx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(N*b.N)/b.Elapsed().Seconds(), "images/s")
		})
		b.Run(name+"/backward+relu", func(b *testing.B) {
			op.relu = true
			defer func() { op.relu = false }()
			if _, err := op.UsePreallocDo(out, vals...); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := op.backward(x, gy, out, dx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(N*b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
