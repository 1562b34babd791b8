package train

import (
	"fmt"
	"math"
	"slices"

	"github.com/advbench/advbench/data/loader"
	"github.com/advbench/advbench/models/resnet"
	"github.com/advbench/advbench/nn"
	"github.com/advbench/advbench/norms"
)

// Config is a training run's complete configuration: what config.json
// records and what a resumed run is checked against. Start from a preset
// (Preset) and override fields; Validate reports what cannot run.
type Config struct {
	// Preset names the preset the run started from (informational).
	Preset string `json:"preset"`
	// Norm is the norms registry name used in all 16 slots.
	Norm string `json:"norm"`
	// Width is the network's width multiplier (1: 64/128/256/512 channels).
	Width float64 `json:"width"`
	// Objective is advprop, madry or clean (see Objectives).
	Objective string `json:"objective"`
	// Seed seeds the initial weights, the shuffling, the augmentation and
	// the attacks' random starts.
	Seed uint64 `json:"seed"`

	// Data is a CIFAR-10 directory or file, or "" / "builtin" for the
	// built-in synthetic data.
	Data string `json:"data"`
	// ValFraction of the training set is held out for validation before
	// any subset is taken (0.1: the reference 45k/5k split).
	ValFraction float64 `json:"val_fraction"`
	// SplitSeed seeds the train/validation split, numpy's legacy
	// np.random.seed (0..2^32-1; the reference uses 10): the first
	// floor(ValFraction·n) indices of the seeded shuffle of range(n) are
	// the validation part, as in the reference code.
	SplitSeed uint64 `json:"split_seed"`
	// TrainN, ValN and TestN take the first n images of the training part,
	// the validation part and the test set; 0 takes all.
	TrainN int `json:"train_n"`
	ValN   int `json:"val_n"`
	TestN  int `json:"test_n"`
	// Augment applies the reference random crop (padding 4) and flip.
	Augment bool `json:"augment"`

	// Epochs, Batch: the length of the run and the batch size.
	Epochs int `json:"epochs"`
	Batch  int `json:"batch"`
	// LastBatch is what an epoch does with its final partial batch:
	// "keep" trains on it, as the reference loader does (45,000 images in
	// batches of 128: 352 iterations, the last of 72 images); "drop" skips
	// it. "" reads as "drop", what runs made before this field did.
	LastBatch string `json:"last_batch"`
	// LR, Momentum, WeightDecay: SGD with PyTorch's semantics; weight decay
	// applies to every parameter.
	LR          float64 `json:"lr"`
	Momentum    float64 `json:"momentum"`
	WeightDecay float64 `json:"weight_decay"`
	// Milestones are the epochs from which the learning rate is multiplied
	// by LRDecay once more (the reference: 50, 150 with 0.1).
	Milestones []int   `json:"milestones"`
	LRDecay    float64 `json:"lr_decay"`
	// WarmupIters: in epoch 0 the learning rate at iteration i is
	// min(0.01 + i·(LR−0.01)/WarmupIters, LR), the reference warm-up with
	// 200; 0 turns the warm-up off.
	WarmupIters int `json:"warmup_iters"`

	// TrainSteps, Eps, Step: the training attack, L-inf PGD from a random
	// start x + U(−eps, eps) that is not clamped (the reference code).
	TrainSteps int     `json:"train_steps"`
	Eps        float64 `json:"eps"`
	Step       float64 `json:"step"`
	// AttackMode is the mode of the training attack's statistics: "train"
	// (the reference code: batch statistics, the attacked branch's running
	// statistics updated by every step) or "eval".
	AttackMode string `json:"attack_mode"`
	// AttackPrecision is the precision of the training attack's and the
	// validation attack's steps (nn.Precision's names; "" is fp32): their
	// forward passes and input gradients, never the training passes or
	// the validation's final classifications.
	AttackPrecision string `json:"attack_precision,omitempty"`
	// EvalSteps is the PGD length of the per-epoch validation (eval mode).
	EvalSteps int `json:"eval_steps"`

	// SaveEvery: checkpoints/epoch-NNN.safetensors after every epoch NNN
	// (0-based) that is a positive multiple of SaveEvery, as the
	// reference's model_epochNNN.pt; 0 writes none.
	SaveEvery int `json:"save_every"`
	// SaveSteps: checkpoints/last.safetensors is also written every
	// SaveSteps steps inside an epoch (always at the end of one); 0 writes
	// it at epoch ends only.
	SaveSteps int `json:"save_steps"`

	// LandscapeEvery probes the loss landscape along the step's own
	// gradient (package landscape) at every global step that is a multiple
	// of it, step 0 included, into landscape.jsonl; 0 (the default) probes
	// nothing. Probing never changes what the run computes.
	// DefaultLandscapeEvery keeps a quick-size run within 25% more time.
	LandscapeEvery int `json:"landscape_every,omitempty"`
}

