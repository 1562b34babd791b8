package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/advbench/advbench/attack"
	"github.com/advbench/advbench/internal/sgemm"
	"github.com/advbench/advbench/internal/texttable"
	"github.com/advbench/advbench/models/resnet"
	"github.com/advbench/advbench/nn"
	"github.com/advbench/advbench/train"
	"github.com/urfave/cli/v2"
)

// benchWorkload is one thing bench times.
type benchWorkload struct {
	name string
	// about says what one run does and its FLOPs per image in units of the
	// model's forward MACs: a forward pass is 2 FLOPs per MAC, a backward
	// pass to the input about as much again, the weight gradients as much
	// once more. Lines after the first continue it in the help.
	about string
	// build prepares the workload on in's model and batch and returns the
	// function each run calls and its FLOPs per MAC and image.
	build func(in benchInput) (run func() error, flopsPerMAC float64, err error)
}

// attackOptions are the paper's attack settings in the bench's attack
// precision.
func (in benchInput) attackOptions() attack.Options {
	o := attack.DefaultOptions()
	o.Precision = in.m.AttackPrecision()
	return o
}

// benchInput is what a workload is built on: the model, a fixed random
// batch (x, a second batch xa for the adversarial branch, labels y), the
// random source and the command's options.
type benchInput struct {
	m     *resnet.Model
	x, xa []float32
	y     []int
	rng   *rand.Rand
	opts  benchOptions
}

// benchWorkloads are bench's workloads, the one list its flag, help and
// checks read.
var benchWorkloads = []benchWorkload{
	{"forward", "eval-mode logits; 2", func(in benchInput) (func() error, float64, error) {
		return func() error {
			_, err := in.m.Logits(in.x, nn.Clean, nn.Eval)
			return err
		}, 2, nil
	}},
	{"pgd-step", "loss and input gradient in eval mode (one attack step); 4", func(in benchInput) (func() error, float64, error) {
		return func() error {
			_, _, _, err := in.m.LossGrad(in.x, in.y, nn.CE, nn.Clean, nn.Eval)
			return err
		}, 4, nil
	}},
	{"train-step", "one training-mode pass and every parameter gradient; 6", func(in benchInput) (func() error, float64, error) {
		return func() error {
			_, err := in.m.Train(in.x, in.y, nn.Clean)
			return err
		}, 6, nil
	}},
	{"advprop-step", "clean and adversarial passes with every gradient; 12 per clean\nimage (images/s counts clean images)", func(in benchInput) (func() error, float64, error) {
		return func() error {
			_, err := in.m.AdvProp(in.x, in.xa, in.y)
			return err
		}, 12, nil
	}},
	{"advprop-iter", "one whole AdvProp training iteration as advbench train runs it:\nPGD with --train-steps steps on the adversarial branch in\n--attack-mode, both passes, the SGD update; 4 per attack step + 12", buildAdvPropIter},
	{"pgd20-eval", "one batch of advbench eval --attacks pgd-20 --unpruned past the\nchecks' first 64 images: clean logits, PGD-20 in evaluation mode\non every image, the logits at x_adv; 84", func(in benchInput) (func() error, float64, error) {
		pgd20, err := attack.New("pgd-20", in.attackOptions())
		if err != nil {
			return nil, 0, err
		}
		return func() error {
			// Every image attacked and no check attacks: the work of
			// scripts/torch_bench.py's pgd20-eval, image for image (the
			// pruned protocol's gain is measured on whole evaluations).
			ev, err := attack.NewEvaluation([]attack.Attack{pgd20}, attack.EvalConfig{Setting: attack.Setting{Branch: nn.Clean, Mode: nn.Eval}, Seed: in.opts.Seed, Unpruned: true})
			if err != nil {
				return err
			}
			ev.Checked = attack.CheckExamples
			return ev.Add(in.m, []attack.Attack{pgd20}, in.x, in.y)
		}, 84, nil
	}},
}

