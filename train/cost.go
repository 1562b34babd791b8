package train

import "fmt"

// Rates are the throughputs one cell's work is made of, in images per
// second on the CPUs a task gets, as 'advbench bench' measures them at one
// width (batch 128): a forward pass (--workload forward), one PGD step, a
// forward and a backward pass to the input (pgd-step), and one AdvProp
// training iteration with its PGD attack (advprop-iter --train-steps K).
type Rates struct {
	Forward, PGDStep, AdvPropIter float64
	// Machine names where they were measured.
	Machine string
}

// Estimate is the wall time of one cell, split by what takes it.
type Estimate struct {
	// Train is the training iterations; EpochEval the evaluation every
	// epoch runs (validation SA and PGD RA of each branch, and the test
	// losses: a clean and a PGD pass over the test subset); FinalEval the
	// cell's evaluation of both branches with PGD-10 and PGD-20.
	Train, EpochEval, FinalEval float64 // hours
}

// Hours is the cell's whole wall time.
func (e Estimate) Hours() float64 { return e.Train + e.EpochEval + e.FinalEval }

// CIFAR-10's sizes, which a configuration's 0 ("all") stands for.
const (
	cifarTrain = 50000
	cifarTest  = 10000
)

// EstimateCell returns the wall time of a reproduction cell of c (a
// dual-branch norm: both branches validated and evaluated) on CIFAR-10,
// evaluating evalN test images (0: all) at the end, from rates measured at
// c's width. A PGD-k evaluation of an image costs two forward passes (clean
// and final) and k steps.
func EstimateCell(c Config, evalN int, r Rates) (Estimate, error) {
	if !(r.Forward > 0 && r.PGDStep > 0 && r.AdvPropIter > 0) {
		return Estimate{}, fmt.Errorf("train: rates must be positive: %+v", r)
	}
	valAll := int(c.ValFraction * cifarTrain)
	trainN, valN, testN := orAll(c.TrainN, cifarTrain-valAll), orAll(c.ValN, valAll), orAll(c.TestN, cifarTest)
	evalN = orAll(evalN, cifarTest)
	pgd := func(steps int) float64 { return 2/r.Forward + float64(steps)/r.PGDStep } // seconds per image
	const branches = 2
	epochs := float64(c.Epochs)
	e := Estimate{
		Train:     epochs * float64(trainN) / r.AdvPropIter,
		EpochEval: epochs * (branches*float64(valN) + float64(testN)) * pgd(c.EvalSteps),
		// SA, then PGD-10 and PGD-20 each with their final forward pass.
		FinalEval: branches * float64(evalN) * (3/r.Forward + 30/r.PGDStep),
	}
	e.Train, e.EpochEval, e.FinalEval = e.Train/3600, e.EpochEval/3600, e.FinalEval/3600
	return e, nil
}

func orAll(n, all int) int {
	if n == 0 {
		return all
	}
	return n
}

// paperRates are the throughputs of a width-1 network (batch 128, bn) on 2
// cores of the machine they name, from 'advbench bench --width 1
// --workload forward|pgd-step|advprop-iter'.
var paperRates = Rates{Forward: 33.6, PGDStep: 15.4, AdvPropIter: 1.48,
	Machine: "a 2-core AMD EPYC Zen 4 VM (family 25 model 17, AVX-512; medians of 2 interleaved rounds on 2026-12-03, while other jobs kept the load average at 6-7, so the hours are an upper bound)"}

// paperCost is the paper preset's cell cost: EstimateCell of the paper
// configuration at paperRates (a dual-branch norm; bn and ModeNorm validate
// one branch and cost less), 2 CPUs.
func paperCost() Cost {
	e, err := EstimateCell(paperConfig, 0, paperRates)
	if err != nil {
		panic(err) // paperRates is a constant of this file
	}
	return Cost{CPUHours: 2 * e.Hours(), CPUs: 2, MemMiB: 3072,
		Measured: fmt.Sprintf("estimated from throughputs measured at width 1 on %s (forward %.1f, PGD step %.2f, AdvProp iteration %.2f images/s; peak RSS 1.3 GiB): training %.0f h, per-epoch validation and test losses %.0f h, final evaluation %.1f h",
			paperRates.Machine, paperRates.Forward, paperRates.PGDStep, paperRates.AdvPropIter, e.Train, e.EpochEval, e.FinalEval)}
}