// DefaultLandscapeEvery is the probe interval that keeps a quick-size
// AdvProp run within 25% more time. A probe (two losses, each at 5 step
// sizes plus the gradient shift of 4 layers: 18 forward-backward passes
// over every parameter) measured 2.3 times a quick-size AdvProp step (PGD-10
// and two passes; BenchmarkLandscapeOverhead, 2 loaded cores of an AMD
// EPYC), so probing every 12th step adds 2.3/12 ≈ 19% to the steps' time,
// less to the run's (its evaluations are not probed). A clean-objective
// step, with no attack, is cheaper: its probe measured 13.5 steps, so 64
// keeps such a run within 25%.
const DefaultLandscapeEvery = 12

// StepsPerEpoch is the number of training steps of an epoch of the run:
// its training examples in batches, the final partial batch counted as
// Config.LastBatch says.
func (r Record) StepsPerEpoch() int {
	n, b := r.Data.Train, r.Config.Batch
	if r.Config.lastBatch() == loader.DropLast {
		return n / b
	}
	return (n + b - 1) / b
}

// InitialModel returns the configuration's network at initialisation,
// the weights a run starts from (W_0, which a landscape probe measures
// distances from).
func (c Config) InitialModel() (*resnet.Model, error) {
	p, err := c.attackPrecision()
	if err != nil {
		return nil, err
	}
	m, err := resnet.New(resnet.Config{Norm: c.Norm, Width: c.Width, Seed: c.Seed})
	if err != nil {
		return nil, err
	}
	m.SetAttackPrecision(p)
	return m, nil
}

// attackPrecision parses AttackPrecision ("" is fp32).
func (c Config) attackPrecision() (nn.Precision, error) {
	if c.AttackPrecision == "" {
		return nn.FP32, nil
	}
	return nn.ParsePrecision(c.AttackPrecision)
}

// LastBatchPolicies are the values of Config.LastBatch.
var LastBatchPolicies = []string{"keep", "drop"}

// lastBatch returns the loader's policy for c.LastBatch.
func (c Config) lastBatch() loader.LastBatch {
	if c.LastBatch == "keep" {
		return loader.KeepLast
	}
	return loader.DropLast
}

// AttackModes are the values of Config.AttackMode.
var AttackModes = []string{"train", "eval"}

