package train

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/advbench/advbench/attack"
	"github.com/advbench/advbench/data/cifar"
	"github.com/advbench/advbench/data/loader"
	"github.com/advbench/advbench/internal/classify"
	"github.com/advbench/advbench/models/resnet"
	"github.com/advbench/advbench/nn"
)

// BranchMetrics is one branch's validation in evaluation mode: standard
// accuracy and robust accuracy under PGD (Config.EvalSteps steps), as
// fractions.
type BranchMetrics struct {
	SA float64 `json:"sa"`
	RA float64 `json:"ra"`
}

// Validation is the per-epoch evaluation of a run.
type Validation struct {
	Clean BranchMetrics `json:"clean"`
	Adv   BranchMetrics `json:"adv"`
}

// TestLosses are the paper's Fig. 6 quantities on the test subset:
// L(f_clean(x)) and L(f_adv(x_adv)), x_adv from PGD on the adversarial
// branch, both in evaluation mode; batch means of the cross-entropy.
type TestLosses struct {
	Clean float64 `json:"clean_loss"`
	Adv   float64 `json:"adv_loss"`
}

// String says "test loss clean C adv A", or "no test set" for nil.
func (l *TestLosses) String() string {
	if l == nil {
		return "no test set"
	}
	return fmt.Sprintf("test loss clean %.4f adv %.4f", l.Clean, l.Adv)
}

// Streams of the evaluation randomness (fixed across epochs, so epochs are
// compared on the same random starts).
const (
	valSeedOffset  = 0x7661 // "va"
	testLossStream = 0x746c // "tl"
)

// evalAttack is the per-epoch PGD: the training eps and step, EvalSteps
// steps, random start.
func evalAttack(c Config) *attack.PGD {
	o := attack.DefaultOptions()
	o.Eps, o.Step = c.Eps, c.Step
	return attack.NewPGD(c.EvalSteps, o)
}

// batchesOf returns the evaluation batches of ds in order, stopping with
// ctx's error once it is cancelled.
func batchesOf(ctx context.Context, ds *cifar.Dataset, batch int) attack.Batches {
	return func(fn func(x []float32, y []int) error) error {
		l, err := loader.New(ds, loader.Config{BatchSize: batch})
		if err != nil {
			return err
		}
		return l.Epoch(0, 0, func(_ int, b *loader.Batch) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return fn(b.X, b.Y)
		})
	}
}

// validate measures SA and PGD RA of each branch on the validation part.
// A single-branch network is evaluated once: both branches are that network.
func validate(ctx context.Context, m *resnet.Model, c Config, val *cifar.Dataset) (Validation, error) {
	var v Validation
	a := evalAttack(c)
	for _, b := range []nn.Branch{nn.Clean, nn.Adv} {
		if b == nn.Adv && m.Branches() == 1 {
			v.Adv = v.Clean
			break
		}
		r, err := attack.Evaluate(m, batchesOf(ctx, val, c.Batch), []attack.Attack{a},
			attack.EvalConfig{Setting: attack.Setting{Branch: b, Mode: nn.Eval}, Seed: c.Seed + valSeedOffset})
		if err != nil {
			return v, err
		}
		bm := BranchMetrics{SA: r.SA, RA: r.Attacks[0].RA}
		if b == nn.Clean {
			v.Clean = bm
		} else {
			v.Adv = bm
		}
	}
	return v, nil
}

// testLosses computes the clean and adversarial test losses.
func testLosses(ctx context.Context, m *resnet.Model, c Config, test *cifar.Dataset) (TestLosses, error) {
	var sumClean, sumAdv float64
	a := evalAttack(c)
	rng := rand.New(rand.NewPCG(c.Seed, testLossStream))
	adv := attack.Setting{Branch: nn.Adv, Mode: nn.Eval}
	err := batchesOf(ctx, test, c.Batch)(func(x []float32, y []int) error {
		logits, err := m.Logits(x, nn.Clean, nn.Eval)
		if err != nil {
			return err
		}
		sumClean += crossEntropySum(logits, y)
		xAdv, err := a.Run(m, x, y, adv, rng)
		if err != nil {
			return err
		}
		if logits, err = m.Logits(xAdv, nn.Adv, nn.Eval); err != nil {
			return err
		}
		sumAdv += crossEntropySum(logits, y)
		return nil
	})
	n := float64(test.Len())
	return TestLosses{Clean: sumClean / n, Adv: sumAdv / n}, err
}

// crossEntropySum returns Σ_i −log softmax(z_i)[y_i] over the rows of
// logits, in float64.
func crossEntropySum(logits []float32, y []int) float64 {
	k := len(logits) / len(y)
	s := 0.0
	for i, label := range y {
		s += classify.CrossEntropy(logits[i*k:(i+1)*k], label)
	}
	return s
}

// correct counts the rows of logits whose arg-max is the label.
func correct(logits []float32, y []int) int {
	k := len(logits) / len(y)
	n := 0
	for i, label := range y {
		if classify.Argmax(logits[i*k:(i+1)*k]) == label {
			n++
		}
	}
	return n
}
