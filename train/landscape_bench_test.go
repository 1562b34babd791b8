package train

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/advbench/advbench/data/loader"
	"github.com/advbench/advbench/landscape"
)

// BenchmarkLandscapeOverhead times a training step of the quick preset
// (width 1/4, batch 128, saauxbn; AdvProp with PGD-10, or the clean
// objective) and a landscape probe of it, on the built-in data, and reports
// their ratio: a run probed every K steps trains 1 + ratio/K times as long
// (its evaluations aside).
//
//	go test -run '^$' -bench LandscapeOverhead -benchtime 3x ./train/
func BenchmarkLandscapeOverhead(b *testing.B) {
	for _, objective := range []string{"advprop", "clean"} {
		b.Run(objective, func(b *testing.B) { benchmarkLandscape(b, objective) })
	}
}

func benchmarkLandscape(b *testing.B, objective string) {
	c, err := Preset("quick")
	if err != nil {
		b.Fatal(err)
	}
	c.Objective = objective
	c.Data, c.TrainN, c.ValN, c.TestN = "builtin", 4*c.Batch, 64, 0
	data, err := LoadData(c)
	if err != nil {
		b.Fatal(err)
	}
	m, err := c.InitialModel()
	if err != nil {
		b.Fatal(err)
	}
	w0 := landscape.Values(m.Params())
	it := NewIteration(m, NewSGD(m.Params(), c.Momentum, c.WeightDecay), c)
	ld, err := loader.New(data.Train, loader.Config{BatchSize: c.Batch, Shuffle: true, Augment: c.Augment, Seed: c.Seed})
	if err != nil {
		b.Fatal(err)
	}
	var batch loader.Batch
	var stepTime, probeTime time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := ld.Fill(0, i%ld.NumBatches(), ld.Order(0), &batch); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		w := landscape.Values(m.Params())
		res, err := it.step(batch.X, batch.Y, c.LR, rand.New(rand.NewPCG(1, uint64(i))))
		if err != nil {
			b.Fatal(err)
		}
		stepTime += time.Since(start)
		start = time.Now()
		if _, err := measureStep(m, w0, res, batch.X, batch.Y, c.LR, w); err != nil {
			b.Fatal(err)
		}
		probeTime += time.Since(start)
	}
	b.ReportMetric(stepTime.Seconds()/float64(b.N), "s/step")
	b.ReportMetric(probeTime.Seconds()/float64(b.N), "s/probe")
	b.ReportMetric(probeTime.Seconds()/stepTime.Seconds(), "probe/step")
}
