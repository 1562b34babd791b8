// Package attack generates L-inf adversarial examples (PGD with restarts and
// a per-example worst case, FGSM) against any classifier that can report a
// loss and its gradient with respect to the input, and evaluates standard
// and robust accuracy with per-example results and built-in sanity checks.
//
// It depends only on the small Model interface defined here (the ResNet
// satisfies it; tests also use an analytic linear classifier whose optimal
// attack is known in closed form). Pixel values live in [0,1]; every attack
// keeps x_adv inside both the eps-ball around x and [0,1].
//
// Lessons built in, from users of RobustBench, AutoAttack and torchattacks:
// a model attacked in training mode silently corrupts robust accuracy (a
// warning); the worst case is taken per example, not per batch (an example
// is robust only if it survives every restart and every attack); short PGD
// overstates robustness (pgd-20 next to pgd-10, and an accuracy-vs-eps sweep
// that must fall toward zero); accuracies are fractions in [0,1] with the
// example count beside them.
//
// # Usage
//
// Any classifier that implements Model (the ResNet of models/resnet does)
// is attacked by name; Evaluate runs every attack on every batch and
// returns the accuracies, the per-example flags and the sanity checks as
// data (the runnable Example attacks a linear model whose optimum is
// known):
//
//	pgd, err := attack.New("pgd-20", attack.DefaultOptions()) // eps 8/255, step 2/255
//	if err != nil { ... }
//	res, err := attack.Evaluate(model, batches, []attack.Attack{pgd},
//		attack.EvalConfig{Setting: attack.Setting{Branch: nn.Adv, Mode: nn.Eval}, Seed: 0})
//	if err != nil { ... }
//	fmt.Println(res.SA, res.Attacks[0].RA, res.Warnings)
//
// Names lists the registered attacks; each attack's doc cites its paper.
package attack
