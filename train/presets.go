package train

import (
	"fmt"
	"maps"
	"slices"
)

// PresetSpec is everything a preset fixes, in one place: the training
// configuration, the sizes a reproduction evaluates and analyses, and what
// a reproduction cell of it costs.
type PresetSpec struct {
	Config Config
	// EvalN is the number of test images a reproduction cell evaluates
	// (0: the whole test set) and GradN the number its gradient
	// statistics analyse.
	EvalN, GradN int
	// Cost is a reproduction cell's measured or estimated compute.
	Cost Cost
}

// Cost is what one reproduction cell (train, evaluate both branches,
// gradient statistics) needs.
type Cost struct {
	// CPUHours of a whole cell on the machine Measured names.
	CPUHours float64
	// CPUs a task requests, and its memory in MiB (peak RSS with headroom).
	CPUs   int
	MemMiB int
	// Measured says where the figure comes from.
	Measured string
}

// presets are the named presets. Every field is set: TestPresetTable
// checks it.
var presets = map[string]PresetSpec{
	// smoke proves the machinery in seconds: tests and CI.
	"smoke": {
		Config: Config{
			Preset: "smoke", Norm: "saauxbn", Width: 1.0 / 16, Objective: "advprop", Seed: 1,
			ValFraction: 0.1, SplitSeed: 10, TrainN: 256, ValN: 64, TestN: 64, Augment: true,
			Epochs: 2, Batch: 64, LastBatch: "keep", LR: 0.1, Momentum: 0.9, WeightDecay: 5e-4, Milestones: []int{1}, LRDecay: 0.1, WarmupIters: 4,
			TrainSteps: 3, Eps: 8.0 / 255, Step: 2.0 / 255, AttackMode: "train", EvalSteps: 3,
			SaveEvery: 1, SaveSteps: 2,
		},
		EvalN: 256, GradN: 128,
		Cost: Cost{CPUHours: 2 * 12.0 / 3600, CPUs: 2, MemMiB: 512, Measured: "a smoke cell: ~12 s wall on 2 cores of an AMD EPYC (AVX2), peak RSS < 200 MiB"},
	},
	// ci is the regression gate's run: small enough that four norms train
	// and evaluate in minutes on 2 cores, large enough to learn (a
	// width-1/8 network, 2048 images, 4 epochs, PGD-5), so that a broken
	// norm shows in SA and RA.
	"ci": {
		Config: Config{
			Preset: "ci", Norm: "saauxbn", Width: 0.125, Objective: "advprop", Seed: 1,
			ValFraction: 0.1, SplitSeed: 10, TrainN: 2048, ValN: 128, TestN: 128, Augment: true,
			Epochs: 4, Batch: 64, LastBatch: "keep", LR: 0.1, Momentum: 0.9, WeightDecay: 5e-4, Milestones: []int{3}, LRDecay: 0.1, WarmupIters: 32,
			TrainSteps: 5, Eps: 8.0 / 255, Step: 2.0 / 255, AttackMode: "train", EvalSteps: 5,
			SaveEvery: 0, SaveSteps: 0,
		},
		EvalN: 500, GradN: 128,
		Cost: Cost{CPUHours: 2 * 90.0 / 3600, CPUs: 2, MemMiB: 1024, Measured: "a ci cell on CIFAR-10: ~90 s wall on 2 cores of an AMD EPYC (AVX2), peak RSS < 400 MiB"},
	},
	// quick is real CIFAR-10 on a 2-core CPU in under a quarter of an hour
	// per norm (measured on the slowest machine seen, an AVX2 AMD EPYC: see
	// docs/training.md): a quarter-width network, 4000 training images, the
	// paper's PGD-10, its milestones scaled to 6 epochs (50/200 and 150/200
	// of 6, rounded) and the warm-up to one epoch's 31 iterations.
	"quick": {
		Config: Config{
			Preset: "quick", Norm: "saauxbn", Width: 0.25, Objective: "advprop", Seed: 1,
			ValFraction: 0.1, SplitSeed: 10, TrainN: 4000, ValN: 256, TestN: 256, Augment: true,
			Epochs: 6, Batch: 128, LastBatch: "keep", LR: 0.1, Momentum: 0.9, WeightDecay: 5e-4, Milestones: []int{2, 5}, LRDecay: 0.1, WarmupIters: 31,
			TrainSteps: 10, Eps: 8.0 / 255, Step: 2.0 / 255, AttackMode: "train", EvalSteps: 10,
			SaveEvery: 2, SaveSteps: 10,
		},
		EvalN: 1000, GradN: 512,
		Cost: Cost{CPUHours: 2 * 15.0 / 60, CPUs: 2, MemMiB: 1024, Measured: "a quick cell on CIFAR-10: training 11 min 45 s (peak RSS 558 MiB) plus ~3 min evaluation, on 2 cores of an AMD EPYC (AVX2)"},
	},
	// landscape is the loss-landscape study's (reproduce --landscape): the
	// quick network and data for 4 epochs at the largest learning rate the
	// network without normalization (`none`) sustains, held constant after
	// the one-epoch warm-up (Santurkar et al. compare norms at one fixed
	// rate), probing every 8th step. The rate was measured with 2-epoch
	// quick-size `none` runs at increasing rates (docs/training.md).
	"landscape": {
		Config: Config{
			Preset: "landscape", Norm: "none", Width: 0.25, Objective: "advprop", Seed: 1,
			ValFraction: 0.1, SplitSeed: 10, TrainN: 4000, ValN: 256, TestN: 256, Augment: true,
			Epochs: 4, Batch: 128, LastBatch: "keep", LR: LandscapeLR, Momentum: 0.9, WeightDecay: 5e-4, Milestones: []int{}, LRDecay: 0.1, WarmupIters: 31,
			TrainSteps: 10, Eps: 8.0 / 255, Step: 2.0 / 255, AttackMode: "train", EvalSteps: 10,
			SaveEvery: 2, SaveSteps: 10, LandscapeEvery: 8,
		},
		EvalN: 500, GradN: 256,
		Cost: Cost{CPUHours: 0.25, CPUs: 2, MemMiB: 1024, Measured: "a landscape cell on CIFAR-10: 14.6 CPU-minutes (the 4-norm study took 58 min of CPU, 1 h 23 min wall with the 2 cores of an AMD EPYC Zen 4 shared with other work); probes added 24-26% to the training steps' time"},
	},
	// paper is the paper's recipe: width 1, the whole 45k/5k split, 200
	// epochs, milestones 50 and 150, PGD-10, a checkpoint every 10 epochs.
	// Its cost is estimated from measured throughputs (paperCost).
	"paper": {
		Config: paperConfig,
		EvalN:  0, GradN: 1024,
		Cost: paperCost(),
	},
}