// buildAdvPropIter is the advprop-iter workload: the paper preset's
// training iteration with the command's norm, width and training attack;
// each training-attack step is a pass and an input gradient (4 FLOPs per
// MAC), then the advprop step (12).
func buildAdvPropIter(in benchInput) (func() error, float64, error) {
	cfg, err := train.Preset("paper")
	if err != nil {
		return nil, 0, err
	}
	cfg.Norm, cfg.Width, cfg.TrainSteps, cfg.AttackMode = in.opts.Norm, in.opts.Width, in.opts.TrainSteps, in.opts.AttackMode
	if err := cfg.Validate(); err != nil {
		return nil, 0, usageError{err}
	}
	iter := train.NewIteration(in.m, train.NewSGD(in.m.Params(), cfg.Momentum, cfg.WeightDecay), cfg)
	return func() error {
		_, err := iter.Step(in.x, in.y, 0.1, in.rng)
		return err
	}, 4*float64(in.opts.TrainSteps) + 12, nil
}

// benchWorkloadNames are the workloads' names, sorted.
func benchWorkloadNames() []string {
	names := make([]string, len(benchWorkloads))
	for i, w := range benchWorkloads {
		names[i] = w.name
	}
	slices.Sort(names)
	return names
}

// benchWorkloadHelp lists the workloads for the command's help, one
// (possibly continued) entry each.
func benchWorkloadHelp() string {
	var b strings.Builder
	for _, w := range benchWorkloads {
		fmt.Fprintf(&b, "  %-13s %s\n", w.name, strings.ReplaceAll(w.about, "\n", "\n"+strings.Repeat(" ", 16)))
	}
	return b.String()
}

type benchOptions struct {
	Width    float64
	Batch    int
	Norm     string
	Workload string
	Runs     int
	Seed     uint64
	Format   string
	Profile  string
	// advprop-iter only: the training attack's steps and mode.
	TrainSteps int
	AttackMode string
	// Precision is --attack-precision: of the workloads' input gradients.
	Precision string
}

func newBenchCommand() *cli.Command {
	var opts benchOptions
	return &cli.Command{
		Name:  "bench",
		Usage: "measure images/s, GFLOP/s and peak memory of a workload",
		Description: `Builds a ResNet-18 of the given norm and width, runs the workload once to build
and warm its graph, then times --runs runs on a fixed random batch and reports
the median images/s, GFLOP/s (from the model's MACs and the workload's FLOPs
per MAC and image) and the process's peak resident memory. Progress goes to
stderr.

Workloads and their FLOPs per MAC and image:
` + benchWorkloadHelp() + `
Examples:
  advbench bench --workload pgd-step --width 1 --batch 128
  advbench bench --workload train-step --width 0.25 --runs 5 --format json
  advbench bench --workload advprop-iter --width 0.25 --train-steps 10
  advbench bench --workload pgd-step --width 1 --attack-precision bf16

--attack-precision bf16 runs the input gradients of pgd-step, pgd20-eval and
advprop-iter's training attack with bf16 operands (AVX512_BF16); GFLOP/s
still counts their multiply-adds.`,
		Flags: []cli.Flag{
			&cli.Float64Flag{Name: "width", Value: 1, Usage: "width multiplier", Destination: &opts.Width},
			&cli.IntFlag{Name: "batch", Value: 128, Usage: "batch size", Destination: &opts.Batch},
			&cli.StringFlag{Name: "norm", Value: "bn", Usage: "norm in every slot", Destination: &opts.Norm},
			&cli.StringFlag{Name: "workload", Value: "pgd-step", Usage: orList(benchWorkloadNames()), Destination: &opts.Workload},
			&cli.IntFlag{Name: "train-steps", Value: 10, Usage: "advprop-iter: PGD steps of the training attack", Destination: &opts.TrainSteps},
			&cli.StringFlag{Name: "attack-mode", Value: "train", Usage: "advprop-iter: statistics of the training attack, train or eval", Destination: &opts.AttackMode},
			attackPrecisionFlag(&opts.Precision),
			&cli.IntFlag{Name: "runs", Value: 3, Usage: "timed runs after the warm-up", Destination: &opts.Runs},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of the weights and the batch", Destination: &opts.Seed},
			&cli.StringFlag{Name: "cpuprofile", Usage: "write a pprof CPU profile of the timed runs to `FILE` (go tool pprof FILE)", Destination: &opts.Profile},
			formatFlag(&opts.Format, tableJSON),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("bench: unexpected argument %q", c.Args().First())
			}
			return runBench(opts, c.App.Writer, c.App.ErrWriter)
		},
	}
}