// Validate reports the first field that cannot run, naming it and its value.
func (c Config) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &ConfigError{Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	if !slices.Contains(norms.Names(), c.Norm) {
		return bad("norm", "norm %q: want one of %v", c.Norm, norms.Names())
	}
	if _, ok := objectives[c.Objective]; !ok {
		return bad("objective", "objective %q: want one of %v", c.Objective, ObjectiveNames())
	}
	if !slices.Contains(AttackModes, c.AttackMode) {
		return bad("attack_mode", "attack mode %q: want train or eval", c.AttackMode)
	}
	if _, err := c.attackPrecision(); err != nil {
		return bad("attack_precision", "%v", err)
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case !(c.Width > 0) || !finite(c.Width):
		return bad("width", "width %v must be a positive number", c.Width)
	case c.Width > MaxWidth:
		return bad("width", "width %v: at most %v (the paper trains width 1; width 4 has 16 times its parameters and activations, and more only exhausts memory)", c.Width, MaxWidth)
	case !(c.ValFraction > 0 && c.ValFraction < 1):
		return bad("val_fraction", "validation fraction %v must be in (0, 1)", c.ValFraction)
	case c.SplitSeed > math.MaxUint32:
		return bad("split_seed", "split seed %d: numpy's legacy seeding, which the split reproduces, takes 0..%d", c.SplitSeed, uint64(math.MaxUint32))
	case c.TrainN < 0 || c.ValN < 0 || c.TestN < 0:
		return bad(negativeSubset(c), "subset sizes must not be negative (train %d, val %d, test %d)", c.TrainN, c.ValN, c.TestN)
	case c.Epochs < 1:
		return bad("epochs", "epochs %d must be at least 1", c.Epochs)
	case c.Batch < 1:
		return bad("batch", "batch %d must be at least 1", c.Batch)
	case !slices.Contains(LastBatchPolicies, c.LastBatch) && c.LastBatch != "":
		return bad("last_batch", "last-batch policy %q: want keep or drop", c.LastBatch)
	case !(c.LR > 0) || !finite(c.LR):
		return bad("lr", "learning rate %v must be positive", c.LR)
	case !(c.Momentum >= 0 && c.Momentum < 1):
		return bad("momentum", "momentum %v must be in [0, 1)", c.Momentum)
	case !(c.WeightDecay >= 0) || !finite(c.WeightDecay):
		return bad("weight_decay", "weight decay %v must be non-negative", c.WeightDecay)
	case !(c.LRDecay > 0 && c.LRDecay <= 1):
		return bad("lr_decay", "lr decay %v must be in (0, 1]", c.LRDecay)
	case c.WarmupIters < 0:
		return bad("warmup_iters", "warm-up iterations %d must not be negative", c.WarmupIters)
	case c.TrainSteps < 1 && c.Objective != "clean":
		return bad("train_steps", "train steps %d must be at least 1 for the %s objective", c.TrainSteps, c.Objective)
	case !(c.Eps >= 0 && c.Eps <= 1) || !(c.Step >= 0 && c.Step <= 1):
		return bad(epsOrStep(c), "eps %v and step %v must be in [0, 1]", c.Eps, c.Step)
	case c.EvalSteps < 1:
		return bad("eval_steps", "eval steps %d must be at least 1", c.EvalSteps)
	case c.SaveEvery < 0 || c.SaveSteps < 0:
		return bad(saveField(c), "save intervals must not be negative (every %d epochs, %d steps)", c.SaveEvery, c.SaveSteps)
	case c.LandscapeEvery < 0:
		return bad("landscape_every", "landscape interval %d must not be negative (0 probes nothing)", c.LandscapeEvery)
	}
	for i, m := range c.Milestones {
		if m < 1 || (i > 0 && m <= c.Milestones[i-1]) {
			return bad("milestones", "milestones %v must be increasing epochs of at least 1", c.Milestones)
		}
	}
	return nil
}

// MaxWidth bounds Config.Width (see resnet.MaxWidth).
const MaxWidth = resnet.MaxWidth

// ConfigError reports a configuration field out of range. Field is the
// field's JSON name in config.json.
type ConfigError struct {
	Field string
	Msg   string
}

func (e *ConfigError) Error() string { return "train: " + e.Msg }

func negativeSubset(c Config) string {
	switch {
	case c.TrainN < 0:
		return "train_n"
	case c.ValN < 0:
		return "val_n"
	}
	return "test_n"
}

func epsOrStep(c Config) string {
	if !(c.Eps >= 0 && c.Eps <= 1) {
		return "eps"
	}
	return "step"
}

func saveField(c Config) string {
	if c.SaveEvery < 0 {
		return "save_every"
	}
	return "save_steps"
}

// LearningRate returns the learning rate of iteration iter of epoch epoch:
// the warm-up in epoch 0, then LR times LRDecay once per milestone reached
// (PyTorch's MultiStepLR stepped once per epoch).
//
// The reference code chains MultiStepLR onto the warm-up's last value, so
// when epoch 0 has fewer than WarmupIters iterations it keeps training at the
// unfinished warm-up rate; here epoch 1 starts at LR. With the paper's data
// (352 iterations per epoch, warm-up 200) the two agree.
func (c Config) LearningRate(epoch, iter int) float64 {
	if epoch == 0 && c.WarmupIters > 0 {
		return math.Min(0.01+float64(iter)*(c.LR-0.01)/float64(c.WarmupIters), c.LR)
	}
	lr := c.LR
	for _, m := range c.Milestones {
		if epoch >= m {
			lr *= c.LRDecay
		}
	}
	return lr
}
