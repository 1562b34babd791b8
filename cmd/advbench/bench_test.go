package main

import (
	"math/rand/v2"
	"regexp"
	"testing"

	"github.com/advbench/advbench/internal/sgemm"
	"github.com/advbench/advbench/models/resnet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBenchWorkloads: every workload of the table is listed in the help
// with its description, builds and runs on a tiny model, and counts the
// FLOPs per MAC and image of its passes (forward 2, input gradient 2 more,
// weight gradients 2 more; AdvProp twice a training pass; an AdvProp
// iteration 4 per attack step + 12; a PGD-20 evaluation batch
// 2 + 20*4 + 2).
func TestBenchWorkloads(t *testing.T) {
	const trainSteps = 3
	want := map[string]float64{
		"forward": 2, "pgd-step": 4, "train-step": 6, "advprop-step": 12,
		"advprop-iter": 4*trainSteps + 12, "pgd20-eval": 84,
	}
	code, help, _ := runCLI(t, "bench", "--help")
	require.Equal(t, exitOK, code)
	opts := benchOptions{Width: 0.0625, Batch: 2, Norm: "bn", Seed: 1, TrainSteps: trainSteps, AttackMode: "train"}
	m, err := resnet.New(resnet.Config{Norm: opts.Norm, Width: opts.Width, Seed: opts.Seed})
	require.NoError(t, err)
	x, xa := make([]float32, opts.Batch*3*32*32), make([]float32, opts.Batch*3*32*32)
	for i := range x {
		x[i], xa[i] = float32(i%7)/7, float32(i%5)/5
	}
	in := benchInput{m: m, x: x, xa: xa, y: []int{3, 8}, rng: rand.New(rand.NewPCG(1, 2)), opts: opts}
	var names []string
	for _, w := range benchWorkloads {
		names = append(names, w.name)
		assert.Regexp(t, `(?m)^\s+`+regexp.QuoteMeta(w.name)+`\s+\S`, help, "help lists %s", w.name)
		run, flops, err := w.build(in)
		require.NoError(t, err, w.name)
		assert.Equal(t, want[w.name], flops, w.name)
		assert.NoError(t, run(), w.name)
	}
	assert.ElementsMatch(t, names, []string{"forward", "pgd-step", "train-step", "advprop-step", "advprop-iter", "pgd20-eval"})
	assert.Regexp(t, `--workload value\s+advprop-iter, advprop-step, forward, pgd-step, pgd20-eval or train-step`, help)
}

// TestAttackPrecisionFlag: --attack-precision bf16 runs (and says so in the
// result) where the CPU has AVX512_BF16 and is refused with one line naming
// the missing instructions where it has not; an unknown precision is a
// usage error either way.
func TestAttackPrecisionFlag(t *testing.T) {
	args := []string{"bench", "--workload", "pgd-step", "--width", "0.0625", "--batch", "2", "--runs", "1", "--format", "json"}
	code, _, stderr := runCLI(t, append(args, "--attack-precision", "fp16")...)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, `unknown precision "fp16" (want fp32 or bf16)`)
	code, stdout, stderr := runCLI(t, append(args, "--attack-precision", "bf16")...)
	if !sgemm.HasBF16() {
		assert.Equal(t, exitUsage, code)
		assert.Contains(t, stderr, "--attack-precision bf16: this CPU has no AVX512_BF16 instructions")
		return
	}
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, `"attack_precision": "bf16"`)
	assert.Contains(t, stdout, `+avx512bf16"`)
}