// LandscapeLR is the landscape preset's learning rate: the largest rate,
// doubling from the paper's 0.1, at which quick-size `none` training (2
// epochs, no milestones, the one-epoch warm-up) learned: at 0.1 the
// training loss fell from 2.311 to 2.260 and validation SA reached 21.5%;
// at 0.2 it stayed at chance (2.307, 2.306; SA 11.3%). docs/training.md
// has the commands.
const LandscapeLR = 0.1

var paperConfig = Config{
	Preset: "paper", Norm: "saauxbn", Width: 1, Objective: "advprop", Seed: 1,
	ValFraction: 0.1, SplitSeed: 10, TrainN: 0, ValN: 0, TestN: 0, Augment: true,
	Epochs: 200, Batch: 128, LastBatch: "keep", LR: 0.1, Momentum: 0.9, WeightDecay: 5e-4, Milestones: []int{50, 150}, LRDecay: 0.1, WarmupIters: 200,
	TrainSteps: 10, Eps: 8.0 / 255, Step: 2.0 / 255, AttackMode: "train", EvalSteps: 10,
	SaveEvery: 10, SaveSteps: 10,
}

// PresetNames returns the preset names, sorted.
func PresetNames() []string {
	return slices.Sorted(maps.Keys(presets))
}

// LookupPreset returns the named preset's whole specification.
func LookupPreset(name string) (PresetSpec, error) {
	p, ok := presets[name]
	if !ok {
		return PresetSpec{}, fmt.Errorf("train: unknown preset %q (known: %v)", name, PresetNames())
	}
	p.Config.Milestones = slices.Clone(p.Config.Milestones)
	return p, nil
}

// Preset returns a copy of the named preset's training configuration.
func Preset(name string) (Config, error) {
	p, err := LookupPreset(name)
	return p.Config, err
}