// benchResult is what bench reports, as data.
type benchResult struct {
	Workload     string    `json:"workload"`
	Norm         string    `json:"norm"`
	Width        float64   `json:"width"`
	Batch        int       `json:"batch"`
	Runs         []float64 `json:"images_per_second_runs"`
	Median       float64   `json:"images_per_second"`
	GFLOPs       float64   `json:"gflops_per_second"`
	MACsPerImage int64     `json:"macs_per_image"`
	PeakRSSMiB   float64   `json:"peak_rss_mib"`
	GOMAXPROCS   int       `json:"gomaxprocs"`
	GEMMKernel   string    `json:"gemm_kernel"`
	// AttackPrecision is the precision of the input gradients (fp32, bf16).
	AttackPrecision string `json:"attack_precision"`
}

func runBench(opts benchOptions, stdout, stderr io.Writer) error {
	if err := checkFormat(opts.Format, tableJSON); err != nil {
		return err
	}
	if err := checkNorm(opts.Norm); err != nil {
		return err
	}
	i := slices.IndexFunc(benchWorkloads, func(w benchWorkload) bool { return w.name == opts.Workload })
	if i < 0 {
		return usagef("--workload %q: want one of %s", opts.Workload, strings.Join(benchWorkloadNames(), ", "))
	}
	if opts.Batch < 1 || opts.Runs < 1 || opts.Width <= 0 {
		return usagef("bench: --batch and --runs must be at least 1 and --width positive")
	}
	prec, err := parseAttackPrecision(opts.Precision)
	if err != nil {
		return err
	}
	m, err := resnet.New(resnet.Config{Norm: opts.Norm, Width: opts.Width, Seed: opts.Seed})
	if err != nil {
		return err
	}
	m.SetAttackPrecision(prec)
	rng := rand.New(rand.NewPCG(opts.Seed, 2))
	x := make([]float32, opts.Batch*3*32*32)
	xa := make([]float32, len(x))
	for i := range x {
		x[i], xa[i] = rng.Float32(), rng.Float32()
	}
	y := make([]int, opts.Batch)
	for i := range y {
		y[i] = rng.IntN(10)
	}
	work, flopsPerMAC, err := benchWorkloads[i].build(benchInput{m: m, x: x, xa: xa, y: y, rng: rng, opts: opts})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "bench: %s, %s, width %g, batch %d: warm-up\n", opts.Workload, opts.Norm, opts.Width, opts.Batch)
	if err := work(); err != nil {
		return err
	}
	res := benchResult{Workload: opts.Workload, Norm: opts.Norm, Width: opts.Width, Batch: opts.Batch, MACsPerImage: m.MACs(),
		GOMAXPROCS: runtime.GOMAXPROCS(0), GEMMKernel: sgemm.Active.Name, AttackPrecision: prec.String()}
	if prec == nn.BF16 {
		res.GEMMKernel += "+" + sgemm.BF16Kernel().Name
	}
	stopProfile, err := startCPUProfile("bench", opts.Profile)
	if err != nil {
		return err
	}
	defer stopProfile()
	for r := 0; r < opts.Runs; r++ {
		start := time.Now()
		if err := work(); err != nil {
			return err
		}
		rate := float64(opts.Batch) / time.Since(start).Seconds()
		res.Runs = append(res.Runs, rate)
		fmt.Fprintf(stderr, "bench: run %d/%d: %.1f images/s\n", r+1, opts.Runs, rate)
	}
	sorted := slices.Clone(res.Runs)
	slices.Sort(sorted)
	res.Median = sorted[len(sorted)/2]
	if len(sorted)%2 == 0 {
		res.Median = (sorted[len(sorted)/2-1] + sorted[len(sorted)/2]) / 2
	}
	res.GFLOPs = res.Median * float64(res.MACsPerImage) * flopsPerMAC / 1e9
	res.PeakRSSMiB = peakRSSMiB()
	if opts.Format == formatJSON {
		return printJSON(stdout, res)
	}
	t := texttable.New(stdout)
	t.Header("workload", "norm", "width", "batch", "images/s (median)", "GFLOP/s", "peak RSS MiB", "kernel")
	t.Append(res.Workload, res.Norm, fmt.Sprint(res.Width), fmt.Sprint(res.Batch), fmt.Sprintf("%.1f", res.Median),
		fmt.Sprintf("%.1f", res.GFLOPs), fmt.Sprintf("%.0f", res.PeakRSSMiB), res.GEMMKernel)
	return t.Render()
}

// peakRSSMiB returns the process's peak resident set size (Linux reports
// ru_maxrss in KiB).
func peakRSSMiB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024
}
